"""The structural diff: a tree of independently applicable changes between two JSON values.

Rules
-----
``diff(a, b)`` turns the difference between two JSON values into numbered changes, such
that *any* subset of them applied to ``a`` gives a valid JSON value, none gives ``a`` and
all give ``b`` (DESIGN.md, "Diff, changes, patch"). Values compare strictly: ``1``,
``1.0`` and ``True`` are three different values.

* Objects diff by key. A key only in ``b`` is an ``add``, only in ``a`` a ``remove``; a key
  in both recurses into two objects, aligns two arrays, tokenises two strings, and is a
  ``replace`` otherwise. The result keeps the keys of ``a`` in their order, then the added
  keys in the order of ``b``.
* Arrays are aligned. If every element of both is an object carrying one identity key
  (the first of ``id``, ``name``, ``key`` that all have, with unique scalar values in each
  array), elements with the same identity are matched and recurse. Otherwise elements
  are matched when equal: the common prefix and suffix are trimmed and the middle goes
  through :class:`difflib.SequenceMatcher`. Between two matched runs lies a gap; when
  matching by equality, the gap's elements are paired by position, and a pair of two
  objects or two arrays recurses. Every other unmatched element is a ``delete`` (from
  ``a``) or an ``insert`` (from ``b``).
* An added, inserted or replacing container is an atom meaning "the empty container",
  and each of its members is a child change whose ``parent`` is that atom, down to the
  scalar leaves. A change counts only when its whole parent chain is applied.
* Two strings that split into at least two pieces each and share a piece are diffed by
  pieces (``token`` changes): both look like URLs or paths (contain ``://`` or start with
  ``/``) -> cut before each run of ``/``, ``?``, ``&``; otherwise, of "runs of ``,``/``;``
  with the whitespace after them" and "runs of whitespace", the class that both strings
  contain and that cuts them into more pieces (lists win ties). Each piece is its
  separator followed by its text, so pieces concatenate back to the string. Unmatched
  pieces in a gap are paired by position into one change each (old piece -> new piece);
  the surplus are insertions (``old`` is ``None``) or deletions (``new`` is ``None``).

Numbering and paths
-------------------
Changes are numbered in preorder of the document: keys of an object in result order,
array slots left to right, an atom right before its members. So a change's parent has a
smaller number and each subtree is the contiguous range ``id .. end - 1``. A change's
``path`` names where it lives as RFC 6901 reference tokens. Array indices in paths count
the elements of ``a``: a deleted or recursed-into element has its index in ``a``; an
inserted element has the index of the element of ``a`` it stands opposite in its gap
(the gap's end for surplus ones), which is where it lands if applied alone; so the
indices into one array never decrease along the numbering. Inside an added container,
paths are those of ``b``. Token changes carry the string's own path.

Theory of operation
-------------------
``diff`` walks both values once and builds a *plan* that mirrors the document but holds
only the places that change (equal subtrees are skipped: ``is``, strict equality, array
ends trimmed), so its size follows the difference, not the document. Applying a subset
walks the plan; a node whose range of change numbers holds no selected change returns
the subtree of ``a`` itself, so results share every unchanged subtree with ``a`` (treat
them as read-only) and only containers on a changed path are shallow-copied.

Rendering a subset as RFC 6902 follows the same walk. Operations are applied in order
(RFC 6902 section 3), so array positions are tracked while walking an array's slots: an
element of ``a`` that stays, or that is recursed into, advances the position; an applied
``delete`` becomes ``remove`` (section 4.2) at the current position; an applied
``insert`` becomes ``add`` (section 4.1) at it and advances it. An applied ``add`` of an
object member is one ``add`` whose value is the partially built container; an applied
``replace`` is one ``replace`` (section 4.3), and so is a string with any token applied.
Paths are escaped per RFC 6901 section 3 (``~`` as ``~0``, then ``/`` as ``~1``). The
patch never uses ``move``, ``copy`` or ``test``.

Deliberately skipped: similarity-based pairing inside gaps (pairing is positional),
move detection, and splitting strings inside arrays into tokens (a changed string element
is a ``delete`` plus an ``insert``). ``SequenceMatcher`` can be quadratic on long arrays
full of repeated elements once trimming has not helped.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Union

from reqbisect._types import JSONValue, Patch
from reqbisect.pointer import format_pointer

__all__ = ["Change", "ChangeTree", "diff"]

_IDENTITY_KEYS = ("id", "name", "key")
_PATH_CUT = re.compile(r"[/?&]+")
_LIST_CUT = re.compile(r"(?:[,;]\s*)+")
_SPACE_CUT = re.compile(r"\s+")
_BRIEF = 60


def _brief(value: JSONValue) -> str:
    if isinstance(value, dict):
        return f"{{…{len(value)} key{'' if len(value) == 1 else 's'}}}"
    if isinstance(value, list):
        return f"[…{len(value)} item{'' if len(value) == 1 else 's'}]"
    if isinstance(value, str) and len(value) > _BRIEF:
        return json.dumps(value[: _BRIEF - 1] + "…", ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a :class:`ChangeTree`.

    ``kind`` is ``add``/``remove``/``replace`` (object member or whole value),
    ``insert``/``delete`` (array element) or ``token`` (a piece of a string). For an
    added, inserted or replacing container, the change itself means "the empty
    container" and ``new`` is the full value in ``b``. For a token, ``old``/``new`` are
    the pieces of text, ``None`` when the piece is inserted or deleted. ``end`` is one
    past the last change of this change's subtree.
    """

    id: int
    parent: int | None
    kind: str
    path: tuple[str | int, ...]
    old: JSONValue
    new: JSONValue
    end: int

    @property
    def pointer(self) -> str:
        """The JSON Pointer of :attr:`path`."""
        return format_pointer(self.path)

    @property
    def summary(self) -> str:
        """One line for humans, e.g. ``replace /model: "a" -> "b"`` (values unredacted)."""
        where = self.pointer or "(root)"
        if self.kind in ("add", "insert"):
            return f"{self.kind} {where} = {_brief(self.new)}"
        if self.kind in ("remove", "delete"):
            return f"{self.kind} {where} (was {_brief(self.old)})"
        if self.kind == "token" and self.old is None:
            return f"token {where}: insert {_brief(self.new)}"
        if self.kind == "token" and self.new is None:
            return f"token {where}: delete {_brief(self.old)}"
        return f"{self.kind} {where}: {_brief(self.old)} -> {_brief(self.new)}"


