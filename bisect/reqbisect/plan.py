"""How a mode maps two documents onto a search space, and an answer back onto a patch.

``fix`` diffs BAD -> GOOD and minimises the changes that make BAD good;
``break`` diffs GOOD -> BAD and minimises those that make GOOD bad; ``isolate``
runs dd between the two. The search core numbers changes ``0..n-1``;
:class:`Plan` keeps the change tree and turns a configuration of those numbers
into a document or an RFC 6902 patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reqbisect._types import Document, JSONValue, Patch
from reqbisect.diff import ChangeTree, diff
from reqbisect.errors import InputError
from reqbisect.outcome import Outcome
from reqbisect.pointer import parse_pointer, starts_with
from reqbisect.search import Best, Config, Space, Step, isolate, minimise

__all__ = ["MODES", "Plan", "make_plan"]

MODES = ("fix", "break", "isolate")


@dataclass(frozen=True, slots=True)
class Plan:
    """How the search space maps onto the change tree for one mode.

    ``fix`` diffs BAD -> GOOD and searches for the changes that make BAD good;
    ``break`` and ``isolate`` diff GOOD -> BAD. Changes under ``--ignore`` are
    ``fixed``: never applied in ``fix`` (BAD keeps its value), always applied
    otherwise (the value comes from BAD).
    """

    mode: str
    tree: ChangeTree
    space: Space
    ids: tuple[int, ...]
    fixed: frozenset[int]
    #: What the user may want to know about the plan (an ``--ignore`` that matched nothing).
    warnings: tuple[str, ...] = ()

    def changes(self, config: Config) -> frozenset[int]:
        return frozenset(self.ids[i] for i in config) | self.fixed

    def apply(self, config: Config) -> JSONValue:
        return self.tree.apply(self.changes(config))

    def document(self, config: Config) -> Document:
        value = self.apply(config)
        assert isinstance(value, dict)
        return value

    def strategy(self) -> Step:
        if self.mode == "fix":
            return minimise(self.space, target=Outcome.GOOD)
        if self.mode == "break":
            return minimise(self.space, target=Outcome.BAD)
        return isolate(self.space)

    @property
    def base_outcome(self) -> Outcome:
        """The outcome of the empty configuration (the request the changes apply to)."""
        return Outcome.BAD if self.mode == "fix" else Outcome.GOOD

    def patch(self, best: Best) -> Patch:
        """The answer as RFC 6902: into BAD for ``fix``, into GOOD for ``break``,
        and from the minimal bad to the minimal good for ``isolate``."""
        if self.mode == "fix":
            return self.tree.patch(self.changes(best.good))
        if self.mode == "break":
            return self.tree.patch(self.changes(best.bad))
        between = diff(self.apply(best.bad), self.apply(best.good))
        return between.patch(range(len(between.changes)))


def make_plan(mode: str, good: JSONValue, bad: JSONValue, ignore: Sequence[str]) -> Plan:
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}", source="--mode", expected=" or ".join(MODES))
    tree = diff(bad, good) if mode == "fix" else diff(good, bad)
    prefixes = {pointer: parse_pointer(pointer, source="--ignore") for pointer in ignore}
    matched = {
        pointer: {c.id for c in tree.changes if starts_with(c.path, p)}
        for pointer, p in prefixes.items()
    }
    ignored = set().union(*matched.values())
    warnings = tuple(
        f"--ignore {pointer}: GOOD and BAD do not differ there, so it changes nothing"
        for pointer, ids in matched.items()
        if not ids
    )
    ids = tuple(c.id for c in tree.changes if c.id not in ignored)
    index = {change_id: i for i, change_id in enumerate(ids)}
    parents = tuple(
        None if tree.changes[cid].parent is None else index[tree.changes[cid].parent]  # type: ignore[index]
        for cid in ids
    )
    space = Space(parents=parents, paths=tuple(tree.changes[cid].path for cid in ids))
    fixed = frozenset(ignored) if mode != "fix" else frozenset()
    return Plan(mode=mode, tree=tree, space=space, ids=ids, fixed=fixed, warnings=warnings)

