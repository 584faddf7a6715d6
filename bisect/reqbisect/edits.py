"""The plan of a diff: edit nodes that apply any subset of its changes, or render it as RFC 6902.

:func:`reqbisect.diff.diff` builds a plan that mirrors the document but holds only the
places that change; this module holds its nodes. Every edit node (:data:`Edit`) has
``apply(base, sel)``, giving the value ``base`` becomes, and ``ops(base, sel, pointer,
out)``, appending the RFC 6902 operations that do the same; ``lo`` and ``hi`` bound the
change ids below it.

Rules
-----
* Applying: a node whose range of change ids holds no selected change returns ``base``
  itself, so results share every unchanged subtree with ``base`` (treat them as
  read-only) and only containers on a changed path are shallow-copied. A value that
  arrives whole (:class:`New`) is built from the members that are selected.
* Rendering: operations are applied in order (RFC 6902 section 3), so array positions
  are tracked while walking an array's slots: an element of ``base`` that stays, or that
  is recursed into, advances the position; an applied ``delete`` becomes ``remove``
  (section 4.2) at the current position; an applied ``insert`` becomes ``add`` (section
  4.1) at it and advances it, except right after an applied ``delete``: the two become
  one ``replace`` (section 4.3) of that element. An applied ``add`` of an object member is one ``add``
  whose value is the partially built container; an applied ``replace`` is one
  ``replace`` (section 4.3), and so is a string with any token applied. Paths are
  JSON Pointers (RFC 6901, :mod:`reqbisect.pointer`). ``move``, ``copy`` and ``test``
  are never used.

This module does no I/O and holds no state beyond the immutable plan.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Union

from reqbisect._types import JSONValue, Patch
from reqbisect.pointer import format_pointer

__all__ = [
    "Added", "ArrayDiff", "Delete", "Edit", "EditAt", "Edited", "Insert", "Keep", "New", "ObjectDiff", "Piece",
    "Removed", "Replace", "Selection", "Slot", "TextDiff",
]


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen change ids, as a set and sorted for range queries."""

    ids: frozenset[int]
    order: list[int]

    def touches(self, lo: int, hi: int) -> bool:
        """Whether a chosen id lies in ``[lo, hi)``."""
        i = bisect_left(self.order, lo)
        return i < len(self.order) and self.order[i] < hi


@dataclass(frozen=True, slots=True)
class New:
    """A value that arrives whole from ``b``: an atom plus, for containers, members."""

    id: int
    scalar: JSONValue
    keys: tuple[str, ...] | None
    items: tuple[New, ...] | None

    def build(self, ids: frozenset[int]) -> JSONValue:
        """The value, keeping only the members whose ids are in ``ids``."""
        items = self.items
        if items is None:
            return self.scalar
        if self.keys is None:
            return [item.build(ids) for item in items if item.id in ids]
        return {k: item.build(ids) for k, item in zip(self.keys, items) if item.id in ids}


@dataclass(frozen=True, slots=True)
class Replace:
    """The whole value replaced by ``new`` (when its atom is selected)."""

    new: New

    def apply(self, base: JSONValue, sel: Selection) -> JSONValue:
        return self.new.build(sel.ids) if self.new.id in sel.ids else base

    def ops(self, base: JSONValue, sel: Selection, pointer: str, out: Patch) -> None:
        if self.new.id in sel.ids:
            out.append({"op": "replace", "path": pointer, "value": self.new.build(sel.ids)})


@dataclass(frozen=True, slots=True)
class Piece:
    """A piece of a string: shared by both strings, or one token change."""

    id: int  # -1 for a piece both strings share
    old: str  # "" when the piece is inserted
    new: str  # "" when the piece is deleted


@dataclass(frozen=True, slots=True)
class TextDiff:
    """A string as pieces; each differing piece is one token change."""

    lo: int
    hi: int
    pieces: tuple[Piece, ...]

    def apply(self, base: JSONValue, sel: Selection) -> JSONValue:
        if not sel.touches(self.lo, self.hi):
            return base
        ids = sel.ids
        return "".join(p.new if p.id in ids else p.old for p in self.pieces)

    def ops(self, base: JSONValue, sel: Selection, pointer: str, out: Patch) -> None:
        if sel.touches(self.lo, self.hi):
            out.append({"op": "replace", "path": pointer, "value": self.apply(base, sel)})


@dataclass(frozen=True, slots=True)
class Added:
    """An object member only in ``b``."""

    key: str
    new: New


