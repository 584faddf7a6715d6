"""The minimal pair as a unified diff: one line per header, cookie, query item and body leaf.

A reader sees a patch faster than they read it. The report shows the request the
patch applies to and the one it gives as a unified diff (``--- minimal bad`` /
``+++ minimal good`` in ``fix`` mode), which GitHub colours in a ```` ```diff ````
block. Every leaf of a request is one line, ``pointer: value`` with the value as
JSON (``/headers/x-api-key: "<redacted:x-api-key#1>"``); an empty object or array
is a leaf of its own (``/body/tools: []``).

Rules
-----
* **The changed lines are the patch.** The ``-`` lines are the leaves each
  ``remove`` and ``replace`` takes away and the ``+`` lines the leaves each
  ``add`` and ``replace`` puts in, spelled with the operation's own path (so an
  ``add`` at ``/body/system/0`` reads ``+/body/system/0/text: ...``), nothing
  else. No culprit marker is needed: the coloured lines are the culprits.
* **Context** lines are the leaves of the base request the patch leaves alone,
  at their base pointers. Each changed line sits where the patch puts it: a
  removal where the leaf was, an insertion before the element that follows it,
  a new object key after the object's last line. Context further than
  :data:`CONTEXT` lines from a change is folded into ``@@ -a,b +c,d @@`` hunks.
* **Long values** are cut to :data:`VALUE_LIMIT` characters (never inside a
  placeholder) and say how long they were, so a 100 KB string is one short line.

The caller redacts the base and the patch first (one redactor for both).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reqbisect._types import Patch
from reqbisect.pointer import format_pointer, parse_pointer
from reqbisect.report.placeholders import truncate

__all__ = ["CONTEXT", "VALUE_LIMIT", "diff_lines", "flatten", "line_text", "unified_diff"]

#: Unchanged lines kept on each side of a change.
CONTEXT = 3
#: Characters of a value's JSON shown on one line.
VALUE_LIMIT = 160


def flatten(value: Any, tokens: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """The leaves under ``value`` as (tokens, value), in document order; empty containers are leaves."""
    if isinstance(value, dict) and value:
        return [leaf for key, item in value.items() for leaf in flatten(item, (*tokens, str(key)))]
    if isinstance(value, list) and value:
        return [leaf for i, item in enumerate(value) for leaf in flatten(item, (*tokens, str(i)))]
    return [(tokens, value)]


def line_text(tokens: tuple[str, ...], value: Any) -> str:
    """``pointer: value`` for one leaf, the value as JSON cut to :data:`VALUE_LIMIT` characters."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > VALUE_LIMIT:
        text = f"{truncate(text, VALUE_LIMIT)}… ({len(text)} characters)"
    return f"{format_pointer(tokens) or '/'}: {text}"


@dataclass(eq=False)
class _Node:
    """A leaf or a container of the request being patched; a leaf of the base knows its base pointer."""

    value: Any = None
    children: dict[str, _Node] | list[_Node] | None = None
    base: tuple[str, ...] | None = None
    #: Lines that stand before this node: what the patch removed there, and what it added.
    before: list[tuple[str, str]] = field(default_factory=list)
    #: Lines that stand after the last child of a container.
    after: list[tuple[str, str]] = field(default_factory=list)


def _build(value: Any, tokens: tuple[str, ...], base: bool) -> _Node:
    if isinstance(value, dict) and value:
        return _Node(children={str(k): _build(v, (*tokens, str(k)), base) for k, v in value.items()})
    if isinstance(value, list) and value:
        return _Node(children=[_build(v, (*tokens, str(i)), base) for i, v in enumerate(value)])
    return _Node(value=value, base=tokens if base else None)


def _lines(node: _Node) -> list[tuple[str, str]]:
    """The lines of a node in order: what stands before it, its leaf or children, what stands after."""
    out = list(node.before)
    if node.children is None:
        if node.base is not None:
            out.append((" ", line_text(node.base, node.value)))
    else:
        for child in node.children.values() if isinstance(node.children, dict) else node.children:
            out += _lines(child)
    return out + node.after


def _siblings(children: dict[str, _Node] | list[_Node]) -> list[_Node]:
    return list(children.values()) if isinstance(children, dict) else list(children)


