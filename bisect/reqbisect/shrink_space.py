"""What ``--shrink`` may take away from the minimal pair: the shared parts, as a search space.

Rules
-----
* The pair is the request the patch applies to (the *source*: the minimal bad request
  for ``fix``/``isolate``, GOOD's minimal request for ``break``) and the source plus the
  patch. Parts are taken out of the source; the other request is always ``source' +
  patch``, so the patch between the two is the same patch, byte for byte.
* A part is a value of the source: a header, cookie or query item, the body, a body
  member or array element (JSON and form bodies, recursively; multipart parts whole),
  or the tokens of a string (``reqbisect.tokens``; a string that has no cut is one
  token, so taking its tokens away leaves ``""``). ``method`` and ``url`` stay.
* Never a part: anything the patch points into or lies on the way to (a patch path or
  ``from`` and every container above it), array elements before an index the patch
  uses (removing one would shift it), and ``frozen`` pointers with everything under
  them (fields a ``--hook`` rewrites).
* Parts are *grouped*: the same path with every array index read as "any element"
  (``/services/*/env``) is one part of the space, so "drop ``env`` from every service"
  is one question. The removable elements of a group of arrays, and the tokens of a
  group of strings, are one part each whose children are *positions*: the k-th element
  of every such array (the k-th token of every such string), looked at only when the
  whole group is needed. "Keep one block in each of 27 messages" is then one part, not
  27: the search goes coarse first, then inside, and pays for what differs, not for
  repetition. Only strings of :data:`LONG` characters or more are cut into tokens; a
  shorter one (of :data:`MIN_TOKENISED` or more) can only be emptied.
* The space is numbered in preorder of these grouped paths; a group's parent is the
  nearest group above it that holds every one of its locations, so removing the parent
  removes it too (``Space`` configurations are closed under parents).

This module does no I/O and holds no state.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpatch

from reqbisect._types import Document, JSONValue, Patch
from reqbisect.codecs import body_kind
from reqbisect.pointer import parse_pointer
from reqbisect.search import Config, Space
from reqbisect.secret_names import is_secret_name
from reqbisect.tokens import tokenise

__all__ = ["LONG", "MANY", "MIN_TOKENISED", "ShrinkSpace", "make_shrink_space"]

#: Strings shorter than this are kept whole (the savings would not pay for the requests).
MIN_TOKENISED = 8
#: Strings at least this long are cut into tokens one by one; shorter ones may only be emptied.
LONG = 64
#: Objects (at one grouped path) with at least this many removable members get an "all members" part.
MANY = 8
#: The request document's members that hold parts.
_SHRINKABLE = ("headers", "cookies", "query", "body", "body_base64")
#: The shortest string cut or emptied, where it is not :data:`MIN_TOKENISED`: header and
#: query values only when long (a short one is an exact token the server matches), cookie
#: values and base64 never.
_STRINGS = {"headers": LONG, "query": LONG, "cookies": math.inf, "body_base64": math.inf}

Location = tuple[str | int, ...]


class _Every:
    """The grouped path segment for "any element of this array"."""

    def __repr__(self) -> str:
        return "*"


class _Tokens:
    """The grouped path segment for "the tokens of this string"."""

    def __repr__(self) -> str:
        return "~"


class _Members:
    """The grouped path segment for "every member of this object"."""

    def __repr__(self) -> str:
        return "{}"


_EVERY = _Every()
_TOKENS = _Tokens()
_MEMBERS = _Members()
Grouped = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Node:
    """One part of the space: values and tokens it takes away when left out of a configuration."""

    path: Grouped
    values: tuple[Location, ...] = ()
    tokens: tuple[tuple[Location, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ShrinkSpace:
    """The parts of ``source`` that may go, numbered for the search core."""

    source: Document
    patch: Patch
    space: Space
    nodes: tuple[_Node, ...]
    #: The pieces of each string whose tokens are parts (they concatenate back to it).
    pieces: Mapping[Location, tuple[str, ...]]

    @property
    def size(self) -> int:
        return self.space.size

    def apply(self, config: Config) -> Document:
        """The source with every part not in ``config`` taken away (``config`` is what is kept)."""
        removed: set[Location] = set()
        cuts: dict[Location, set[int]] = {}
        parents = self.space.parents
        for index, node in enumerate(self.nodes):
            parent = parents[index]
            if index in config or (parent is not None and parent not in config):
                continue  # kept, or inside a part that is gone already
            removed.update(node.values)
            for location, token in node.tokens:
                cuts.setdefault(location, set()).add(token)
        touched: set[Location] = set()
        for loc in (*removed, *cuts):
            for depth in range(len(loc) - 1, -1, -1):
                if loc[:depth] in touched:
                    break
                touched.add(loc[:depth])
        result = _rebuild(self.source, (), removed, cuts, touched, self.pieces)
        assert isinstance(result, dict)
        return result

    def pair(self, config: Config) -> tuple[Document, Document] | None:
        """``(source', source' + patch)`` for ``config``, or None when the patch no longer applies."""
        source = self.apply(config)
        try:
            # The containers the patch changes are copied; the rest is shared with the source.
            target = jsonpatch.apply_patch(_copied_along(source, self.patch), self.patch, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
            return None
        return source, target


def _copied_along(document: Document, patch: Patch) -> Document:
    """A shallow copy of ``document`` whose containers on every patch path are copies too."""
    top = dict(document)
    for pointer in (op[key] for op in patch for key in ("path", "from") if key in op):
        node: Any = top
        for step in parse_pointer(pointer, source="patch")[:-1]:
            key: str | int = int(step) if isinstance(node, list) and step.isdigit() else step
            try:
                child = node[key]
            except (KeyError, IndexError, TypeError):
                break
            if isinstance(child, (dict, list)):
                child = node[key] = copy.copy(child)
            node = child
    return top


def _rebuild(
    value: JSONValue,
    location: Location,
    removed: set[Location],
    cuts: Mapping[Location, set[int]],
    touched: set[Location],
    pieces: Mapping[Location, tuple[str, ...]],
) -> JSONValue:
    if isinstance(value, str) and location in cuts:
        gone = cuts[location]
        kept = [piece for i, piece in enumerate(pieces[location]) if i not in gone]
        text = "".join(kept)
        return text.lstrip(" \t,;") if kept and 0 in gone else text
    if location not in touched:
        return value
    if isinstance(value, dict):
        return {
            key: _rebuild(item, (*location, key), removed, cuts, touched, pieces)
            for key, item in value.items()
            if (*location, key) not in removed
        }
    if isinstance(value, list):
        return [
            _rebuild(item, (*location, i), removed, cuts, touched, pieces)
            for i, item in enumerate(value)
            if (*location, i) not in removed
        ]
    return value


@dataclass(slots=True)
class _Group:
    values: list[Location]
    tokens: list[tuple[Location, int]]
    children: dict[object, _Group]
    #: Removable members of the objects at this path (for the "all members" part).
    members: list[Location] = field(default_factory=list)


def make_shrink_space(source: Document, patch: Patch, *, frozen: Iterable[str] = ()) -> ShrinkSpace:
    """The shrink space of ``source`` for ``patch`` (see the module docstring).

    Args:
        source: the request document the patch applies to.
        patch: the minimal patch; what it points into stays.
        frozen: JSON pointers into ``source`` that stay as they are, with everything under them.

    Returns:
        The space; its empty configuration takes away every part.
    """
    targets: set[tuple[str, ...]] = set()
    for op in patch:
        for key in ("path", "from"):
            if key in op:
                targets.add(parse_pointer(op[key], source="patch"))
    for pointer in frozen:
        targets.add(parse_pointer(pointer, source="frozen"))
    pieces: dict[Location, tuple[str, ...]] = {}
    root = _Group([], [], {})
    kind = body_kind(_header(source, "content-type"))
    for key in _SHRINKABLE:
        if key in source:
            # Levels below the member that hold parts: a repeated header's values, a JSON or
            # form body all the way down, multipart parts whole; base64 is never cut.
            depth = {"headers": 2, "cookies": 2, "query": 2, "body_base64": 0}.get(key)
            if depth is None:
                depth = {"json": -1, "form": -1, "multipart": 1}.get(kind, 0)
            _collect(source[key], (key,), depth, targets, root, pieces, strings=_STRINGS.get(key, MIN_TOKENISED))
    nodes: list[_Node] = []
    parents: list[int | None] = []
    _number(root, (), [], nodes, parents)
    space = Space(parents=tuple(parents), paths=tuple(node.path for node in nodes))
    return ShrinkSpace(source=source, patch=patch, space=space, nodes=tuple(nodes), pieces=pieces)


def _header(document: Document, name: str) -> str | None:
    value = (document.get("headers") or {}).get(name)
    return value if isinstance(value, str) else None


def _credential(location: Location) -> bool:
    """A header, cookie, query item or body member named like a credential: cutting it up tells nothing."""
    return any(isinstance(segment, str) and is_secret_name(segment) for segment in location[1:])


def _grouped(location: Location) -> Grouped:
    return tuple(_EVERY if isinstance(segment, int) else segment for segment in location)


def _relation(location: Location, targets: set[tuple[str, ...]]) -> tuple[bool, bool, int]:
    """(is a target, lies above a target, the highest index a target uses in this array)."""
    text = tuple(str(segment) for segment in location)
    n = len(text)
    exact = above = False
    highest = -1
    for target in targets:
        if target[:n] != text:
            continue
        if len(target) == n:
            exact = True
        else:
            above = True
            step = target[n]
            if step.isdigit():
                highest = max(highest, int(step))
    return exact, above, highest


def _collect(
    value: JSONValue,
    location: Location,
    depth: int,
    targets: set[tuple[str, ...]],
    root: _Group,
    pieces: dict[Location, tuple[str, ...]],
    *,
    removable: bool = True,
    strings: float = MIN_TOKENISED,
    container: _Group | None = None,
) -> None:
    """Record the parts at and under ``location`` (``depth`` levels down; -1: all the way)."""
    exact, above, highest = _relation(location, targets)
    if exact:
        return
    grouped = _grouped(location)
    if removable and not above:
        _group(root, grouped).values.append(location)
        if container is not None:
            container.members.append(location)
    if isinstance(value, str) and len(value) >= strings and not _credential(location):
        split = tokenise(value, value) if len(value) >= LONG else None
        pieces[location] = tuple(split[0]) if split is not None else (value,)
        tokens = _group(root, (*grouped, _TOKENS)).tokens
        tokens.extend((location, i) for i in range(len(pieces[location])))
    if depth == 0:
        return
    items: Iterator[tuple[str | int, JSONValue]]
    if isinstance(value, dict):
        items = iter(value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    members = _group(root, grouped) if isinstance(value, dict) else None
    for key, item in items:
        pinned = isinstance(key, int) and key < highest
        _collect(item, (*location, key), depth - 1, targets, root, pieces, removable=not pinned, strings=strings,
                 container=members)


def _group(root: _Group, path: Grouped) -> _Group:
    node = root
    for segment in path:
        child = node.children.get(segment)
        if child is None:
            child = node.children[segment] = _Group([], [], {})
        node = child
    return node


def _number(
    group: _Group, path: Grouped, above: list[tuple[int, frozenset[Location]]], nodes: list[_Node],
    parents: list[int | None],
) -> None:
    """Number ``group`` and its subtree in preorder, with parents that cover their locations."""
    chain = above
    if group.values or group.tokens:
        covered = [loc for loc, _ in group.tokens] if group.tokens else group.values
        parent = next(
            (index for index, locations in reversed(above) if all(_under(loc, locations) for loc in covered)), None
        )
        index = len(nodes)
        nodes.append(_Node(path, tuple(group.values), tuple(group.tokens)))
        parents.append(parent)
        if group.values:
            chain = [*above, (index, frozenset(group.values))]
        singles: list[_Node] = []
        if group.tokens:
            by_token: dict[int, list[tuple[Location, int]]] = {}
            for loc, i in group.tokens:
                by_token.setdefault(i, []).append((loc, i))
            if len(by_token) > 1:
                singles = [_Node((*path, i), tokens=tuple(at)) for i, at in sorted(by_token.items())]
        elif path and path[-1] is _EVERY:
            by_index: dict[int, list[Location]] = {}
            for loc in group.values:
                position = loc[-1]
                assert isinstance(position, int)
                by_index.setdefault(position, []).append(loc)
            if len(by_index) > 1:
                singles = [_Node((*path, i), values=tuple(at)) for i, at in sorted(by_index.items())]
        for single in singles:
            nodes.append(single)
            parents.append(index)
    if len(group.members) >= MANY:
        parent = next(
            (index for index, locations in reversed(chain) if all(_under(loc, locations) for loc in group.members)),
            None,
        )
        chain = [*chain, (len(nodes), frozenset(group.members))]
        nodes.append(_Node((*path, _MEMBERS), values=tuple(group.members)))
        parents.append(parent)
    for segment, child in group.children.items():
        _number(child, (*path, segment), chain, nodes, parents)


def _under(location: Location, locations: frozenset[Location]) -> bool:
    return any(location[:depth] in locations for depth in range(len(location) + 1))
