"""Benchmark of reqbisect.diff on two large JSON bodies.

Builds a body of about 5 MB and 100k leaves (records with nested objects and arrays,
some arrays keyed by ``id``, some not), derives a second one with 1% of the leaves
replaced and a few array elements inserted and deleted, and times ``diff``, ``apply``
and ``patch`` of a random half of the changes. Everything is seeded, so runs compare.

    python tests/bench/diff.py [--seed N] [--records N] [--check] [--stress]

Targets on a 2-core machine: diff under 2 s, one subset application under 100 ms.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from reqbisect.diff import diff

WORDS = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega".split()


def make_record(rng: random.Random, index: int) -> dict[str, Any]:
    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    return {
        "id": f"rec-{index:06d}",
        "name": words(3),
        "description": words(rng.randint(150, 250)),
        "url": f"https://example.com/v1/items/{index}?page={rng.randint(1, 9)}&sort=asc",
        "active": rng.random() < 0.5,
        "score": round(rng.uniform(0, 100), 3),
        "tags": [rng.choice(WORDS) for _ in range(rng.randint(2, 6))],
        "owner": {
            "name": words(2),
            "email": f"user{rng.randint(1, 9999)}@example.com",
            "level": rng.randint(1, 5),
        },
        "metrics": {f"m{k}": rng.randint(0, 10_000) for k in range(8)},
        "lines": [
            {
                "sku": f"SKU-{rng.randint(0, 99999):05d}",
                "qty": rng.randint(1, 9),
                "note": words(rng.randint(5, 15)),
            }
            for _ in range(rng.randint(3, 7))
        ],
        "history": [[rng.randint(0, 99), words(1)] for _ in range(rng.randint(1, 4))],
    }


def make_body(rng: random.Random, records: int) -> dict[str, Any]:
    return {
        "model": "bench-model",
        "records": [make_record(rng, i) for i in range(records)],
        "events": [{"type": rng.choice(WORDS), "at": rng.randint(0, 10**9)} for _ in range(records // 2)],
        "series": [rng.randint(0, 1000) for _ in range(records * 2)],
    }


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, (*path, i))]
    return [path]


def mutate(rng: random.Random, body: dict[str, Any], fraction: float) -> dict[str, Any]:
    out = copy.deepcopy(body)
    paths = [p for p in leaves(out) if p[-1] != "id"]  # identities stay put, as in real data
    for path in rng.sample(paths, int(len(paths) * fraction)):
        parent = out
        for token in path[:-1]:
            parent = parent[token]
        old = parent[path[-1]]
        if isinstance(old, str):
            parts = old.split(" ")
            parts[rng.randrange(len(parts))] = rng.choice(WORDS).upper()
            parent[path[-1]] = " ".join(parts)
        elif isinstance(old, bool):
            parent[path[-1]] = not old
        elif isinstance(old, (int, float)):
            parent[path[-1]] = old + 1
    for key in ("records", "events", "series"):
        array = out[key]
        for _ in range(10):
            del array[rng.randrange(len(array))]
        for k in range(10):
            new = make_record(rng, 900_000 + k) if key == "records" else copy.deepcopy(rng.choice(array))
            array.insert(rng.randrange(len(array) + 1), new)
    for record in rng.sample(out["records"], 20):
        record["lines"].insert(0, {"sku": "SKU-NEW", "qty": 1, "note": "inserted line"})
    return out


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--records", type=int, default=2200)
    parser.add_argument("--check", action="store_true", help="also verify the results with jsonpatch")
    parser.add_argument("--stress", action="store_true", help="also diff A against an unrelated body")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    a = make_body(rng, args.records)
    b = mutate(rng, a, 0.01)
    size = len(json.dumps(a))
    count = len(leaves(a))

    diff_time = median_seconds(lambda: diff(a, b), 3)
    tree = diff(a, b)
    n = len(tree.changes)
    half = rng.sample(range(n), n // 2)
    apply_time = median_seconds(lambda: tree.apply(half), 5)
    patch_time = median_seconds(lambda: tree.patch(half), 5)
    patch = tree.patch(half)
    everything_time = median_seconds(lambda: tree.apply(range(n)), 5)

    rows = [
        ("document A", f"{size / 1e6:.2f} MB, {count} leaves"),
        ("diff(A, B)", f"{diff_time * 1000:.0f} ms (median of 3)"),
        ("changes", f"{n} ({sum(c.parent is None for c in tree.changes)} top-level)"),
        ("apply(random half)", f"{apply_time * 1000:.1f} ms (median of 5)"),
        ("patch(random half)", f"{patch_time * 1000:.1f} ms (median of 5), {len(patch)} ops"),
        ("apply(all)", f"{everything_time * 1000:.1f} ms (median of 5)"),
    ]
    if args.stress:
        other = make_body(random.Random(args.seed + 1), args.records)
        start = time.perf_counter()
        unrelated = diff(a, other)
        seconds = time.perf_counter() - start
        rows.append(("diff(A, unrelated)", f"{seconds:.1f} s, {len(unrelated.changes)} changes"))
    if args.check:
        import jsonpatch

        assert tree.apply(range(n)) == b
        assert jsonpatch.apply_patch(a, patch) == tree.apply(half)
        rows.append(("check", "apply(all) == B; jsonpatch agrees on the half"))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