# The plan: what diff() found, in the shape of the document. Every edit node has
# apply(base, sel) -> value and ops(base, sel, pointer, out); [lo, hi) is the range of
# change ids below it, so a node no selected id falls in hands back ``base`` untouched.


@dataclass(frozen=True, slots=True)
class _Selection:
    """The chosen change ids, as a set and sorted for range queries."""

    ids: frozenset[int]
    order: list[int]

    def touches(self, lo: int, hi: int) -> bool:
        i = bisect_left(self.order, lo)
        return i < len(self.order) and self.order[i] < hi


@dataclass(frozen=True, slots=True)
class _New:
    """A value that arrives whole from ``b``: an atom plus, for containers, members."""

    id: int
    scalar: JSONValue
    keys: tuple[str, ...] | None
    items: tuple[_New, ...] | None

    def build(self, ids: frozenset[int]) -> JSONValue:
        items = self.items
        if items is None:
            return self.scalar
        if self.keys is None:
            return [item.build(ids) for item in items if item.id in ids]
        return {k: item.build(ids) for k, item in zip(self.keys, items) if item.id in ids}


@dataclass(frozen=True, slots=True)
class _Replace:
    """The whole value replaced by ``new`` (when its atom is selected)."""

    new: _New

    def apply(self, base: JSONValue, sel: _Selection) -> JSONValue:
        return self.new.build(sel.ids) if self.new.id in sel.ids else base

    def ops(self, base: JSONValue, sel: _Selection, pointer: str, out: Patch) -> None:
        if self.new.id in sel.ids:
            out.append({"op": "replace", "path": pointer, "value": self.new.build(sel.ids)})


@dataclass(frozen=True, slots=True)
class _Piece:
    id: int  # -1 for a piece both strings share
    old: str  # "" when the piece is inserted
    new: str  # "" when the piece is deleted


@dataclass(frozen=True, slots=True)
class _TextDiff:
    """A string as pieces; each differing piece is one token change."""

    lo: int
    hi: int
    pieces: tuple[_Piece, ...]

    def apply(self, base: JSONValue, sel: _Selection) -> JSONValue:
        if not sel.touches(self.lo, self.hi):
            return base
        ids = sel.ids
        return "".join(p.new if p.id in ids else p.old for p in self.pieces)

    def ops(self, base: JSONValue, sel: _Selection, pointer: str, out: Patch) -> None:
        if sel.touches(self.lo, self.hi):
            out.append({"op": "replace", "path": pointer, "value": self.apply(base, sel)})


@dataclass(frozen=True, slots=True)
class _Added:
    key: str
    new: _New


@dataclass(frozen=True, slots=True)
class _Removed:
    key: str
    id: int


@dataclass(frozen=True, slots=True)
class _Edited:
    key: str
    edit: _Edit