@dataclass(frozen=True, slots=True)
class Removed:
    """An object member only in ``a``."""

    key: str
    id: int


@dataclass(frozen=True, slots=True)
class Edited:
    """An object member in both, with a value that changes."""

    key: str
    edit: Edit


@dataclass(frozen=True, slots=True)
class ObjectDiff:
    """The members of an object that change, in result order."""

    lo: int
    hi: int
    members: tuple[Added | Removed | Edited, ...]

    def apply(self, base: JSONValue, sel: Selection) -> JSONValue:
        if not sel.touches(self.lo, self.hi):
            return base
        assert isinstance(base, dict)
        ids = sel.ids
        out = dict(base)
        for m in self.members:
            if isinstance(m, Edited):
                out[m.key] = m.edit.apply(base[m.key], sel)
            elif isinstance(m, Added):
                if m.new.id in ids:
                    out[m.key] = m.new.build(ids)
            elif m.id in ids:
                del out[m.key]
        return out

    def ops(self, base: JSONValue, sel: Selection, pointer: str, out: Patch) -> None:
        if not sel.touches(self.lo, self.hi):
            return
        assert isinstance(base, dict)
        ids = sel.ids
        for m in self.members:
            where = pointer + format_pointer((m.key,))
            if isinstance(m, Edited):
                m.edit.ops(base[m.key], sel, where, out)
            elif isinstance(m, Added):
                if m.new.id in ids:
                    out.append({"op": "add", "path": where, "value": m.new.build(ids)})
            elif m.id in ids:
                out.append({"op": "remove", "path": where})


@dataclass(frozen=True, slots=True)
class Keep:
    """A run of ``count`` elements of ``a`` that stay, from ``index``."""

    index: int
    count: int


@dataclass(frozen=True, slots=True)
class Delete:
    """An element of ``a`` that a change deletes."""

    index: int
    id: int


@dataclass(frozen=True, slots=True)
class Insert:
    """An element of ``b`` that a change inserts."""

    new: New


@dataclass(frozen=True, slots=True)
class EditAt:
    """An element of ``a`` that is recursed into."""

    index: int
    edit: Edit


@dataclass(frozen=True, slots=True)
class ArrayDiff:
    """An alignment: slots that cover every element of ``a``, plus the inserted ones."""

    lo: int
    hi: int
    slots: tuple[Slot, ...]

    def apply(self, base: JSONValue, sel: Selection) -> JSONValue:
        if not sel.touches(self.lo, self.hi):
            return base
        assert isinstance(base, list)
        ids = sel.ids
        out: list[JSONValue] = []
        for s in self.slots:
            if isinstance(s, Keep):
                out += base[s.index : s.index + s.count]
            elif isinstance(s, Delete):
                if s.id not in ids:
                    out.append(base[s.index])
            elif isinstance(s, Insert):
                if s.new.id in ids:
                    out.append(s.new.build(ids))
            else:
                out.append(s.edit.apply(base[s.index], sel))
        return out

    def ops(self, base: JSONValue, sel: Selection, pointer: str, out: Patch) -> None:
        if not sel.touches(self.lo, self.hi):
            return
        assert isinstance(base, list)
        ids = sel.ids
        position = 0  # index in the array as the ops emitted so far have left it
        slots = self.slots
        replacing = False  # an applied delete is waiting for the insert right after it
        for k, s in enumerate(slots):
            if isinstance(s, Keep):
                position += s.count
            elif isinstance(s, Delete):
                if s.id in ids and _replaces(slots, k + 1, ids):
                    replacing = True
                elif s.id in ids:
                    out.append({"op": "remove", "path": f"{pointer}/{position}"})
                else:
                    position += 1
            elif isinstance(s, Insert):
                if s.new.id in ids:
                    op = "replace" if replacing else "add"
                    out.append({"op": op, "path": f"{pointer}/{position}", "value": s.new.build(ids)})
                    position += 1
                    replacing = False
            else:
                s.edit.ops(base[s.index], sel, f"{pointer}/{position}", out)
                position += 1


def _replaces(slots: tuple[Slot, ...], k: int, ids: frozenset[int]) -> bool:
    """Whether ``slots[k]`` is an applied insert (it then replaces the applied delete before it)."""
    if k >= len(slots):
        return False
    s = slots[k]
    return isinstance(s, Insert) and s.new.id in ids


Edit = Union[ObjectDiff, ArrayDiff, TextDiff, Replace]
Slot = Union[Keep, Delete, Insert, EditAt]
