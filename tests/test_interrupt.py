"""Interrupting a run and resuming it: SIGINT, SIGKILL, the journal, ``--resume``.

The CLI runs as ``python -m reqbisect`` in a subprocess against a case app served
by uvicorn on 127.0.0.1. The app is wrapped in :class:`Latency`: every request
takes 50 ms, and request number ``hold_at`` is held until the test releases it,
so the test signals the process while it is certainly mid-search (after the
baselines, before the re-verification), with exactly ``hold_at - 1`` answers
delivered and one request in flight.

What must hold:

* SIGINT (or SIGTERM) stops gracefully: exit 130, stderr says so, stdout has the
  best patch so far, and the journal has every answer the server gave; a second
  SIGINT aborts at once;
* a SIGINT during the re-verification stops at once (what is on the wire is
  abandoned) with exit 130 and the search's answer, said to be not re-verified;
* SIGKILL leaves a journal whose complete lines all parse;
* ``--resume`` then finishes with the same patch as an uninterrupted run, and
  sends again nothing the first run got an answer for, except the final
  re-verification (``stats.verification`` requests, re-sent on purpose).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.to_thread
import pytest

import reqbisect
from reqbisect import Inconclusive, abisect
from reqbisect.formats import load_request

from .conftest import Served, case_expected, case_file, load_case_app, serve
from .faults import serve_faults

pytestmark = pytest.mark.network

#: The package root the tests import, so the subprocess runs the same code.
SOURCE_ROOT = Path(reqbisect.__file__).resolve().parent.parent
#: The request to hold, per case: a candidate after the two baseline requests
#: and before the re-verification (waf-header sends 10 requests at -j 1, login-form 7).
HOLD_AT = {"waf-header": 6, "login-form": 4}
CASES = list(HOLD_AT)


@dataclass
class Latency:
    """ASGI middleware: 50 ms per request; request ``hold_at`` waits for ``release``."""

    app: Any
    hold_at: int
    delay: float = 0.05
    count: int = 0
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
            if self.count == self.hold_at:
                self.reached.set()
                await anyio.to_thread.run_sync(self.release.wait, 60)
            await anyio.sleep(self.delay)
        await self.app(scope, receive, send)


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "run.journal"


def run_args(name: str, server: Served, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "reqbisect", "run", str(case_file(name, "good")), str(case_file(name, "bad")),
        "--target", server.url, "--yes", "-j", "1", "-q", *extra,
    ]


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(SOURCE_ROOT))


def journal_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete line of the journal, parsed (a torn last line is left out)."""
    text = path.read_text(encoding="utf-8")
    complete = text.split("\n")[:-1]
    return [json.loads(line) for line in complete]


def assert_valid_journal(path: Path) -> list[dict[str, Any]]:
    lines = journal_lines(path)
    assert lines, "the journal is empty"
    assert lines[0]["format"] == "reqbisect-journal/1" and lines[0]["mode"] == "fix"
    for line in lines[1:]:
        assert set(line) >= {"key", "outcome", "status", "signature", "role"}
        assert line["outcome"] in ("good", "bad", "unresolved")
    return lines[1:]


@dataclass
class FirstRun:
    code: int
    stdout: str
    stderr: str
    #: What the server received during the first run, in order.
    received: list[Any]
    #: The requests whose answers reached the first run (all but a killed one's last).
    answered: list[Any]


