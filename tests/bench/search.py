"""Requests and rounds of the search core, side by side with other strategies.

Run it from the repository root::

    python tests/bench/search.py            # the full grid (n up to 4096)
    python tests/bench/search.py --quick    # n <= 512
    python tests/bench/search.py --json     # rows as JSON on stdout, the table on stderr

Every run minimises in ``fix`` mode over a flat space of ``n`` changes with
planted culprits, under two families of predicates:

* ``all``: good iff every culprit is present (the answer is the culprits);
* ``any``: good iff one culprit is present (the answer is one culprit).

Each oracle call takes 20 ms (a real ``sleep``), and up to ``k`` calls are in
flight. The rows are:

* ``reqbisect``: the search core, driven by an anyio loop that keeps up to
  ``k`` candidates in flight and feeds answers in arrival order. A speculative
  answer that arrives after the path moved on is still fed (it may be needed
  later); what is in flight when the search ends is cancelled (``cancel``).
  With ``--withdraw-obsolete`` the driver also cancels what ``obsolete()``
  reports after every answer. ``cpu_s`` is the process time spent inside the
  core (``Search(...)``, ``propose``, ``feed``, ``obsolete``, ``cancel``).
* ``picire``: picire's ddmin (``DD`` at ``k = 1``, ``ParallelDD`` with ``k``
  jobs otherwise), counting every call of its test function, distinct ones
  apart. Its rounds are reconstructed from call timestamps: a call's round is
  one more than the latest round that had finished when it started.
* ``naive``: one change at a time, computed, not run: ``n`` calls in
  ``ceil(n / k)`` rounds.
* ``bound``: the information bound, computed: ``ceil(log2(C(n, c)))`` answers
  for ``all`` and ``ceil(log2(n))`` for ``any``; with ``k`` answers per round,
  ``ceil(log_(k+1)(possibilities))`` rounds.
* ``floor``: the least *mean* number of calls of any strategy that knows ``c``
  and proves its answer 1-minimal with real calls, computed. Telling ``P``
  equally likely answers apart takes at least the mean leaf depth of an optimal
  binary tree with ``P`` leaves; for ``all`` with ``c >= 2`` each of the ``c``
  configurations "the answer minus one culprit" must also be sent, and those are
  BAD whatever the answer is (they hold only ``c - 1`` changes), so they add
  ``c`` calls that tell the possibilities nothing. The engine does not know
  ``c``, so it cannot reach this floor; it shows what is left to gain.

Culprit placements: every placement when a cell has at most ``--all-up-to``
of them (70 by default, so every ``n = 8`` cell is exact), otherwise
placements drawn with ``random.Random(seed)`` for seeds ``0..S-1`` (``--seeds``,
3 by default). Measured rows are means over the placements; ``correct`` holds
only if every answer was right.

The targets are printed as PASS/FAIL lines at the end; the exit status is 1 if
any target fails.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import multiprocessing
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from reqbisect.search import Candidate, Config, Outcome, Search, Space, State, minimise

LATENCY = 0.02
FAMILIES = ("all", "any")
CULPRITS = (1, 2, 4)
SLOTS = (1, 8)
SIZES = (8, 64, 512, 4096)
QUICK_SIZES = (8, 64, 512)


@dataclass
class Row:
    engine: str
    family: str
    n: int
    culprits: int
    k: int
    calls: float
    unique: float
    rounds: float | None
    cancelled: float
    wall_s: float
    correct: bool | None
    cpu_s: float | None = None


@dataclass
class Sample:
    calls: int
    unique: int
    rounds: int | None
    cancelled: int
    wall_s: float
    correct: bool
    cpu_s: float | None = None
    duplicates: int = 0


@dataclass(frozen=True)
class Planted:
    family: str
    n: int
    culprits: frozenset[int]

    def interesting(self, config: Iterable[int]) -> bool:
        present = set(config)
        if self.family == "all":
            return self.culprits <= present
        return bool(self.culprits & present)

    def outcome(self, config: Config) -> Outcome:
        return Outcome.GOOD if self.interesting(config) else Outcome.BAD

    def is_answer(self, result: Iterable[int]) -> bool:
        found = frozenset(result)
        if self.family == "all":
            return found == self.culprits
        return len(found) == 1 and found <= self.culprits


def plant(family: str, n: int, count: int, seed: int) -> Planted:
    rng = random.Random(f"{family}-{n}-{count}-{seed}")
    return Planted(family, n, frozenset(rng.sample(range(n), count)))


def placements(family: str, n: int, count: int, *, seeds: int, all_up_to: int) -> list[Planted]:
    """Every placement of ``count`` culprits when there are few, else ``seeds`` drawn ones."""
    if math.comb(n, count) <= all_up_to:
        return [Planted(family, n, frozenset(c)) for c in itertools.combinations(range(n), count)]
    return [plant(family, n, count, seed) for seed in range(seeds)]


# -- this engine -------------------------------------------------------------------


class _Driver:
    """Keeps up to ``k`` candidates in flight; every answer takes ``latency``."""

    def __init__(
        self, search: Search, planted: Planted, k: int, latency: float, *, withdraw: bool
    ) -> None:
        self.search = search
        self.planted = planted
        self.k = k
        self.latency = latency
        self.withdraw = withdraw
        self.cpu = 0.0
        self.sent: list[Config] = []
        self.cancelled = 0
        self.scopes: dict[Config, tuple[Candidate, anyio.CancelScope]] = {}
        self.answers_in, self.answers_out = anyio.create_memory_object_stream[
            tuple[Candidate, Outcome]
        ](math.inf)

    def _core(self, fn: Callable[..., Any], *args: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args)
        finally:
            self.cpu += time.process_time() - start

    async def _ask(self, candidate: Candidate, scope: anyio.CancelScope) -> None:
        with scope:
            await anyio.sleep(self.latency)
            await self.answers_in.send((candidate, self.planted.outcome(candidate.config)))

    def _top_up(self, tg: TaskGroup) -> None:
        fresh: list[Candidate] = self._core(self.search.propose, self.k - len(self.scopes))
        for candidate in fresh:
            scope = anyio.CancelScope()
            self.scopes[candidate.config] = (candidate, scope)
            self.sent.append(candidate.config)
            tg.start_soon(self._ask, candidate, scope)

    def _withdraw(self, candidates: Iterable[Candidate]) -> None:
        for candidate in candidates:
            self.scopes.pop(candidate.config)[1].cancel()
            self._core(self.search.cancel, candidate)
            self.cancelled += 1

    async def run(self) -> None:
        async with anyio.create_task_group() as tg:
            self._top_up(tg)
            while self.search.state is State.WAITING:
                if not self.scopes:
                    raise RuntimeError("the search is not done but proposes nothing")
                candidate, outcome = await self.answers_out.receive()
                current = self.scopes.get(candidate.config)
                if current is None or current[0] is not candidate:
                    continue  # withdrawn after it was answered
                del self.scopes[candidate.config]
                self._core(self.search.feed, candidate, outcome)
                if self.withdraw:
                    self._withdraw(self._core(self.search.obsolete))
                self._top_up(tg)
            self._withdraw(list(self.search.in_flight))


def run_reqbisect(planted: Planted, k: int, latency: float, *, withdraw: bool = False) -> Sample:
    space = Space.flat(planted.n)
    known = {frozenset(): Outcome.BAD, space.everything: Outcome.GOOD}
    start = time.process_time()
    search = Search(minimise(space, target=Outcome.GOOD), known=known)
    setup = time.process_time() - start
    driver = _Driver(search, planted, k, latency, withdraw=withdraw)
    began = time.perf_counter()
    anyio.run(driver.run)
    wall = time.perf_counter() - began
    correct = (search.state is State.DONE) and search.best.minimal and planted.is_answer(search.best.good)
    unique = len(set(driver.sent))
    return Sample(
        calls=len(driver.sent),
        unique=unique,
        rounds=search.stats.rounds,
        cancelled=driver.cancelled,
        wall_s=wall,
        correct=correct,
        cpu_s=setup + driver.cpu,
        duplicates=len(driver.sent) - unique,
    )


# -- picire ---------------------------------------------------------------------------


def rounds_from_times(spans: Sequence[tuple[float, float | None]]) -> int:
    """One more than the latest round finished before each call started."""
    finished: list[tuple[float, int]] = []
    best = 0
    for start, end in sorted(spans):
        previous = max((r for e, r in finished if e <= start), default=0)
        best = max(best, previous + 1)
        if end is not None:
            finished.append((end, previous + 1))
    return best


class _PicireTest:
    """picire's test function: sleeps, records the call, answers FAIL when interesting."""

    def __init__(self, planted: Planted, latency: float, log: Any) -> None:
        import picire

        self.planted = planted
        self.latency = latency
        self.log = log
        self.fail, self.pass_ = picire.Outcome.FAIL, picire.Outcome.PASS

    def __call__(self, config: list[int], config_id: tuple[str, ...]) -> Any:
        key = tuple(config)
        self.log.append(("start", key, time.monotonic()))
        time.sleep(self.latency)
        self.log.append(("end", key, time.monotonic()))
        return self.fail if self.planted.interesting(config) else self.pass_


