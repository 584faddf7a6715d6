"""The bound stated before requests that are not safe comes from the search plan, and it is honest."""

from __future__ import annotations

import math
import re

import pytest
from click.testing import CliRunner

from reqbisect import abisect
from reqbisect.budget import SPECULATION, configurations, plan_bound, split_depth
from reqbisect.cli import cli
from reqbisect.formats import load_request
from reqbisect.mode import Mode
from reqbisect.plan import make_plan
from reqbisect.search import Space

from .conftest import case_file, case_names, case_route, load_case_app, serve
from .test_cases import case_hook

#: The command line's default concurrency, which the prompt's bound is computed for.
CONCURRENCY = 8


@pytest.mark.parametrize("name", case_names())
async def test_the_bound_covers_each_case_and_is_at_most_four_times_what_it_sends(name: str) -> None:
    good, bad = load_request(case_file(name, "good")), load_request(case_file(name, "bad"))
    plan = make_plan(Mode.FIX, good.document, bad.document)
    bound = plan_bound(plan.space, concurrency=CONCURRENCY).total
    result = await abisect(
        good, bad, **case_route(name), concurrency=CONCURRENCY, prepare=case_hook(name), max_requests=bound
    )
    assert result.outcome == "found"  # within the bound, used as the budget
    # Loose by at most 4x against the questions the run answered: a candidate whose request is one
    # already sent (over HTTP/2 header spellings are not sent) is answered without sending, which no
    # bound can know before sending.
    asked = result.stats.requests + result.stats.cache_hits
    assert result.stats.requests <= bound <= 4 * asked


def test_split_depth_follows_the_tree_not_only_its_size() -> None:
    assert split_depth(Space.flat(1)) == 0
    assert split_depth(Space.flat(2)) == 1
    assert split_depth(Space.flat(1024)) == 10
    # One added container holding 7 changes beside one flat change: the cut falls at the container.
    nested = Space(parents=(None, 0, 0, 0, 0, 0, 0, 0, None), paths=tuple(("a", i) for i in range(8)) + (("b",),))
    assert split_depth(nested) >= 3


def test_on_a_small_space_the_bound_is_no_more_than_every_configuration() -> None:
    assert [configurations(Space.flat(n), cap=10**6) for n in (1, 2, 3, 10)] == [2, 4, 8, 1024]
    nested = Space(parents=(None, 0, 0, None), paths=(("a",), ("a", 0), ("a", 1), ("b",)))
    assert configurations(nested, cap=100) == (1 + 2 * 2) * 2  # a child only inside its container
    assert configurations(Space.flat(400), cap=50) == 50
    one = plan_bound(Space.flat(1), concurrency=CONCURRENCY)
    assert one.search == 2 and one.total == one.baselines + 2 + one.verification
    assert plan_bound(Space.flat(3), concurrency=CONCURRENCY, repeat=3).search == 8 * 3
    # Past a handful of changes the derivation is the smaller number again.
    assert plan_bound(Space.flat(64), concurrency=CONCURRENCY).search == math.ceil(SPECULATION * (2 * (6 + 3) + 1))


def test_without_a_terminal_a_not_safe_method_is_refused_with_the_plan_bound() -> None:
    name = "login-form"
    good, bad = case_file(name, "good"), case_file(name, "bad")
    plan = make_plan(Mode.FIX, load_request(good).document, load_request(bad).document)
    expected = plan_bound(plan.space, concurrency=CONCURRENCY).total
    with serve(load_case_app(name)) as served:
        result = CliRunner().invoke(cli, ["run", str(good), str(bad), "--target", served.url])
        assert served.counter.received == []  # nothing was sent
    assert result.exit_code == 2
    assert "POST is not a safe method" in result.stderr and "may change state on the server" in result.stderr
    assert "not idempotent" not in result.stderr
    stated = re.search(r"up to (\d+) requests", result.stderr)
    assert stated is not None and int(stated.group(1)) == expected
    assert "--yes" in result.stderr


def test_with_yes_the_bound_is_the_budget() -> None:
    name = "login-form"
    good, bad = case_file(name, "good"), case_file(name, "bad")
    with serve(load_case_app(name)) as served:
        result = CliRunner().invoke(cli, ["run", str(good), str(bad), "--target", served.url, "--yes"])
        sent = len(served.counter.received)
    assert result.exit_code == 0, result.stderr
    limit = re.search(r"sending at most (\d+) requests", result.stderr)
    assert limit is not None and sent <= int(limit.group(1)) <= 4 * sent
