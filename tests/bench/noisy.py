"""Robustness benchmark: every case against a server that lies on a seeded share of its answers.

    python tests/bench/noisy.py                      # 5% and 10%, default and --repeat 3, 30 seeds
    python tests/bench/noisy.py --rates 0.05 --seeds 10 --cases login-form waf-header

Each case's app is wrapped in :class:`Liar`, an ASGI middleware that answers a
seeded share of requests with the *other* baseline's answer: BAD's answer where
the truth was GOOD's status, GOOD's answer otherwise. Which request lies depends
only on the seed, the request's bytes and how many times the same request came
before, never on arrival order. The baselines are not spared: a lie there is
part of what a run must survive. The app runs in-process (``app=``), so a
sweep takes minutes, not hours.

Per rate and setting it prints runs that ended found (the expected patch),
WRONG found (another patch, called found: the one outcome that must never
happen), inconclusive, and baselines failed, with the mean requests per run.
Not collected by pytest (no ``test_`` names); run by hand.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bisect"))
sys.path.insert(0, str(ROOT))

import reqbisect  # noqa: E402
from reqbisect.formats import load_request  # noqa: E402
from reqbisect.hooks import load_hook  # noqa: E402
from reqbisect.wire import to_wire  # noqa: E402
from tests.conftest import load_case_app  # noqa: E402

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


async def _call(app: Any, scope: Message, body: bytes) -> Answer:
    """The app's whole answer to one request."""
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            await anyio.sleep_forever()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], list(start.get("headers", [])), content)


@dataclass
class Liar:
    """ASGI middleware: ``rate`` of the answers are the other baseline's (see the module docstring)."""

    app: Any
    seed: int
    rate: float
    good: Answer
    bad: Answer
    seen: Counter[str] = field(default_factory=Counter)
    lies: int = 0

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = sorted((k, v) for k, v in scope["headers"] if k.lower() not in (b"host", b"content-length"))
        digest = hashlib.sha256(repr((scope["method"], scope["path"], scope["query_string"], headers, body)).encode())
        key = digest.hexdigest()
        occurrence = self.seen[key]
        self.seen[key] += 1
        answer = await _call(self.app, scope, body)
        if random.Random(f"{self.seed}/{key}/{occurrence}").random() < self.rate:
            self.lies += 1
            answer = self.bad if answer.status == self.good.status else self.good
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})


async def true_answer(app: Any, capture: Any, hook: Any) -> Answer:
    document = capture.document
    if hook is not None:
        document = hook(copy.deepcopy(document))
    wire = to_wire(document, like=[capture])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        response = await client.send(httpx.Request(wire.method, wire.url, headers=list(wire.headers), content=wire.body))
        content = await response.aread()
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.multi_items()
               if k.lower() not in ("content-length", "transfer-encoding")]
    return Answer(response.status_code, headers, content)


@dataclass
class Tally:
    found: int = 0
    wrong: int = 0
    inconclusive: int = 0
    baselines: int = 0
    requests: int = 0
    runs: int = 0
    wrong_runs: list[str] = field(default_factory=list)


async def one_run(name: str, seed: int, rate: float, repeat: int, tally: Tally) -> None:
    folder = ROOT / "cases" / name
    expected = json.loads((folder / "expected.json").read_text())
    hook = load_hook(f"{folder}/{expected['hook']}") if expected.get("hook") else None
    good, bad = load_request(next(folder.glob("good.*"))), load_request(next(folder.glob("bad.*")))
    app = load_case_app(name)
    liar = Liar(app, seed, rate, await true_answer(app, good, hook), await true_answer(app, bad, hook))
    tally.runs += 1
    try:
        result = await reqbisect.abisect(good, bad, app=liar, repeat=repeat, prepare=hook)
    except reqbisect.BaselineError as exc:
        tally.baselines += 1
        tally.requests += exc.result.stats.requests if exc.result is not None else 0
        return
    except reqbisect.Inconclusive as exc:
        tally.inconclusive += 1
        tally.requests += exc.result.stats.requests if exc.result is not None else 0
        return
    tally.requests += result.stats.requests
    if result.patch == expected["patch"]:
        tally.found += 1
    else:
        tally.wrong += 1
        tally.wrong_runs.append(f"{name} seed {seed}")


async def sweep(cases: list[str], seeds: int, rate: float, repeat: int) -> Tally:
    tally = Tally()
    for name in cases:
        for seed in range(seeds):
            await one_run(name, seed, rate, repeat, tally)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", nargs="+", type=float, default=[0.05, 0.10])
    parser.add_argument("--repeats", nargs="+", type=int, default=[1, 3])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--cases", nargs="+", default=sorted(p.name for p in (ROOT / "cases").iterdir() if p.is_dir()))
    args = parser.parse_args()
    sockets = [name for name in args.cases if (ROOT / "cases" / name / "server.py").is_file()]
    if sockets:  # the liar wraps an ASGI app in-process; these cases need their own servers
        print(f"skipped (served over real sockets, see docs/design.md \"Cases\"): {', '.join(sockets)}")
        args.cases = [name for name in args.cases if name not in sockets]
    print(f"{len(args.cases)} cases x {args.seeds} seeds; a lie is the other baseline's answer")
    header = f"{'lies':>5} {'setting':<11}{'runs':>6}{'found':>7}{'WRONG':>7}{'inconcl.':>10}{'baselines':>11}{'req/run':>9}{'s':>7}"
    print(header)
    print("-" * len(header))
    for rate in args.rates:
        for repeat in args.repeats:
            started = time.perf_counter()
            tally = anyio.run(sweep, args.cases, args.seeds, rate, repeat)
            setting = "default" if repeat == 1 else f"--repeat {repeat}"
            print(
                f"{rate:>5.0%} {setting:<11}{tally.runs:>6}{tally.found:>7}{tally.wrong:>7}{tally.inconclusive:>10}"
                f"{tally.baselines:>11}{tally.requests / max(1, tally.runs):>9.1f}{time.perf_counter() - started:>7.0f}",
                flush=True,
            )
            if tally.wrong_runs:
                print(f"      wrong: {', '.join(tally.wrong_runs)}", flush=True)


if __name__ == "__main__":
    main()
