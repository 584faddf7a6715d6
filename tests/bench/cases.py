"""End-to-end benchmark: cases against a loopback uvicorn server with added latency.

    python tests/bench/cases.py [--latency-ms 20] [--cases billing-header large-body official-client-stream]
    python tests/bench/cases.py --overhead-only      # just the request split below

After the timing table it prints the *overhead* table: every case in cases/,
run in-process (``app=``, a consistent server), with its requests split into
baselines, search and verification at ``-j 1`` and its rounds at ``-j 1`` and
``-j 8``, beside the figures before evidence-driven verification ("today"): the non-search requests
must be at most 4 when the answer has one change (``c``), at most ``3 + c``
otherwise, and ``-j 8`` must take at most 8 rounds.

For each case and each -j it prints requests sent, rounds, wall time, the
client's CPU time (everything in this process, the HTTP client included) per
candidate, and the engine's own CPU: the search core (propose/feed) and
building candidates (applying changes, rendering wire bytes), as a share of
wall time. The server runs in its own process.

``official-client-stream`` streams its good answers over ``--stream-seconds``
(3 s, as a short generation takes); its app records every stream, and after
each run a line says how many good answers were streamed, how many bytes of
them were sent before the client went away (0: closed at its headers), and
for how long the longest one stayed open.

Every run is made with ``--shrink``: ``requests`` is the run without the shrink,
``shrink`` the extra requests shrinking cost (its re-verification included) and
``x run`` their ratio; wall and CPU times include the shrink, ``ok`` also requires
a re-verified shrunk pair. A case with a ``hook`` in expected.json runs with it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bisect"))
sys.path.insert(0, str(ROOT))

import reqbisect  # noqa: E402
import reqbisect.formats  # noqa: E402,F401  (imported up front: import time is not run time)
from reqbisect import judge  # noqa: E402
from reqbisect.hooks import load_hook  # noqa: E402
from reqbisect.plan import Plan  # noqa: E402
from reqbisect.search import engine  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


class CoreTimer:
    """Adds up process CPU spent in the engine: the search core (Search.propose
    and Search.feed) and building candidates (applying changes, wire bytes)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.building = 0.0
        self._propose = engine.Search.propose
        self._feed = engine.Search.feed
        self._wire_for = judge.RequestJudge.wire_for
        self._document = Plan.apply

    def __enter__(self) -> CoreTimer:
        timer = self

        def document(plan: Plan, config: frozenset[int]) -> dict[str, object]:
            start = time.process_time()
            try:
                return timer._document(plan, config)
            finally:
                timer.building += time.process_time() - start

        async def wire_for(session: judge.RequestJudge, doc: dict[str, object]) -> object:
            start = time.process_time()
            try:
                return await timer._wire_for(session, doc)
            finally:
                timer.building += time.process_time() - start

        Plan.apply = document  # type: ignore[method-assign,assignment]
        judge.RequestJudge.wire_for = wire_for  # type: ignore[method-assign,assignment]

        def propose(search: engine.Search, slots: int) -> list[engine.Candidate]:
            start = time.process_time()
            try:
                return timer._propose(search, slots)
            finally:
                timer.seconds += time.process_time() - start

        def feed(search: engine.Search, candidate: engine.Candidate, outcome: reqbisect.Outcome) -> None:
            start = time.process_time()
            try:
                timer._feed(search, candidate, outcome)
            finally:
                timer.seconds += time.process_time() - start

        engine.Search.propose = propose  # type: ignore[method-assign]
        engine.Search.feed = feed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        engine.Search.propose = self._propose  # type: ignore[method-assign]
        engine.Search.feed = self._feed  # type: ignore[method-assign]
        Plan.apply = self._document  # type: ignore[method-assign]
        judge.RequestJudge.wire_for = self._wire_for  # type: ignore[method-assign]


def stream_line(log: Path, seen: int) -> tuple[str, int]:
    """What the app recorded about the streams of one run (those after the first ``seen``)."""
    time.sleep(0.3)  # a stream is recorded when the server has seen its client leave
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    run = records[seen:]
    if not run:
        return "    good answers streamed: none", len(records)
    read = [r for r in run if r["sent"] > 0]
    return (
        f"    good answers streamed: {len(run)}; read past the headers: {len(read)}; "
        f"bytes sent before the client left: max {max(r['sent'] for r in run)} of {run[0]['total']}; "
        f"complete: {sum(r['complete'] for r in run)}; longest open {max(r['seconds'] for r in run):.3f} s",
        len(records),
    )


#: The figures before evidence-driven verification (requests, baselines, verification, rounds at -j 8).
TODAY = {
    "login-form": (12, 4, 5, 2), "cookie-jar": (15, 4, 5, 4), "waf-header": (15, 4, 5, 4),
    "deep-messages": (16, 4, 5, 4), "large-body": (19, 4, 5, 6), "billing-header": (31, 4, 8, 12),
    "version-unlock": (38, 4, 11, 12),
}


def in_process(cases: list[str]) -> list[str]:
    """The cases with an ASGI app; a case served over real sockets (``server.py``) is left out, with a note."""
    sockets = [name for name in cases if (ROOT / "cases" / name / "server.py").is_file()]
    if sockets:
        print(f"not measured here (served over real sockets, see docs/design.md \"Cases\"): {', '.join(sockets)}")
    return [name for name in cases if name not in sockets]


