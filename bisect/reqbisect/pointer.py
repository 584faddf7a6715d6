"""JSON Pointers (RFC 6901): the one place that parses, formats and resolves them.

Patch paths, ``--ignore`` and ``--redact`` pointers, and the locations in input
errors are all JSON Pointers into a request document. A token escapes ``~`` as
``~0`` and ``/`` as ``~1`` (RFC 6901, section 3); unescaping goes the other way,
``~1`` first, so that ``~01`` stays ``~1`` (section 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reqbisect.errors import InputError

__all__ = ["format_pointer", "parse_pointer", "resolve", "starts_with"]


def format_pointer(path: Sequence[str | int]) -> str:
    """``("a/b", 0)`` -> ``"/a~1b/0"``; the empty path is ``""``, the whole document."""
    return "".join("/" + _escape(token) for token in path)


def parse_pointer(pointer: str, *, source: str | None = None) -> tuple[str, ...]:
    """``"/a~1b/0"`` -> ``("a/b", "0")``; ``""`` -> ``()``.

    Array indices stay strings: whether a token is an index depends on the
    document it is applied to.

    Raises:
        InputError: ``pointer`` is neither empty nor starts with ``/``
            (``source`` names the option or file it came from).
    """
    if not pointer:
        return ()
    if not pointer.startswith("/"):
        raise InputError(
            "expected a JSON pointer such as /headers/x-request-id", source=source, got=repr(pointer)
        )
    return tuple(_unescape(token) for token in pointer[1:].split("/"))


def resolve(document: Any, pointer: str | Sequence[str | int]) -> tuple[bool, Any]:
    """``(True, value)`` at ``pointer`` in ``document``, or ``(False, None)`` when it leads nowhere."""
    tokens = parse_pointer(pointer) if isinstance(pointer, str) else pointer
    node = document
    for token in tokens:
        key = str(token)
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False, None
    return True, node


def starts_with(path: Sequence[str | int], prefix: Sequence[str | int]) -> bool:
    """Whether ``path`` lies under ``prefix`` (or is it), comparing tokens as strings."""
    return len(path) >= len(prefix) and all(str(a) == str(b) for a, b in zip(path, prefix))


def _escape(token: str | int) -> str:
    return str(token) if isinstance(token, int) else token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
