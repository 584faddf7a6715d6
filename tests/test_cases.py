"""Every case in cases/ finds exactly its expected patch, within its request ceiling."""

from __future__ import annotations

from typing import Any

import jsonpatch
import pytest

from reqbisect import abisect
from reqbisect.diff import diff
from reqbisect.hooks import load_hook

from .conftest import CASES as CASES_DIR
from .conftest import case_expected, case_file, case_names, case_route, load_case_app

CASES = case_names()


def case_hook(name: str) -> Any:
    """The case's per-request hook (``"hook": "file.py:function"`` in expected.json), or None."""
    spec = case_expected(name).get("hook")
    return load_hook(f"{CASES_DIR / name}/{spec}") if spec else None


def test_the_required_cases_exist() -> None:
    assert {"billing-header", "waf-header", "version-unlock", "cookie-jar", "deep-messages",
            "login-form", "large-body"} <= set(CASES)


@pytest.mark.parametrize("name", CASES)
async def test_fix_mode_finds_the_expected_patch(name: str) -> None:
    expected = case_expected(name)
    result = await abisect(
        case_file(name, "good"), case_file(name, "bad"), **case_route(name), mode="fix", concurrency=8,
        prepare=case_hook(name),
    )
    assert result.patch == expected["patch"]
    assert result.outcome == "found" and result.verified and result.minimal
    assert result.stats.requests <= expected["max_requests"]
    assert jsonpatch.apply_patch(result.minimal_bad, result.patch) == result.minimal_good


BREAK_CASES = [name for name in CASES if "break" in case_expected(name).get("modes", {})]


def test_break_is_covered_by_at_least_three_cases() -> None:
    assert len(BREAK_CASES) >= 3


@pytest.mark.parametrize("name", BREAK_CASES)
async def test_break_mode_finds_the_expected_patch(name: str) -> None:
    expected = case_expected(name)["modes"]["break"]
    result = await abisect(
        case_file(name, "good"), case_file(name, "bad"), **case_route(name), mode="break",
        prepare=case_hook(name),
    )
    assert result.patch == expected["patch"]
    assert result.outcome == "found" and result.verified and result.minimal
    assert jsonpatch.apply_patch(result.minimal_good, result.patch) == result.minimal_bad


#: Single-cause cases: isolate must end one change apart, and that change is the fix.
ISOLATE_CASES = ["waf-header", "cookie-jar", "deep-messages", "large-body", "header-case", "http2-only"]


@pytest.mark.parametrize("name", ISOLATE_CASES)
async def test_isolate_mode_ends_one_change_apart(name: str) -> None:
    expected = case_expected(name)
    result = await abisect(
        case_file(name, "good"), case_file(name, "bad"), **case_route(name), mode="isolate",
        prepare=case_hook(name),
    )
    assert result.outcome == "found" and result.verified and result.minimal
    assert len(diff(result.minimal_bad, result.minimal_good).changes) == 1
    assert jsonpatch.apply_patch(result.minimal_bad, result.patch) == result.minimal_good
    assert [op["path"] for op in result.patch] == [op["path"] for op in expected["patch"]]
    assert [op.get("value") for op in result.patch] == [op.get("value") for op in expected["patch"]]


@pytest.mark.parametrize("concurrency", [1, 3, 16])
async def test_result_does_not_depend_on_concurrency(concurrency: int) -> None:
    name = "version-unlock"
    result = await abisect(
        case_file(name, "good"), case_file(name, "bad"), app=load_case_app(name), concurrency=concurrency
    )
    assert result.patch == case_expected(name)["patch"]
