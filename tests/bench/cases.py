"""End-to-end benchmark: cases against a loopback uvicorn server with added latency.

    python tests/bench/cases.py [--latency-ms 20] [--cases billing-header large-body]

For each case and each -j it prints requests sent, rounds, wall time, the
client's CPU time (everything in this process, the HTTP client included) per
candidate, and the engine's own CPU: the search core (propose/feed) and
building candidates (applying changes, rendering wire bytes), as a share of
wall time. The server runs in its own process.

Every run is made with ``--shrink``: ``requests`` is the run without the shrink,
``shrink`` the extra requests shrinking cost (its re-verification included) and
``x run`` their ratio; wall and CPU times include the shrink, ``ok`` also requires
a re-verified shrunk pair. A case with a ``hook`` in expected.json runs with it.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bisect"))

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


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 20
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--cases", nargs="+", default=["billing-header", "large-body"])
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 8])
    args = parser.parse_args()
    header = (
        f"{'case':<16}{'j':>3}{'changes':>9}{'requests':>10}{'rounds':>8}{'wall s':>9}"
        f"{'client CPU s':>14}{'CPU/cand ms':>13}{'core ms':>9}{'build ms':>10}{'engine/wall':>13}"
        f"{'shrink':>8}{'x run':>7}  ok"
    )
    httpx.AsyncClient()  # the first client pays for loading the CA bundle; not part of a run
    print(f"latency {args.latency_ms:g} ms per request, server in its own process")
    print(header)
    print("-" * len(header))
    for name in args.cases:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "bench" / "serve_case.py"), name, str(port), str(args.latency_ms)]
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
                    f"{name:<16}{jobs:>3}{result.changes:>9}{s.requests - s.shrink:>10}{s.rounds:>8}{wall:>9.2f}"
                    f"{cpu:>14.3f}{1000 * cpu / max(1, s.candidates):>13.2f}{1000 * core.seconds:>9.1f}"
                    f"{1000 * core.building:>10.1f}{(core.seconds + core.building) / wall:>13.1%}"
                    f"{s.shrink:>8}{s.shrink / max(1, s.requests - s.shrink):>7.2f}"
                    f"  {result.patch == expected and shrunk}"
                )
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
