"""Array alignment for the diff: which elements of two arrays stand for each other.

Rules
-----
* By identity: if every element of both arrays is an object carrying one identity key
  (the first of ``id``, ``name``, ``key`` that all have, with unique scalar values in
  each array, compared strictly: ``1``, ``1.0`` and ``true`` differ), elements with the
  same identity are matched.
* Otherwise by equality: elements are matched when strictly equal (objects compare by
  content, whatever their key order).
* Either way the common prefix and suffix are trimmed first, and the middle goes
  through :class:`difflib.SequenceMatcher` (without its junk heuristic), which finds
  the longest matching blocks in order; what lies between two blocks is a *gap* that
  the diff fills with its own changes.
* In a gap, :func:`pair_similar` pairs elements that are *similar*: two objects or two
  arrays whose leaves (scalar values and empty containers, each with its path inside
  the element) are mostly shared: ``2 * shared / (leaves of x + leaves of y) > 1/2``
  (the Dice coefficient). A text block that gained ``cache_control`` is similar to
  the block it was; two text blocks that share only ``"type": "text"`` are not. The
  pairs are the order-preserving set of similar pairs with the greatest total
  similarity (a heaviest increasing chain), found the same way every time.

Cost: an element's leaves are collected once, at most :data:`LEAF_CAP` of them (in
document order); a gap larger than :data:`CELL_BUDGET` element pairs only compares
elements near its diagonal (a band as wide as the budget allows), so pairing a gap of
``n`` by ``m`` elements costs at most about ``CELL_BUDGET`` comparisons.

Deliberately skipped: move detection. ``SequenceMatcher`` can be quadratic on long
arrays full of repeated elements once trimming has not helped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import SequenceMatcher

from reqbisect._types import JSONValue

__all__ = ["CELL_BUDGET", "LEAF_CAP", "Alignment", "align", "pair_similar"]

_IDENTITY_KEYS = ("id", "name", "key")

#: Element pairs of one gap compared for similarity at most (beyond it, a diagonal band).
CELL_BUDGET = 20_000
#: Leaves of one element looked at for similarity at most.
LEAF_CAP = 256


@dataclass(frozen=True, slots=True)
class Alignment:
    """Matching blocks of two arrays, and whether they were matched by identity."""

    #: ``(i, j, size)``: ``a[i:i + size]`` stands for ``b[j:j + size]``; in order, the
    #: first at ``(0, 0, ...)`` and the last ending at both arrays' ends (sizes may be 0).
    blocks: list[tuple[int, int, int]]
    #: Matched by identity key (a matched pair may differ) rather than by equality.
    by_identity: bool


def align(a: list[JSONValue], b: list[JSONValue]) -> Alignment:
    """Align two arrays.

    Args:
        a: the base array.
        b: the target array.

    Returns:
        The matching blocks, by identity key when both are keyed arrays of objects,
        else by strict equality.
    """
    keys = _identities(a, b)
    by_identity = keys is not None
    if keys is not None:
        ka, kb = keys
    else:
        ka = [_sequence_key(x) for x in a]
        kb = [_sequence_key(x) for x in b]
    n, m = len(a), len(b)
    head = 0
    while head < min(n, m) and ka[head] == kb[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and ka[n - 1 - tail] == kb[m - 1 - tail]:
        tail += 1
    blocks = [(0, 0, head)]
    if head + tail < max(n, m):
        matcher = SequenceMatcher(None, ka[head : n - tail], kb[head : m - tail], autojunk=False)
        blocks += [(head + i, head + j, size) for i, j, size in matcher.get_matching_blocks() if size]
    blocks.append((n - tail, m - tail, tail))
    return Alignment(blocks, by_identity)


def _sequence_key(value: JSONValue) -> object:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return (type(value), value)


def _identities(a: list[JSONValue], b: list[JSONValue]) -> tuple[list[object], list[object]] | None:
    """The identity of each element of ``a`` and ``b``, if both are keyed arrays of objects."""
    da = [x for x in a if isinstance(x, dict)]
    db = [x for x in b if isinstance(x, dict)]
    if not da or not db or len(da) != len(a) or len(db) != len(b):
        return None
    for key in _IDENTITY_KEYS:
        if all(key in x for x in da) and all(key in x for x in db):
            if not all(_is_scalar(x[key]) for x in da) or not all(_is_scalar(x[key]) for x in db):
                return None
            ka: list[object] = [(type(x[key]), x[key]) for x in da]
            kb: list[object] = [(type(x[key]), x[key]) for x in db]
            if len(set(ka)) != len(ka) or len(set(kb)) != len(kb):
                return None
            return ka, kb
    return None


def _is_scalar(value: JSONValue) -> bool:
    return not isinstance(value, (dict, list))


# -- similarity inside a gap ------------------------------------------------------------


def pair_similar(xs: list[JSONValue], ys: list[JSONValue]) -> list[tuple[int, int]]:
    """Pair similar elements of two unmatched runs, keeping their order.

    Args:
        xs: elements of the base array (a gap).
        ys: elements of the target array (the same gap).

    Returns:
        ``(i, j)`` pairs, increasing in both ``i`` and ``j``: ``xs[i]`` and ``ys[j]``
        are similar containers of the same type, and no other order-preserving choice
        of similar pairs (within the diagonal band, for a gap past :data:`CELL_BUDGET`)
        has a greater total similarity.
    """
    n, m = len(xs), len(ys)
    if not n or not m:
        return []
    la = [_leaves(x) for x in xs]
    lb = [_leaves(y) for y in ys]
    width = max(n, m) if n * m <= CELL_BUDGET else max(1, CELL_BUDGET // (2 * max(n, m)))
    best: dict[tuple[int, int], float] = {}  # the heaviest chain ending in (i, j)
    links: dict[tuple[int, int], tuple[int, int] | None] = {}
    tree = _MaxTree(m)
    for i in range(n):
        if la[i] is None:
            continue
        centre = (i * m) // n
        row = []  # a row sees only chains that end in earlier rows
        for j in range(max(0, centre - width), min(m, centre + width + 1)):
            score = _similarity(xs[i], ys[j], la[i], lb[j])
            if score is not None:
                total, at = tree.query(j)
                row.append((j, total + score, at))
        for j, total, at in row:
            best[(i, j)] = total
            links[(i, j)] = at
            tree.update(j, total, (i, j))
    if not best:
        return []
    end: tuple[int, int] | None = max(best, key=best.__getitem__)  # the first of the heaviest
    chain = []
    while end is not None:
        chain.append(end)
        end = links[end]
    return chain[::-1]


_Leaves = frozenset[tuple[object, ...]]


def _leaves(value: JSONValue) -> _Leaves | None:
    """The leaves of a container, each as ``(*path, kind, value)``; ``None`` for a scalar."""
    if not isinstance(value, (dict, list)):
        return None
    out: list[tuple[object, ...]] = []
    stack: list[tuple[tuple[object, ...], JSONValue]] = [((), value)]
    while stack and len(out) < LEAF_CAP:
        path, item = stack.pop()
        if isinstance(item, dict) and item:
            stack.extend(((*path, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list) and item:
            stack.extend(((*path, k), v) for k, v in reversed(list(enumerate(item))))
        elif isinstance(item, (dict, list)):
            out.append((*path, type(item).__name__, None))
        else:
            out.append((*path, type(item).__name__, item))
    return frozenset(out)


def _similarity(x: JSONValue, y: JSONValue, lx: _Leaves | None, ly: _Leaves | None) -> float | None:
    """The Dice coefficient of two containers' leaves, when above one half."""
    if lx is None or ly is None or type(x) is not type(y):
        return None
    shared = len(lx & ly)
    score = 2 * shared / (len(lx) + len(ly))
    return score if score > 0.5 else None


class _MaxTree:
    """A Fenwick tree of prefix maxima over ``j``: the heaviest chain ending before ``j``."""

    def __init__(self, size: int) -> None:
        self._best: list[tuple[float, tuple[int, int] | None]] = [(0.0, None)] * (size + 1)

    def query(self, j: int) -> tuple[float, tuple[int, int] | None]:
        """The heaviest chain whose last pair has a ``j`` below ``j`` (weight, last pair)."""
        found = self._best[0]
        while j > 0:
            if self._best[j][0] > found[0]:
                found = self._best[j]
            j -= j & -j
        return found

    def update(self, j: int, total: float, at: tuple[int, int]) -> None:
        """Record a chain of weight ``total`` ending in ``at``, whose ``j`` is ``j``."""
        j += 1
        while j < len(self._best):
            if total > self._best[j][0]:
                self._best[j] = (total, at)
            j += j & -j