@dataclass(frozen=True, slots=True)
class _ObjectDiff:
    """The members of an object that change, in result order."""

    lo: int
    hi: int
    members: tuple[_Added | _Removed | _Edited, ...]

    def apply(self, base: JSONValue, sel: _Selection) -> JSONValue:
        if not sel.touches(self.lo, self.hi):
            return base
        assert isinstance(base, dict)
        ids = sel.ids
        out = dict(base)
        for m in self.members:
            if isinstance(m, _Edited):
                out[m.key] = m.edit.apply(base[m.key], sel)
            elif isinstance(m, _Added):
                if m.new.id in ids:
                    out[m.key] = m.new.build(ids)
            elif m.id in ids:
                del out[m.key]
        return out

    def ops(self, base: JSONValue, sel: _Selection, pointer: str, out: Patch) -> None:
        if not sel.touches(self.lo, self.hi):
            return
        assert isinstance(base, dict)
        ids = sel.ids
        for m in self.members:
            where = pointer + format_pointer((m.key,))
            if isinstance(m, _Edited):
                m.edit.ops(base[m.key], sel, where, out)
            elif isinstance(m, _Added):
                if m.new.id in ids:
                    out.append({"op": "add", "path": where, "value": m.new.build(ids)})
            elif m.id in ids:
                out.append({"op": "remove", "path": where})


@dataclass(frozen=True, slots=True)
class _Keep:
    index: int
    count: int


@dataclass(frozen=True, slots=True)
class _Delete:
    index: int
    id: int


@dataclass(frozen=True, slots=True)
class _Insert:
    new: _New


@dataclass(frozen=True, slots=True)
class _EditAt:
    index: int
    edit: _Edit


@dataclass(frozen=True, slots=True)
class _ArrayDiff:
    """An alignment: slots that cover every element of ``a``, plus the inserted ones."""

    lo: int
    hi: int
    slots: tuple[_Slot, ...]

    def apply(self, base: JSONValue, sel: _Selection) -> JSONValue:
        if not sel.touches(self.lo, self.hi):
            return base
        assert isinstance(base, list)
        ids = sel.ids
        out: list[JSONValue] = []
        for s in self.slots:
            if isinstance(s, _Keep):
                out += base[s.index : s.index + s.count]
            elif isinstance(s, _Delete):
                if s.id not in ids:
                    out.append(base[s.index])
            elif isinstance(s, _Insert):
                if s.new.id in ids:
                    out.append(s.new.build(ids))
            else:
                out.append(s.edit.apply(base[s.index], sel))
        return out

    def ops(self, base: JSONValue, sel: _Selection, pointer: str, out: Patch) -> None:
        if not sel.touches(self.lo, self.hi):
            return
        assert isinstance(base, list)
        ids = sel.ids
        position = 0  # index in the array as the ops emitted so far have left it
        for s in self.slots:
            if isinstance(s, _Keep):
                position += s.count
            elif isinstance(s, _Delete):
                if s.id in ids:
                    out.append({"op": "remove", "path": f"{pointer}/{position}"})
                else:
                    position += 1
            elif isinstance(s, _Insert):
                if s.new.id in ids:
                    out.append({"op": "add", "path": f"{pointer}/{position}", "value": s.new.build(ids)})
                    position += 1
            else:
                s.edit.ops(base[s.index], sel, f"{pointer}/{position}", out)
                position += 1


_Edit = Union[_ObjectDiff, _ArrayDiff, _TextDiff, _Replace]
_Slot = Union[_Keep, _Delete, _Insert, _EditAt]
_Path = tuple[Union[str, int], ...]