def run_picire(planted: Planted, k: int, latency: float) -> Sample:
    import picire

    if k == 1:
        log: list[Any] = []
        began = time.perf_counter()
        result = picire.DD(_PicireTest(planted, latency, log))(list(range(planted.n)))
        events = log
    else:
        # The test runs in forked processes: the log must be shared.
        with multiprocessing.Manager() as manager:
            shared = manager.list()
            reduce = picire.ParallelDD(_PicireTest(planted, latency, shared), proc_num=k)
            began = time.perf_counter()
            result = reduce(list(range(planted.n)))
            events = list(shared)
    wall = time.perf_counter() - began
    starts = [(key, at) for kind, key, at in events if kind == "start"]
    ends: dict[tuple[int, ...], list[float]] = {}
    for kind, key, at in events:
        if kind == "end":
            ends.setdefault(key, []).append(at)
    spans: list[tuple[float, float | None]] = []
    for key, at in sorted(starts, key=lambda item: item[1]):
        pending = ends.get(key, [])
        later = [e for e in pending if e >= at]
        end = min(later) if later else None
        if end is not None:
            pending.remove(end)
        spans.append((at, end))
    unique = len({key for key, _ in starts})
    return Sample(
        calls=len(starts),
        unique=unique,
        rounds=rounds_from_times(spans),
        cancelled=sum(1 for _, end in spans if end is None),
        wall_s=wall,
        correct=planted.is_answer(result),
        duplicates=len(starts) - unique,
    )