def _apply(root: _Node, op: dict[str, Any]) -> _Node:
    """Apply one operation to the tree, leaving its ``-`` and ``+`` lines where they belong."""
    tokens = parse_pointer(str(op["path"]))
    kind = op["op"]
    removed = [("-", line_text(t, v)) for t, v in flatten(_value_of(root, tokens), tokens)] if kind in (
        "remove", "replace") else []
    added = [("+", line_text(t, v)) for t, v in flatten(op.get("value"), tokens)] if kind in (
        "add", "replace") else []
    if not tokens:  # the whole document: every line of it goes, the new one comes
        fresh = _build(op.get("value"), (), False)
        fresh.before = [("-" if tag == " " else tag, text) for tag, text in _lines(root)] + added
        return fresh
    parent = _find(root, tokens[:-1])
    last = tokens[-1]
    if parent.children is None:  # an empty container leaf receives its first member
        parent.children = [] if isinstance(parent.value, list) else {}
        if parent.base is not None:
            parent.before.append((" ", line_text(parent.base, parent.value)))
        parent.base = None
    children = parent.children
    new = _build(op.get("value"), tokens, False)
    if isinstance(children, list):
        index = len(children) if last == "-" else int(last)
        if kind in ("remove", "replace"):
            old = children.pop(index)
            carried = old.before + removed
            if kind == "replace":
                new.before = carried + added
                children.insert(index, new)
            else:
                _carry(children, index, parent, carried)
        else:
            new.before = added
            children.insert(index, new)
        return root
    if kind in ("remove", "replace"):
        keys = list(children)
        position = keys.index(last)
        old = children[last]
        carried = old.before + removed
        if kind == "replace":
            new.before = carried + added
            children[last] = new
        else:
            del children[last]
            _carry(_siblings(children), position, parent, carried)
        return root
    if last in children:  # add on an existing key replaces it in place (RFC 6902, 4.1)
        old = children[last]
        new.before = old.before + [("-", line_text(t, v)) for t, v in flatten(_value_of(root, tokens), tokens)]
        new.before += added
        children[last] = new
    else:
        new.before = added
        children[last] = new
    return root


def _carry(siblings: list[_Node], index: int, parent: _Node, lines: list[tuple[str, str]]) -> None:
    """Lines of a removed node go before the sibling that took its place, or after the last one."""
    if index < len(siblings):
        siblings[index].before[:0] = lines
    else:
        parent.after[:0] = lines


def _find(root: _Node, tokens: tuple[str, ...]) -> _Node:
    node = root
    for token in tokens:
        children = node.children
        if isinstance(children, dict):
            node = children[token]
        elif isinstance(children, list):
            node = children[int(token)]
        else:
            raise KeyError(token)
    return node


def _value_of(root: _Node, tokens: tuple[str, ...]) -> Any:
    node = _find(root, tokens)
    if node.children is None:
        return node.value
    if isinstance(node.children, dict):
        return {k: _value_of(child, ()) for k, child in node.children.items()}
    return [_value_of(child, ()) for child in node.children]


def diff_lines(base: Any, patch: Patch) -> list[tuple[str, str]]:
    """Every line of the diff of ``base`` and ``base + patch``: (" " | "-" | "+", text)."""
    root = _build(base, (), True)
    for op in patch:
        root = _apply(root, dict(op))
    return _lines(root)


def unified_diff(base: Any, patch: Patch, *, labels: tuple[str, str], context: int = CONTEXT) -> str:
    """The diff as unified-diff text with ``@@`` hunks (see the module rules)."""
    lines = diff_lines(base, patch)
    changed = [i for i, (tag, _) in enumerate(lines) if tag != " "]
    out = [f"--- {labels[0]}", f"+++ {labels[1]}"]
    if not changed:
        return "\n".join(out)
    groups: list[list[int]] = [[changed[0], changed[0]]]
    for i in changed[1:]:
        if i - groups[-1][1] <= 2 * context + 1:
            groups[-1][1] = i
        else:
            groups.append([i, i])
    old_line = new_line = 1
    position = 0
    for first, last in groups:
        start, end = max(0, first - context), min(len(lines), last + context + 1)
        for tag, _ in lines[position:start]:
            old_line += tag != "+"
            new_line += tag != "-"
        hunk = lines[start:end]
        old_count = sum(tag != "+" for tag, _ in hunk)
        new_count = sum(tag != "-" for tag, _ in hunk)
        out.append(f"@@ -{old_line if old_count else old_line - 1},{old_count} "
                   f"+{new_line if new_count else new_line - 1},{new_count} @@")
        out += [tag + text for tag, text in hunk]
        old_line += old_count
        new_line += new_count
        position = end
    return "\n".join(out)