@dataclass(frozen=True, slots=True)
class ChangeTree:
    """The changes from ``base`` to ``target``, and how to apply any subset of them.

    Build it with :func:`diff`. ``changes`` is in preorder: ``changes[i].id == i``, a
    change's parent comes before it and each subtree is contiguous.
    """

    base: JSONValue
    target: JSONValue
    changes: tuple[Change, ...]
    _root: _Edit | None = field(kw_only=True, repr=False, compare=False)

    def closure(self, ids: Iterable[int]) -> frozenset[int]:
        """Keep the ids whose whole parent chain is among ``ids``.

        Args:
            ids: change ids.

        Returns:
            The ids that take effect when ``ids`` are applied.

        Raises:
            ValueError: an id is not the id of a change of this tree.
        """
        kept: set[int] = set()
        changes = self.changes
        for i in self._select(ids).order:
            parent = changes[i].parent
            if parent is None or parent in kept:
                kept.add(i)
        return frozenset(kept)

    def apply(self, ids: Iterable[int]) -> JSONValue:
        """Apply a subset of the changes to ``base``.

        Ids whose parent chain is not all in ``ids`` are ignored. Neither ``base`` nor
        ``target`` is modified; the result shares unchanged subtrees with ``base`` (and
        scalars with ``target``), so treat it as read-only.

        Args:
            ids: change ids.

        Returns:
            ``base`` with those changes applied: ``base`` itself for no changes, a value
            equal to ``target`` for all of them.

        Raises:
            ValueError: an id is not the id of a change of this tree.
        """
        sel = self._select(ids)
        if self._root is None:
            return self.base
        return self._root.apply(self.base, sel)

    def patch(self, ids: Iterable[int]) -> Patch:
        """Render a subset of the changes as an RFC 6902 JSON Patch against ``base``.

        ``jsonpatch.apply_patch(base, tree.patch(ids))`` equals ``tree.apply(ids)``.
        Only ``add``, ``remove`` and ``replace`` are used, each on the smallest value
        that changes. Op values are freshly built (scalars aside).

        Args:
            ids: change ids.

        Returns:
            The operations, in the order they must be applied.

        Raises:
            ValueError: an id is not the id of a change of this tree.
        """
        sel = self._select(ids)
        out: Patch = []
        if self._root is not None:
            self._root.ops(self.base, sel, "", out)
        return out

    def _select(self, ids: Iterable[int]) -> _Selection:
        chosen = frozenset(ids)
        order = sorted(chosen)
        if order and (order[0] < 0 or order[-1] >= len(self.changes)):
            bad = order[0] if order[0] < 0 else order[-1]
            raise ValueError(f"no change {bad}: this tree has changes 0..{len(self.changes) - 1}")
        return _Selection(chosen, order)


def diff(a: JSONValue, b: JSONValue) -> ChangeTree:
    """Diff two JSON values into a tree of independently applicable changes.

    Args:
        a: the base value (e.g. a request document); it is not modified.
        b: the target value; it is not modified.

    Returns:
        The :class:`ChangeTree`; it has no changes when ``a`` and ``b`` are strictly
        equal (same types all the way down).
    """
    differ = _Differ()
    root = differ.value(a, b, ())
    return ChangeTree(a, b, differ.finish(), _root=root)


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


def _split(text: str, cut: re.Pattern[str]) -> list[str]:
    bounds = [0, *(m.start() for m in cut.finditer(text) if m.start() > 0), len(text)]
    return [text[x:y] for x, y in zip(bounds, bounds[1:])]


def _tokenise(a: str, b: str) -> tuple[list[str], list[str]] | None:
    if all("://" in text or text.startswith("/") for text in (a, b)):
        splits = [(_split(a, _PATH_CUT), _split(b, _PATH_CUT))]
    else:
        cuts = [cut for cut in (_LIST_CUT, _SPACE_CUT) if cut.search(a) and cut.search(b)]
        splits = [(_split(a, cut), _split(b, cut)) for cut in cuts]
    if not splits:
        return None
    best = splits[0]
    for pair in splits[1:]:
        if len(pair[0]) + len(pair[1]) > len(best[0]) + len(best[1]):
            best = pair
    if len(best[0]) < 2 or len(best[1]) < 2:
        return None
    return best


