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

Deliberately skipped: similarity-based matching and move detection.
``SequenceMatcher`` can be quadratic on long arrays full of repeated elements once
trimming has not helped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import SequenceMatcher

from reqbisect._types import JSONValue

__all__ = ["Alignment", "align"]

_IDENTITY_KEYS = ("id", "name", "key")


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