# -- computed rows ----------------------------------------------------------------------


def possibilities(family: str, n: int, culprits: int) -> int:
    return math.comb(n, culprits) if family == "all" else n


def information_bound(family: str, n: int, culprits: int) -> int:
    return math.ceil(math.log2(possibilities(family, n, culprits)))


def floor_calls(family: str, n: int, culprits: int) -> float:
    """Mean calls of the best strategy that knows ``culprits`` and verifies with real calls."""
    p = possibilities(family, n, culprits)
    depth = p.bit_length() - 1  # an optimal tree over p equal leaves: 2^depth .. 2^(depth+1)
    mean_depth = depth + 2 * (p - 2**depth) / p
    verification = culprits if family == "all" and culprits >= 2 else 0
    return mean_depth + verification


def round_bound(family: str, n: int, culprits: int, k: int) -> int:
    # ceil(log_(k+1)(p)) without floating-point surprises at exact powers.
    p, rounds, reach = possibilities(family, n, culprits), 0, 1
    while reach < p:
        reach *= k + 1
        rounds += 1
    return rounds


def computed_rows(family: str, n: int, culprits: int, k: int) -> list[Row]:
    naive_rounds = math.ceil(n / k)
    bound = information_bound(family, n, culprits)
    bound_rounds = bound if k == 1 else round_bound(family, n, culprits, k)
    return [
        Row("naive", family, n, culprits, k, n, n, naive_rounds, 0, naive_rounds * LATENCY, True),
        Row("bound", family, n, culprits, k, bound, bound, bound_rounds, 0, bound_rounds * LATENCY, None),
    ] + (
        [Row("floor", family, n, culprits, k, *[floor_calls(family, n, culprits)] * 2, None, 0, 0.0, None)]
        if k == 1
        else []
    )