def overhead_table(cases: list[str]) -> bool:
    """Print the request split per case (module docstring); True when every target holds."""
    from reqbisect.hooks import load_hook
    from tests.conftest import load_case_app

    header = (
        f"{'case':<16}{'changes':>8}{'c':>3}{'requests':>9}{'base':>6}{'search':>8}{'verif':>7}{'why':>12}"
        f"{'rounds j1':>10}{'j8':>4}{'req j8':>8}   today: req base verif j8   ok"
    )
    print()
    print("overhead at -j 1 (in-process, consistent server)")
    cases = in_process(cases)
    print(header)
    print("-" * len(header))
    every = True
    for name in cases:
        folder = ROOT / "cases" / name
        expected = __import__("json").loads((folder / "expected.json").read_text())
        hook = load_hook(f"{folder}/{expected['hook']}") if expected.get("hook") else None
        good, bad = next(folder.glob("good.*")), next(folder.glob("bad.*"))
        runs = {
            jobs: reqbisect.bisect(good, bad, app=load_case_app(name), concurrency=jobs, prepare=hook)
            for jobs in (1, 8)
        }
        one, eight = runs[1], runs[8]
        s = one.stats
        searched = s.candidates - s.cancelled
        base = s.requests - searched - s.verification
        c = len(reqbisect.diff(one.minimal_bad, one.minimal_good).changes)  # changes in the answer
        ok = (
            one.patch == expected["patch"] == eight.patch
            and base + s.verification <= (4 if c == 1 else 3 + c)
            and eight.stats.rounds <= 8
            and eight.stats.requests <= 2 * s.requests
        )
        every &= ok
        today = TODAY.get(name)
        before = f"{today[0]:>4}{today[1]:>5}{today[2]:>6}{today[3]:>4}" if today else f"{'-':>4}{'-':>5}{'-':>6}{'-':>4}"
        print(
            f"{name:<16}{one.changes:>8}{c:>3}{s.requests:>9}{base:>6}{searched:>8}{s.verification:>7}"
            f"{one.verification:>12}{s.rounds:>10}{eight.stats.rounds:>4}{eight.stats.requests:>8}"
            f"          {before}   {ok}"
        )
    return every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--cases", nargs="+", default=["billing-header", "large-body", "official-client-stream"])
    parser.add_argument("--stream-seconds", type=float, default=3.0, help="How long a streamed good answer lasts.")
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--overhead-only", action="store_true", help="print only the overhead table")
    args = parser.parse_args()
    if args.overhead_only:
        sys.exit(0 if overhead_table(sorted(p.name for p in (ROOT / "cases").iterdir() if p.is_dir())) else 1)
    header = (
        f"{'case':<24}{'j':>3}{'changes':>9}{'requests':>10}{'rounds':>8}{'wall s':>9}"
        f"{'client CPU s':>14}{'CPU/cand ms':>13}{'core ms':>9}{'build ms':>10}{'engine/wall':>13}"
        f"{'shrink':>8}{'x run':>7}  ok"
    )
    httpx.AsyncClient()  # the first client pays for loading the CA bundle; not part of a run
    print(f"latency {args.latency_ms:g} ms per request, server in its own process")
    print(header)
    print("-" * len(header))
    log = Path(tempfile.mkdtemp(prefix="reqbisect-bench-")) / "streams.jsonl"
    env = {**os.environ, "REQBISECT_CASE_STREAM_SECONDS": str(args.stream_seconds), "REQBISECT_CASE_STREAM_LOG": str(log)}
    seen = 0
    for name in in_process(args.cases):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "bench" / "serve_case.py"), name, str(port), str(args.latency_ms)],
            env=env,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url)
            spec = __import__("json").loads((ROOT / "cases" / name / "expected.json").read_text())
            expected = spec["patch"]
            hook = load_hook(f"{ROOT / 'cases' / name}/{spec['hook']}") if "hook" in spec else None
            for jobs in args.jobs:
                good = next((ROOT / "cases" / name).glob("good.*"))
                bad = next((ROOT / "cases" / name).glob("bad.*"))
                with CoreTimer() as core:
                    wall, cpu = time.perf_counter(), time.process_time()
                    result = reqbisect.bisect(good, bad, target=url, concurrency=jobs, shrink=True, prepare=hook)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                s = result.stats
                shrunk = result.shrink is not None and result.shrink.verified
                print(
                    f"{name:<24}{jobs:>3}{result.changes:>9}{s.requests - s.shrink:>10}{s.rounds:>8}{wall:>9.2f}"
                    f"{cpu:>14.3f}{1000 * cpu / max(1, s.candidates):>13.2f}{1000 * core.seconds:>9.1f}"
                    f"{1000 * core.building:>10.1f}{(core.seconds + core.building) / wall:>13.1%}"
                    f"{s.shrink:>8}{s.shrink / max(1, s.requests - s.shrink):>7.2f}"
                    f"  {result.patch == expected and shrunk}"
                )
                if name == "official-client-stream":
                    line, seen = stream_line(log, seen)
                    print(line)
        finally:
            server.terminate()
            server.wait(timeout=10)
    sys.exit(0 if overhead_table(sorted(p.name for p in (ROOT / "cases").iterdir() if p.is_dir())) else 1)


if __name__ == "__main__":
    main()
