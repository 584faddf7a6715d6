"""A bisection over very large JSON bodies: time and peak memory against body size.

For each size (about 6, 12, 25 and 50 MB by default) this script writes a GOOD and
a BAD request document (native JSON, a ``PUT`` with a JSON body), seeded, so runs
compare. BAD differs from GOOD in a few hundred leaves (renamed owners, changed
quantities, toggled flags, replaced notes); exactly one of them matters: BAD
marks one record ``"blocked": true``. Each size then runs in a fresh Python
process (so that ``ru_maxrss`` is that run's own peak) that calls
``reqbisect.bisect(GOOD, BAD, app=...)`` with a small ASGI app answering ``422``
when the body has a blocked record and ``200`` otherwise. The app only scans the
bytes, so what is measured is reqbisect's own work: loading, diffing, building
each candidate body, sending it in-process, verifying.

    python tests/bench/large_body.py                # 6, 12, 25 and 50 MB
    python tests/bench/large_body.py --sizes 6 12   # chosen sizes, in MB
    python tests/bench/large_body.py -j 1           # one request in flight (default 8)
    python tests/bench/large_body.py --json         # rows as JSON on stdout too

Columns: the GOOD body's size, changes in the diff, requests sent, wall-clock
seconds (load to result, in the child), peak RSS of the child, and the two
ratios: seconds per MB and peak RSS per MB of body. Linear growth shows as flat
ratios. ``base MB`` is the child's RSS after its imports, before any work.
The run also checks that the patch found is the one expected.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORDS = "amber basalt cedar delta ember fjord garnet harbor indigo juniper krypton lumen".split()
#: Records per MB of body (each record serialises to about 1.5 KB with ``indent=1``).
RECORDS_PER_MB = 660
EDITS = 300
BLOCKED = re.compile(rb'"blocked"\s*:\s*true')


def record(rng: random.Random, index: int) -> dict[str, Any]:
    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    return {
        "id": f"rec-{index:07d}",
        "name": words(3),
        "owner": {"name": words(2), "email": f"user{rng.randint(1, 99999)}@example.com"},
        "flags": {"blocked": False, "archived": rng.random() < 0.1, "beta": rng.random() < 0.3},
        "quantities": [rng.randint(0, 999) for _ in range(8)],
        "lines": [
            {"sku": f"SKU-{rng.randint(0, 99999):05d}", "qty": rng.randint(1, 9), "note": words(rng.randint(8, 20))}
            for _ in range(5)
        ],
        "summary": words(rng.randint(40, 60)),
    }


def documents(megabytes: float, seed: int) -> tuple[dict[str, Any], dict[str, Any], int]:
    """GOOD, BAD and the index of the record whose ``blocked`` flag is the culprit."""
    rng = random.Random(seed)
    count = max(10, int(megabytes * RECORDS_PER_MB))
    good_body = {"import": "catalog", "revision": 7, "records": [record(rng, i) for i in range(count)]}
    bad_body = json.loads(json.dumps(good_body))
    records = bad_body["records"]
    for _ in range(EDITS):
        item = records[rng.randrange(count)]
        kind = rng.randrange(4)
        if kind == 0:
            item["owner"]["name"] = " ".join(rng.choice(WORDS) for _ in range(2)) + " jr"
        elif kind == 1:
            item["quantities"][rng.randrange(8)] += 1000
        elif kind == 2:
            item["flags"]["beta"] = not item["flags"]["beta"]
        else:
            item["lines"][rng.randrange(5)]["note"] = "replaced note"
    culprit = rng.randrange(count)
    records[culprit]["flags"]["blocked"] = True

    def document(body: dict[str, Any], agent: str) -> dict[str, Any]:
        return {
            "method": "PUT",
            "url": "https://api.example.com/v1/imports/catalog",
            "headers": {"content-type": "application/json", "user-agent": agent},
            "body": body,
        }

    return document(good_body, "console/4.2"), document(bad_body, "importer/4.1"), culprit


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """422 when any record is blocked, else 200: a scan of the bytes, no parsing."""
    if scope["type"] != "http":
        return
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    blocked = BLOCKED.search(body) is not None
    status, payload = (422, b'{"error": "blocked record"}') if blocked else (200, b'{"ok": true}')
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
    })
    await send({"type": "http.response.body", "body": payload})


def child(good: str, bad: str, culprit: int, concurrency: int) -> None:
    """Run one bisection and print its numbers as one JSON line."""
    import reqbisect

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = reqbisect.bisect(good, bad, app=app, mode="fix", concurrency=concurrency)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    expected = [{"op": "replace", "path": f"/body/records/{culprit}/flags/blocked", "value": False}]
    print(json.dumps({
        "changes": result.changes,
        "requests": result.stats.requests,
        "wall": wall,
        "peak_mb": peak / 1024,
        "base_mb": base / 1024,
        "correct": result.patch == expected and result.outcome == "found",
    }))


def generate(megabytes: float, seed: int, folder: Path) -> None:
    """Write GOOD and BAD for one size; print the culprit's index and the body size."""
    good, bad, culprit = documents(megabytes, seed)
    for name, document in (("good", good), ("bad", bad)):
        (folder / f"{name}.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    size = len(json.dumps(good["body"], indent=1).encode()) / 1e6
    print(json.dumps({"culprit": culprit, "size_mb": size}))


def _python(*args: str) -> dict[str, Any]:
    """Run this script in a fresh process and return the JSON line it prints.

    Each step gets its own process because Linux carries the parent's peak RSS
    over into a child's ``ru_maxrss``: the documents are built in one process,
    the bisection runs in another, and this one stays small.
    """
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "bisect")),
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
    value: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return value


def measure(megabytes: float, seed: int, folder: Path, concurrency: int) -> dict[str, Any]:
    made = _python("--generate", str(megabytes), str(seed), str(folder))
    row = _python(
        "--child", str(folder / "good.json"), str(folder / "bad.json"), str(made["culprit"]), str(concurrency)
    )
    row["size_mb"] = made["size_mb"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[6, 12, 25, 50], help="body sizes in MB")
    parser.add_argument("--seed", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON on stdout")
    parser.add_argument("--generate", nargs=3, metavar=("MB", "SEED", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("-j", "--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--child", nargs=4, metavar=("GOOD", "BAD", "CULPRIT", "J"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(float(args.generate[0]), int(args.generate[1]), Path(args.generate[2]))
        return
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
        return
    rows = []
    columns = ("size MB", 8), ("changes", 8), ("requests", 9), ("wall s", 8), ("peak MB", 8), ("base MB", 8)
    header = " ".join(f"{name:>{width}}" for name, width in columns)
    print(f"{header} {'s/MB':>6} {'MB/MB':>6}  ok", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="reqbisect-bench-") as folder:
        for megabytes in args.sizes:
            row = measure(megabytes, args.seed, Path(folder), args.concurrency)
            rows.append(row)
            print(
                f"{row['size_mb']:8.1f} {row['changes']:8d} {row['requests']:9d} {row['wall']:8.2f} "
                f"{row['peak_mb']:8.0f} {row['base_mb']:8.0f} {row['wall'] / row['size_mb']:6.3f} "
                f"{row['peak_mb'] / row['size_mb']:6.1f}  {'yes' if row['correct'] else 'NO'}",
                file=sys.stderr,
            )
    if args.json:
        print(json.dumps(rows, indent=2))
    if not all(row["correct"] for row in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