# -- the grid ----------------------------------------------------------------------------


@dataclass
class Cell:
    family: str
    n: int
    culprits: int
    k: int
    rows: dict[str, Row] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def summarise(engine: str, cell: Cell, samples: Sequence[Sample]) -> Row:
    rounds = [s.rounds for s in samples if s.rounds is not None]
    cpu = [s.cpu_s for s in samples if s.cpu_s is not None]
    return Row(
        engine=engine,
        family=cell.family,
        n=cell.n,
        culprits=cell.culprits,
        k=cell.k,
        calls=mean([s.calls for s in samples]),
        unique=mean([s.unique for s in samples]),
        rounds=mean(rounds) if rounds else None,
        cancelled=mean([s.cancelled for s in samples]),
        wall_s=mean([s.wall_s for s in samples]),
        correct=all(s.correct for s in samples),
        cpu_s=mean(cpu) if cpu else None,
    )


Runner = Callable[[Planted, int, float], Sample]


def run_grid(
    sizes: Sequence[int], seeds: int, all_up_to: int, engines: dict[str, Runner], progress: Any
) -> list[Cell]:
    cells: list[Cell] = []
    for family in FAMILIES:
        for n in sizes:
            for culprits in CULPRITS:
                if culprits > n:
                    continue
                for k in SLOTS:
                    cell = Cell(family, n, culprits, k)
                    for row in computed_rows(family, n, culprits, k):
                        cell.rows[row.engine] = row
                    planted = placements(family, n, culprits, seeds=seeds, all_up_to=all_up_to)
                    for name, runner in engines.items():
                        samples = [runner(p, k, LATENCY) for p in planted]
                        cell.rows[name] = summarise(name, cell, samples)
                        cell.duplicates[name] = sum(s.duplicates for s in samples)
                    cells.append(cell)
                    print(
                        f"  {family} n={n} c={culprits} k={k}: {len(planted)} placements done",
                        file=progress,
                        flush=True,
                    )
    return cells


# -- output ------------------------------------------------------------------------------


def format_number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}"


def table(cells: Sequence[Cell]) -> str:
    header = (
        f"{'family':6} {'n':>5} {'c':>2} {'k':>2}  {'engine':10} {'calls':>7} {'unique':>7} "
        f"{'rounds':>7} {'cancel':>6} {'wall_s':>7} {'cpu_ms':>7} {'correct':>7}"
    )
    lines = [header, "-" * len(header)]
    for cell in cells:
        for row in cell.rows.values():
            cpu = None if row.cpu_s is None else row.cpu_s * 1000
            correct = "-" if row.correct is None else ("yes" if row.correct else "NO")
            lines.append(
                f"{row.family:6} {row.n:>5} {row.culprits:>2} {row.k:>2}  {row.engine:10} "
                f"{format_number(row.calls):>7} {format_number(row.unique):>7} "
                f"{format_number(row.rounds):>7} {format_number(row.cancelled):>6} "
                f"{row.wall_s:>7.2f} {format_number(cpu, 2):>7} {correct:>7}"
            )
        lines.append("")
    lines.append(
        "naive, bound and floor rows are computed, not run (naive: n calls in ceil(n/k) rounds; "
        "wall_s = rounds x 20 ms; floor: see the module docstring)."
    )
    return "\n".join(lines)


@dataclass
class Check:
    name: str
    failures: list[str]

    @property
    def line(self) -> str:
        verdict = "PASS" if not self.failures else "FAIL"
        detail = "" if not self.failures else ": " + "; ".join(self.failures)
        return f"{verdict} {self.name}{detail}"


