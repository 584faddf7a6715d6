"""The structural diff: a tree of independently applicable changes between two JSON values.

Rules
-----
``diff(a, b)`` turns the difference between two JSON values into numbered changes, such
that *any* subset of them applied to ``a`` gives a valid JSON value, none gives ``a`` and
all give ``b`` (docs/design.md, "Diff, changes, patch"). Values compare strictly: ``1``,
``1.0`` and ``True`` are three different values.

* Objects diff by key. A key only in ``b`` is an ``add``, only in ``a`` a ``remove``; a key
  in both recurses into two objects, aligns two arrays, tokenises two strings, and is a
  ``replace`` otherwise. The result keeps the keys of ``a`` in their order, then the added
  keys in the order of ``b``.
* Arrays are aligned (:mod:`reqbisect.align`): by an identity key such as ``id`` when
  both are keyed arrays of objects, else by equality. Elements matched by identity
  recurse. Between two matched runs lies a gap; when matching by equality, the gap's
  similar elements pair first (two objects or two arrays sharing most of their leaves,
  :func:`~reqbisect.align.pair_similar`), then the elements between two similar pairs
  pair by position, and a pair of two objects or two arrays recurses. So an element
  inserted beside one that only gained a field is an ``insert``, not a rewrite of its
  neighbour. Every other unmatched element is a ``delete`` (from ``a``) or an
  ``insert`` (from ``b``); the two at one position render as one ``replace`` when both
  apply.
* An added, inserted or replacing container is an atom meaning "the empty container",
  and each of its members is a child change whose ``parent`` is that atom, down to the
  scalar leaves. A change counts only when its whole parent chain is applied.
* Two strings that :mod:`reqbisect.tokens` cuts into pieces the same way (URL path
  segments and query pairs, list items, or words), and that share a piece, are diffed by
  pieces (``token`` changes). Unmatched pieces in a gap are paired by position into one
  change each (old piece -> new piece); the surplus are insertions (``old`` is ``None``)
  or deletions (``new`` is ``None``).

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
``diff`` walks both values once and builds a *plan* (:mod:`reqbisect.edits`) that
mirrors the document but holds only the places that change (equal subtrees are skipped:
``is``, strict equality, array ends trimmed), so its size follows the difference, not the
document. :meth:`ChangeTree.apply` and :meth:`ChangeTree.patch` walk the plan, touching
only the nodes whose range of change numbers holds a selected change; the patch is
RFC 6902 with ``add``, ``remove`` and ``replace`` only.

Deliberately skipped: move detection, and splitting strings inside arrays into tokens (a
changed string element is a ``delete`` plus an ``insert``, rendered as one ``replace``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Union

from reqbisect._types import JSONValue, Patch
from reqbisect.align import align, pair_similar
from reqbisect.edits import (
    Added,
    ArrayDiff,
    Delete,
    Edit,
    EditAt,
    Edited,
    Insert,
    Keep,
    New,
    ObjectDiff,
    Piece,
    Removed,
    Replace,
    Selection,
    Slot,
    TextDiff,
)
from reqbisect.pointer import format_pointer
from reqbisect.tokens import tokenise

__all__ = ["Change", "ChangeTree", "diff"]

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
    _root: Edit | None = field(kw_only=True, repr=False, compare=False)

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

    def _select(self, ids: Iterable[int]) -> Selection:
        chosen = frozenset(ids)
        order = sorted(chosen)
        if order and (order[0] < 0 or order[-1] >= len(self.changes)):
            bad = order[0] if order[0] < 0 else order[-1]
            raise ValueError(f"no change {bad}: this tree has changes 0..{len(self.changes) - 1}")
        return Selection(chosen, order)


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

    def new(self, value: JSONValue, path: _Path, kind: str, parent: int | None, old: JSONValue) -> New:
        """Emit the atom for ``value`` and, for a container, its members below it."""
        cid = self._open(parent, kind, path, old, value)
        keys: tuple[str, ...] | None = None
        items: tuple[New, ...] | None = None
        if isinstance(value, dict):
            keys = tuple(value)
            items = tuple(self.new(v, (*path, k), "add", cid, None) for k, v in value.items())
        elif isinstance(value, list):
            items = tuple(self.new(v, (*path, i), "insert", cid, None) for i, v in enumerate(value))
        self._ends[cid] = len(self._rows)
        return New(cid, None if items is not None else value, keys, items)

    def value(self, a: JSONValue, b: JSONValue, path: _Path) -> Edit | None:
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
        return Replace(self.new(b, path, "replace", None, a))

    def object(self, a: dict[str, JSONValue], b: dict[str, JSONValue], path: _Path) -> ObjectDiff | None:
        lo = len(self._rows)
        members: list[Added | Removed | Edited] = []
        for k, va in a.items():
            if k not in b:
                members.append(Removed(k, self._leaf("remove", (*path, k), va, None)))
                continue
            vb = b[k]
            if va is vb or (type(va) is type(vb) and not isinstance(va, (dict, list)) and va == vb):
                continue
            edit = self.value(va, vb, (*path, k))
            if edit is not None:
                members.append(Edited(k, edit))
        for k, vb in b.items():
            if k not in a:
                members.append(Added(k, self.new(vb, (*path, k), "add", None, None)))
        return ObjectDiff(lo, len(self._rows), tuple(members)) if members else None

    def array(self, a: list[JSONValue], b: list[JSONValue], path: _Path) -> ArrayDiff | None:
        lo = len(self._rows)
        alignment = align(a, b)
        by_identity = alignment.by_identity
        slots: list[Slot] = []
        i = j = 0
        for bi, bj, size in alignment.blocks:
            self._gap(a[i:bi], b[j:bj], i, path, slots, not by_identity)
            if not by_identity:
                _keep(slots, bi, size)
            for t in range(size if by_identity else 0):
                self._pair(a[bi + t], b[bj + t], bi + t, path, slots)
            i, j = bi + size, bj + size
        return ArrayDiff(lo, len(self._rows), tuple(slots)) if len(self._rows) > lo else None

    def _pair(self, x: JSONValue, y: JSONValue, index: int, path: _Path, slots: list[Slot]) -> None:
        edit = self.value(x, y, (*path, index))
        if edit is None:
            _keep(slots, index, 1)
        else:
            slots.append(EditAt(index, edit))

    def _gap(
        self, xs: list[JSONValue], ys: list[JSONValue], start: int, path: _Path, slots: list[Slot], pair: bool
    ) -> None:
        """Slots for unmatched elements: ``xs`` of ``a`` (from index ``start``), ``ys`` of ``b``.

        Similar elements pair first; the runs between two such pairs pair by position.
        (One frame per array level: deep documents recurse through here.)
        """
        i = j = 0
        for pi, pj in [*(pair_similar(xs, ys) if pair else []), (len(xs), len(ys))]:
            n, m = pi - i, pj - j
            for t in range(max(n, m)):
                x, y, at = (xs[i + t] if t < n else None), (ys[j + t] if t < m else None), start + i + t
                if pair and t < n and t < m and isinstance(x, (dict, list)) and type(x) is type(y):
                    self._pair(x, y, at, path, slots)
                    continue
                if t < n:
                    slots.append(Delete(at, self._leaf("delete", (*path, at), x, None)))
                if t < m:
                    slots.append(Insert(self.new(y, (*path, start + i + min(t, n)), "insert", None, None)))
            if pi < len(xs):
                self._pair(xs[pi], ys[pj], start + pi, path, slots)
            i, j = pi + 1, pj + 1

    def text(self, a: str, b: str, path: _Path) -> TextDiff | None:
        split = tokenise(a, b)
        if split is None:
            return None
        pa, pb = split
        opcodes = SequenceMatcher(None, pa, pb, autojunk=False).get_opcodes()
        if not any(tag == "equal" for tag, *_ in opcodes):
            return None
        lo = len(self._rows)
        pieces: list[Piece] = []
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                pieces.append(Piece(-1, "".join(pa[i1:i2]), "".join(pa[i1:i2])))
                continue
            for t in range(max(i2 - i1, j2 - j1)):
                old = pa[i1 + t] if i1 + t < i2 else ""
                new = pb[j1 + t] if j1 + t < j2 else ""
                pieces.append(Piece(self._leaf("token", path, old or None, new or None), old, new))
        return TextDiff(lo, len(self._rows), tuple(pieces))


def _keep(slots: list[Slot], index: int, count: int) -> None:
    """Append kept elements, extending the last run when it ends right before them."""
    last = slots[-1] if slots else None
    if isinstance(last, Keep) and last.index + last.count == index:
        slots[-1] = Keep(last.index, last.count + count)
    elif count:
        slots.append(Keep(index, count))
