"""The set of changes a search chooses from.

Changes are numbered ``0..n-1`` in preorder of the change tree: a change's
parent (the added container it lives in) always has a smaller number, and the
changes of one subtree are contiguous. A *configuration* is a set of change
numbers that is closed under parents: a change is only ever applied together
with the container it lives in.

``cut`` numbers say where a contiguous run may be split: the cut between
``i - 1`` and ``i`` is how many path levels the two changes share. Splitting
where the cut is lowest keeps whole subtrees together, so a search tests
"all header changes" or "the whole added ``system`` array" before their parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Config = frozenset[int]


@dataclass(frozen=True, slots=True)
class Space:
    """Changes ``0..n-1`` with their parents and their places in the tree."""

    parents: tuple[int | None, ...]
    paths: tuple[tuple[object, ...], ...]

    @classmethod
    def flat(cls, n: int) -> Space:
        """``n`` independent changes with no structure."""
        return cls(parents=(None,) * n, paths=tuple((i,) for i in range(n)))

    def __post_init__(self) -> None:
        if len(self.parents) != len(self.paths):
            raise ValueError("parents and paths must have the same length")
        for i, parent in enumerate(self.parents):
            if parent is not None and not 0 <= parent < i:
                raise ValueError(f"change {i}: parent {parent} must come before it")

    @property
    def size(self) -> int:
        return len(self.parents)

    @property
    def everything(self) -> Config:
        return frozenset(range(len(self.parents)))

    def cut(self, left: int, right: int) -> int:
        """How deep a split between ``left`` and ``right`` cuts (0 is the top)."""
        a, b = self.paths[left], self.paths[right]
        depth = 0
        for x, y in zip(a, b):
            if x != y:
                break
            depth += 1
        return depth

    def without(self, config: Config, removed: Iterable[int]) -> Config:
        """``config`` minus ``removed`` and everything that lived inside them."""
        gone = set(removed)
        if not gone:
            return config
        first = min(gone)
        kept = {i for i in config if i < first}
        parents = self.parents
        for i in range(first, len(parents)):
            parent = parents[i]
            if i in config and i not in gone and (parent is None or parent in kept):
                kept.add(i)
        return frozenset(kept)

    def including(self, config: Config, added: Iterable[int]) -> Config:
        """``config`` plus ``added`` and the containers they live in."""
        result = set(config)
        parents = self.parents
        for i in added:
            node: int | None = i
            while node is not None and node not in result:
                result.add(node)
                node = parents[node]
        return frozenset(result)

    def split(self, run: Sequence[int], parts: int = 2) -> list[tuple[int, ...]]:
        """Split ``run`` into ``parts`` nearly equal pieces at the shallowest cuts."""
        n = len(run)
        parts = max(1, min(parts, n))
        bounds = [0]
        for k in range(1, parts):
            bounds.append(self._boundary(run, round(k * n / parts), bounds[-1] + 1, n - (parts - k)))
        bounds.append(n)
        return [tuple(run[a:b]) for a, b in zip(bounds, bounds[1:])]

    def tops(self, run: Iterable[int]) -> dict[int, int]:
        """Each change of ``run`` mapped to its *top*: its outermost container in ``run``.

        A top is a change of ``run`` whose parent is not in ``run``: a change at
        the top level, or one inside an added container that is not in ``run``.
        """
        inside = set(run)
        top: dict[int, int] = {}
        for i in sorted(inside):
            parent = self.parents[i]
            top[i] = top[parent] if parent is not None and parent in inside else i
        return top

    def outer_first(self, run: Iterable[int]) -> tuple[int, ...]:
        """``run`` in preorder, except that subtrees inside containers outside ``run`` come last.

        Such a subtree holds fields of an added container that a search found
        to matter: a server usually requires most of them and answers their
        removal with some other error, so a chunk taken from the front holds
        the unrelated parts (other headers, other body keys) first and the
        container's fields are left to be tested on their own.
        """
        top = self.tops(run)
        return tuple(sorted(top, key=lambda i: (self.parents[top[i]] is not None, i)))

    def head(self, run: Sequence[int], size: int) -> tuple[int, ...]:
        """The first piece of about ``size`` changes of ``run``, cut where it is shallowest."""
        if size >= len(run):
            return tuple(run)
        return tuple(run[: self._boundary(run, size, 1, len(run) - 1)])

    def _boundary(self, run: Sequence[int], ideal: int, lo: int, hi: int) -> int:
        """A split index near ``ideal`` (within a fifth of it) on the shallowest cut."""
        slack = ideal // 5
        lo, hi = max(lo, ideal - slack), min(hi, ideal + slack)
        best = max(lo, min(ideal, hi))
        best_key = (self.cut(run[best - 1], run[best]), abs(best - ideal))
        for j in range(lo, hi + 1):
            key = (self.cut(run[j - 1], run[j]), abs(j - ideal))
            if key < best_key:
                best, best_key = j, key
        return best