def checks(cells: Sequence[Cell], *, with_picire: bool) -> list[Check]:
    by_key = {(cell.family, cell.n, cell.culprits, cell.k): cell for cell in cells}

    def where(cell: Cell) -> str:
        return f"{cell.family} n={cell.n} c={cell.culprits} k={cell.k}"

    def calls(engine: str) -> Callable[[Cell], float | None]:
        return lambda cell: cell.rows[engine].calls if engine in cell.rows else None

    def sequential_calls(cell: Cell) -> float | None:
        sequential = by_key.get((cell.family, cell.n, cell.culprits, 1))
        return None if sequential is None else sequential.rows["reqbisect"].calls

    def compare(
        name: str,
        family: str,
        k: int,
        factor: float,
        reference: Callable[[Cell], float | None],
        *,
        measure: Callable[[Cell], float | None] = calls("reqbisect"),
        culprits: Callable[[int], bool] = lambda c: True,
    ) -> Check:
        """Every cell of ``family`` at ``k``: ``measure`` at most ``factor`` x ``reference``."""
        failures = []
        for cell in cells:
            if cell.family != family or cell.k != k or not culprits(cell.culprits):
                continue
            ours, theirs = measure(cell), reference(cell)
            if ours is not None and theirs is not None and ours > factor * theirs:
                failures.append(f"{where(cell)}: {format_number(ours)} > {factor} x {format_number(theirs, 2)}")
        return Check(name, failures)

    results = [
        compare("all, k=1: calls within 1.5x the information bound", "all", 1, 1.5, calls("bound")),
        compare(
            "all, k=1: calls within 1.5x the floor (information plus verification)", "all", 1, 1.5, calls("floor")
        ),
    ]
    if with_picire:
        results.append(
            compare(
                "all, k=1, c>=2: calls at most half of picire's", "all", 1, 0.5, calls("picire"),
                culprits=lambda c: c >= 2,
            )
        )
    results += [
        compare(
            "all, k=8, c=1: rounds within 2x ceil(log_9(possibilities))", "all", 8, 2,
            lambda cell: round_bound(cell.family, cell.n, cell.culprits, 8),
            measure=lambda cell: cell.rows["reqbisect"].rounds or 0.0,
            culprits=lambda c: c == 1,
        ),
        compare("all, k=8: calls at most 2x the k=1 calls", "all", 8, 2, sequential_calls),
        compare("any, k=1: calls within 1.5x the information bound", "any", 1, 1.5, calls("bound")),
        Check(
            "reqbisect: zero duplicate calls",
            [
                f"{where(cell)}: {cell.duplicates['reqbisect']} repeated"
                for cell in cells
                if cell.duplicates.get("reqbisect")
            ],
        ),
        Check(
            "reqbisect: every answer correct and 1-minimal",
            [where(cell) for cell in cells if not cell.rows["reqbisect"].correct],
        ),
    ]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only n <= 512")
    parser.add_argument("--json", action="store_true", help="rows as JSON on stdout")
    parser.add_argument(
        "--seeds", type=int, default=3, help="culprit placements drawn per large cell (default 3)"
    )
    parser.add_argument(
        "--all-up-to",
        type=int,
        default=70,
        metavar="P",
        help="run every placement of a cell that has at most P of them (default 70)",
    )
    parser.add_argument("--no-picire", action="store_true", help="leave picire out")
    parser.add_argument(
        "--withdraw-obsolete",
        action="store_true",
        help="cancel in-flight candidates as soon as obsolete() reports them",
    )
    args = parser.parse_args(argv)

    human = sys.stderr if args.json else sys.stdout
    engines: dict[str, Runner] = {
        "reqbisect": functools.partial(run_reqbisect, withdraw=args.withdraw_obsolete)
    }
    if not args.no_picire:
        try:
            import picire  # noqa: F401
        except ImportError:
            print("picire is not installed (pip install picire==21.8): its rows are skipped", file=human)
        else:
            engines["picire"] = run_picire

    sizes = QUICK_SIZES if args.quick else SIZES
    print(
        f"fix mode, flat spaces, {LATENCY * 1000:.0f} ms per call; "
        f"means over every culprit placement where a cell has at most {args.all_up_to}, "
        f"else over placements from seeds 0..{args.seeds - 1}",
        file=human,
    )
    cells = run_grid(sizes, args.seeds, args.all_up_to, engines, progress=sys.stderr)
    print(table(cells), file=human)
    print(file=human)
    verdicts = checks(cells, with_picire="picire" in engines)
    for verdict in verdicts:
        print(verdict.line, file=human)
    if args.json:
        rows = [asdict(row) for cell in cells for row in cell.rows.values()]
        json.dump(rows, sys.stdout, indent=1)
        print()
    return 0 if all(not v.failures for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
