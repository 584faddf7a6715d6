"""How a mode maps two documents onto a search space, and an answer back onto a patch.

The search core numbers changes ``0..n-1``; :class:`Plan` keeps the change tree
of the mode's base side to the other (``reqbisect.mode``) and turns a
configuration of those numbers into a document or an RFC 6902 patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reqbisect._types import JSONValue, Patch
from reqbisect.diff import ChangeTree, diff
from reqbisect.mode import Mode, Side
from reqbisect.pointer import parse_pointer, starts_with
from reqbisect.search import Best, Config, Space

__all__ = ["Plan", "make_plan"]


@dataclass(frozen=True, slots=True)
class Plan:
    """How the search space maps onto the change tree for one mode.

    Changes under ``--ignore`` are ``fixed``: never applied in ``fix`` (BAD
    keeps its value), always applied otherwise (the value comes from BAD).
    """

    mode: Mode
    good: JSONValue
    bad: JSONValue
    tree: ChangeTree
    space: Space
    ids: tuple[int, ...]
    fixed: frozenset[int]
    #: What the user may want to know about the plan (an ``--ignore`` that matched nothing).
    warnings: tuple[str, ...] = ()

    def changes(self, config: Config) -> frozenset[int]:
        return frozenset(self.ids[i] for i in config) | self.fixed

    def apply(self, config: Config) -> JSONValue:
        """The document with the changes of ``config`` applied to the base side."""
        return self.tree.apply(self.changes(config))

    def roots(self, config: Config) -> list[int]:
        """The members of ``config`` that stand for a patch op of their own (no ancestor in it).

        The others only shape an added or replaced value, e.g. the ``text`` of an added block.
        """
        chosen = {self.ids[i] for i in config}
        changes = self.tree.changes
        out = []
        for i in sorted(config):
            parent = changes[self.ids[i]].parent
            while parent is not None and parent not in chosen:
                parent = changes[parent].parent
            if parent is None:
                out.append(i)
        return out

    def pointer(self, index: int) -> str:
        """Where change ``index`` of the space is, as a JSON Pointer."""
        return self.tree.changes[self.ids[index]].pointer

    def patch(self, best: Best) -> Patch:
        """The answer as RFC 6902, pointing the mode's way (``Mode.patch_ends``)."""
        answer = self.mode.answer(best)
        if answer is not None:
            return self.tree.patch(self.changes(answer))
        between = diff(*self.mode.patch_ends(self.apply(best.good), self.apply(best.bad)))
        return between.patch(range(len(between.changes)))


def make_plan(mode: Mode, good: JSONValue, bad: JSONValue, ignore: Sequence[str] = ()) -> Plan:
    """The plan of ``mode`` for ``good`` and ``bad``; ``ignore`` pointers are taken from BAD and never varied."""
    tree = diff(*mode.base.pick((good, bad), (bad, good)))
    prefixes = {pointer: parse_pointer(pointer, source="--ignore") for pointer in ignore}
    matched = {pointer: {c.id for c in tree.changes if starts_with(c.path, p)} for pointer, p in prefixes.items()}
    ignored = set().union(*matched.values())
    warnings = tuple(
        f"--ignore {pointer}: GOOD and BAD do not differ there, so it changes nothing"
        for pointer, ids in matched.items()
        if not ids
    )
    ids = tuple(c.id for c in tree.changes if c.id not in ignored)
    index = {change_id: i for i, change_id in enumerate(ids)}
    parents = tuple(
        None if (parent := tree.changes[cid].parent) is None else index[parent] for cid in ids
    )
    space = Space(parents=parents, paths=tuple(tree.changes[cid].path for cid in ids))
    fixed = frozenset(ignored) if mode.base is not Side.BAD else frozenset()
    return Plan(mode=mode, good=good, bad=bad, tree=tree, space=space, ids=ids, fixed=fixed, warnings=warnings)