class Output:
    """Collects a pipe in a thread; ``seen(text)`` waits for a line containing ``text``."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        with pipe:
            for line in pipe:
                with self._changed:
                    self.lines.append(line)
                    self._changed.notify_all()

    def seen(self, text: str, timeout: float = 30) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: any(text in line for line in self.lines), timeout)

    def text(self) -> str:
        self._thread.join(60)
        return "".join(self.lines)


def interrupted_run(
    name: str, server: Served, latency: Latency, journal: Path, *signals: signal.Signals
) -> FirstRun:
    """Start a run, wait until it is mid-search (request ``hold_at`` in flight), then signal it.

    A signal after the first is sent once the process has said it is stopping, so
    that the two are not merged into one pending signal.
    """
    proc = subprocess.Popen(
        run_args(name, server, "--journal", str(journal)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = Output(proc.stdout), Output(proc.stderr)
    try:
        reached = latency.reached.wait(60)
        if reached:
            for number, later in zip(signals, (False, *[True] * len(signals))):
                if later:
                    assert stderr.seen("stopping"), stderr.lines
                proc.send_signal(number)
            if signal.SIGKILL in signals:
                proc.wait(60)
    finally:
        latency.release.set()
    try:
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert reached, f"the run never got to request {latency.hold_at}: {stderr.text()}"
    received = list(server.counter.received)
    # A graceful stop lets the request in flight finish; a kill or an abort does not.
    answered = received if len(signals) == 1 and signals[0] != signal.SIGKILL else received[:-1]
    return FirstRun(proc.returncode, stdout.text(), stderr.text(), received, answered)


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> Iterator[tuple[str, Served, Latency]]:
    name = request.param
    latency = Latency(load_case_app(name), hold_at=HOLD_AT[name])
    with serve(latency) as server:
        yield name, server, latency


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_stops_gracefully_with_exit_130_and_the_best_patch_so_far(
    case: tuple[str, Served, Latency], journal: Path, how: signal.Signals
) -> None:
    name, server, latency = case
    first = interrupted_run(name, server, latency, journal, how)
    assert first.code == 130, first.stderr
    assert "stopping" in first.stderr and "interrupted" in first.stderr
    assert "Traceback" not in first.stderr
    patch = json.loads(first.stdout)
    assert isinstance(patch, list) and all({"op", "path"} <= set(op) for op in patch)
    entries = assert_valid_journal(journal)
    assert "verify" not in {entry["role"] for entry in entries}, "the signal came after the search"
    # The request in flight at the signal was allowed to finish: every answer is kept.
    assert len(entries) == len(first.received) >= HOLD_AT[name]


def test_a_second_sigint_aborts_without_waiting_for_the_request_in_flight(
    case: tuple[str, Served, Latency], journal: Path
) -> None:
    name, server, latency = case
    first = interrupted_run(name, server, latency, journal, signal.SIGINT, signal.SIGINT)
    assert first.code == 130, first.stderr
    assert "aborted" in first.stderr and "Traceback" not in first.stderr
    assert first.stdout == ""
    entries = assert_valid_journal(journal)
    assert len(entries) == len(first.answered) == HOLD_AT[name] - 1


def test_sigkill_mid_run_leaves_a_journal_whose_complete_lines_parse(
    case: tuple[str, Served, Latency], journal: Path
) -> None:
    name, server, latency = case
    first = interrupted_run(name, server, latency, journal, signal.SIGKILL)
    assert first.code == -signal.SIGKILL
    entries = assert_valid_journal(journal)
    assert "verify" not in {entry["role"] for entry in entries}, "the kill came after the search"
    assert len(entries) == len(first.answered) == HOLD_AT[name] - 1


def resume(name: str, server: Served, journal: Path, patch: Path) -> subprocess.CompletedProcess[str]:
    """Resume into the same journal; the patch (real values) goes to ``patch``, the result to stdout."""
    return subprocess.run(
        run_args(name, server, "--resume", str(journal), "--journal", str(journal), "--json", "-o", str(patch)),
        capture_output=True, text=True, env=env(), timeout=120, check=False,
    )


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_resume_after_an_interruption_finishes_with_the_same_patch_and_sends_nothing_answered_again(
    case: tuple[str, Served, Latency], journal: Path, how: signal.Signals, tmp_path: Path
) -> None:
    name, server, latency = case
    first = interrupted_run(name, server, latency, journal, how)
    second = resume(name, server, journal, tmp_path / "patch.json")
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["outcome"] == "found"
    assert json.loads((tmp_path / "patch.json").read_text(encoding="utf-8")) == case_expected(name)["patch"]
    sent_again = server.counter.received[len(first.received):]
    assert data["stats"]["requests"] == len(sent_again)
    answered = set(first.answered)
    repeated = [request for request in sent_again if request in answered]
    assert len(repeated) <= data["stats"]["verification"]
    assert_valid_journal(journal)


# -- the journal, in-process ----------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
async def test_resume_of_a_budget_limited_run_sends_only_what_it_lacks(name: str, journal: Path) -> None:
    good, bad = load_request(case_file(name, "good")), load_request(case_file(name, "bad"))
    with serve(load_case_app(name)) as server:
        with pytest.raises(Inconclusive, match="budget"):
            await abisect(good, bad, target=server.url, concurrency=1, max_requests=HOLD_AT[name], journal=journal)
        before = list(server.counter.received)
        result = await abisect(good, bad, target=server.url, concurrency=1, resume=journal, journal=journal)
        after = server.counter.received[len(before):]
    assert result.outcome == "found" and result.patch == case_expected(name)["patch"]
    assert result.stats.requests == len(after)
    repeated = [request for request in after if request in set(before)]
    assert len(repeated) <= result.stats.verification


async def test_resume_sends_again_what_got_no_answer_and_nothing_that_did(journal: Path) -> None:
    name = "waf-header"
    good, bad = load_request(case_file(name, "good")), load_request(case_file(name, "bad"))
    resets = {"reset": 0.3}
    with serve_faults(load_case_app(name), good=good, bad=bad, seed=2, mix=resets, spare=frozenset(resets)) as flaky:
        with contextlib.suppress(Inconclusive):
            await abisect(good, bad, target=flaky.url, concurrency=1, retries=0, timeout=0.5, journal=journal)
        assert flaky.settle()
        first = list(flaky.received)
    answered = {r.identity for r in first if r.fault is None}
    assert {r.identity for r in first if r.fault == "reset"} - answered, "no request went unanswered"
    with serve_faults(load_case_app(name), good=good, bad=bad, seed=0, mix={}) as healthy:
        result = await abisect(good, bad, target=healthy.url, concurrency=1, resume=journal, journal=journal)
        assert healthy.settle()
        second = [r.identity for r in healthy.received]
    assert result.outcome == "found" and result.patch == case_expected(name)["patch"]
    # Had a failure been replayed from the journal, it would count as unresolved here.
    assert result.stats.unresolved == 0
    assert len([identity for identity in second if identity in answered]) <= result.stats.verification


async def test_a_journal_torn_by_a_crash_still_reads_after_more_entries(journal: Path) -> None:
    from reqbisect.journal import Entry, Journal, Role, read_journal
    from reqbisect.outcome import Outcome

    run = {"mode": "fix", "good": "0" * 16, "bad": "1" * 16}
    writer = Journal(journal, run=run)
    await writer.record(Entry("a#0", Outcome.GOOD, 200, "200 {}", Role.BASELINE_GOOD))
    await writer.record(Entry("b#0", Outcome.BAD, 403, "403 blocked", Role.BASELINE_BAD))
    writer.close()
    text = journal.read_text(encoding="utf-8")
    journal.write_text(text[: len(text) - 12], encoding="utf-8")
    assert set(read_journal(journal, run=run)) == {"a#0"}

    writer = Journal(journal, run=run)
    await writer.record(Entry("c#0", Outcome.GOOD, 200, "200 {}"))
    writer.close()
    assert set(read_journal(journal, run=run)) == {"a#0", "c#0"}


def test_a_signal_during_the_re_verification_stops_at_once_with_the_answer_not_re_verified(
    journal: Path, tmp_path: Path
) -> None:
    name = "waf-header"
    with serve(load_case_app(name)) as server:
        full = subprocess.run(
            run_args(name, server, "--json"), capture_output=True, text=True, env=env(), timeout=120, check=False
        )
    assert full.returncode == 0, full.stderr
    stats = json.loads(full.stdout)["stats"]
    # Hold the first request of the re-verification, and never let it go while the run lasts.
    latency = Latency(load_case_app(name), hold_at=stats["requests"] - stats["verification"] + 1)
    with serve(latency) as server:
        proc = subprocess.Popen(
            run_args(name, server, "--journal", str(journal)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
        )
        try:
            assert latency.reached.wait(60), "the run never got to the re-verification"
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=20)
        finally:
            latency.release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 130, stderr
    assert "not re-verified" in stderr and "Traceback" not in stderr
    assert json.loads(stdout) == case_expected(name)["patch"]
    roles = [entry["role"] for entry in assert_valid_journal(journal)]
    assert "candidate" in roles and roles.count("verify") < stats["verification"]


async def test_resume_refuses_a_journal_judged_by_another_oracle(journal: Path) -> None:
    from reqbisect.errors import InputError
    from reqbisect.expressions import Expression, ExpressionOracle

    name = "waf-header"
    good, bad = load_request(case_file(name, "good")), load_request(case_file(name, "bad"))
    flipped = ExpressionOracle(good_if=None, bad_if=Expression.parse("status == 200", option="--bad-if"))
    with serve(load_case_app(name)) as server:
        await abisect(good, bad, target=server.url, concurrency=1, journal=journal)
        before = len(server.counter.received)
        with pytest.raises(InputError, match="another run \\(different oracle\\)"):
            await abisect(good, bad, target=server.url, concurrency=1, resume=journal, oracle=flipped)
        assert len(server.counter.received) == before, "nothing is sent"
        # The same judge resumes: nothing answered before is sent again but the re-verification.
        result = await abisect(good, bad, target=server.url, concurrency=1, resume=journal)
    assert result.outcome == "found" and result.stats.requests == result.stats.verification


async def test_the_journal_keeps_no_response_text(journal: Path) -> None:
    async def echoing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Letters only: the masking of ids and numbers leaves such a value alone.
        body = b'{"error": "denied", "session": "RESPONSESECRET"}' if scope["path"] == "/bad" else b"ok"
        await send({"type": "http.response.start", "status": 403 if scope["path"] == "/bad" else 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    good = {"method": "GET", "url": "http://h.example/good"}
    bad = {"method": "GET", "url": "http://h.example/bad"}
    with serve(echoing) as server:
        await abisect(good, bad, target=server.url, concurrency=1, journal=journal)
        first = list(server.counter.received)
        assert "RESPONSESECRET" not in journal.read_text(encoding="utf-8")
        resumed = await abisect(good, bad, target=server.url, concurrency=1, resume=journal)
    assert resumed.outcome == "found" and resumed.patch == [{"op": "replace", "path": "/url", "value": good["url"]}]
    assert resumed.stats.requests == resumed.stats.verification
    assert len(server.counter.received) - len(first) == resumed.stats.verification