class _Differ:
    """Walks two values once, numbering changes in preorder and building the plan."""

    def __init__(self) -> None:
        self._rows: list[tuple[int | None, str, _Path, JSONValue, JSONValue]] = []
        self._ends: list[int] = []

    def finish(self) -> tuple[Change, ...]:
        return tuple(Change(i, *row, end) for i, (row, end) in enumerate(zip(self._rows, self._ends)))

    def _open(self, parent: int | None, kind: str, path: _Path, old: JSONValue, new: JSONValue) -> int:
        self._rows.append((parent, kind, path, old, new))
        self._ends.append(-1)
        return len(self._rows) - 1

    def _leaf(self, kind: str, path: _Path, old: JSONValue, new: JSONValue) -> int:
        cid = self._open(None, kind, path, old, new)
        self._ends[cid] = cid + 1
        return cid

    def new(self, value: JSONValue, path: _Path, kind: str, parent: int | None, old: JSONValue) -> _New:
        """Emit the atom for ``value`` and, for a container, its members below it."""
        cid = self._open(parent, kind, path, old, value)
        keys: tuple[str, ...] | None = None
        items: tuple[_New, ...] | None = None
        if isinstance(value, dict):
            keys = tuple(value)
            items = tuple(self.new(v, (*path, k), "add", cid, None) for k, v in value.items())
        elif isinstance(value, list):
            items = tuple(self.new(v, (*path, i), "insert", cid, None) for i, v in enumerate(value))
        self._ends[cid] = len(self._rows)
        return _New(cid, None if items is not None else value, keys, items)

    def value(self, a: JSONValue, b: JSONValue, path: _Path) -> _Edit | None:
        """The plan turning ``a`` into ``b``, or ``None`` when they are strictly equal."""
        if a is b:
            return None
        if isinstance(a, dict) and isinstance(b, dict):
            return self.object(a, b, path)
        if isinstance(a, list) and isinstance(b, list):
            return self.array(a, b, path)
        if type(a) is type(b) and a == b:
            return None
        if isinstance(a, str) and isinstance(b, str):
            text = self.text(a, b, path)
            if text is not None:
                return text
        return _Replace(self.new(b, path, "replace", None, a))

    def object(self, a: dict[str, JSONValue], b: dict[str, JSONValue], path: _Path) -> _ObjectDiff | None:
        lo = len(self._rows)
        members: list[_Added | _Removed | _Edited] = []
        for k, va in a.items():
            if k not in b:
                members.append(_Removed(k, self._leaf("remove", (*path, k), va, None)))
                continue
            vb = b[k]
            if va is vb or (type(va) is type(vb) and _is_scalar(va) and va == vb):
                continue
            edit = self.value(va, vb, (*path, k))
            if edit is not None:
                members.append(_Edited(k, edit))
        for k, vb in b.items():
            if k not in a:
                members.append(_Added(k, self.new(vb, (*path, k), "add", None, None)))
        return _ObjectDiff(lo, len(self._rows), tuple(members)) if members else None

    def array(self, a: list[JSONValue], b: list[JSONValue], path: _Path) -> _ArrayDiff | None:
        lo = len(self._rows)
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

        slots: list[_Slot] = []
        i = j = 0
        for bi, bj, size in blocks:
            self._gap(a[i:bi], b[j:bj], i, path, slots, not by_identity)
            if not by_identity:
                _keep(slots, bi, size)
            for t in range(size if by_identity else 0):
                self._pair(a[bi + t], b[bj + t], bi + t, path, slots)
            i, j = bi + size, bj + size
        return _ArrayDiff(lo, len(self._rows), tuple(slots)) if len(self._rows) > lo else None

    def _pair(self, x: JSONValue, y: JSONValue, index: int, path: _Path, slots: list[_Slot]) -> None:
        edit = self.value(x, y, (*path, index))
        if edit is None:
            _keep(slots, index, 1)
        else:
            slots.append(_EditAt(index, edit))

    def _gap(
        self, xs: list[JSONValue], ys: list[JSONValue], start: int, path: _Path, slots: list[_Slot], pair: bool
    ) -> None:
        """Slots for unmatched elements: ``xs`` of ``a`` (from index ``start``), ``ys`` of ``b``."""
        n, m = len(xs), len(ys)
        for t in range(max(n, m)):
            if pair and t < n and t < m:
                x, y = xs[t], ys[t]
                if isinstance(x, (dict, list)) and type(x) is type(y):
                    self._pair(x, y, start + t, path, slots)
                    continue
            if t < n:
                slots.append(_Delete(start + t, self._leaf("delete", (*path, start + t), xs[t], None)))
            if t < m:
                slots.append(_Insert(self.new(ys[t], (*path, start + min(t, n)), "insert", None, None)))

    def text(self, a: str, b: str, path: _Path) -> _TextDiff | None:
        split = _tokenise(a, b)
        if split is None:
            return None
        pa, pb = split
        opcodes = SequenceMatcher(None, pa, pb, autojunk=False).get_opcodes()
        if not any(tag == "equal" for tag, *_ in opcodes):
            return None
        lo = len(self._rows)
        pieces: list[_Piece] = []
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                pieces.append(_Piece(-1, "".join(pa[i1:i2]), "".join(pa[i1:i2])))
                continue
            for t in range(max(i2 - i1, j2 - j1)):
                old = pa[i1 + t] if i1 + t < i2 else ""
                new = pb[j1 + t] if j1 + t < j2 else ""
                pieces.append(_Piece(self._leaf("token", path, old or None, new or None), old, new))
        return _TextDiff(lo, len(self._rows), tuple(pieces))


def _keep(slots: list[_Slot], index: int, count: int) -> None:
    """Append kept elements, extending the last run when it ends right before them."""
    last = slots[-1] if slots else None
    if isinstance(last, _Keep) and last.index + last.count == index:
        slots[-1] = _Keep(last.index, last.count + count)
    elif count:
        slots.append(_Keep(index, count))
