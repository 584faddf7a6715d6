"""Plain-language summaries of patch operations and of response changes.

``/body/system`` reads as ``body.system``, ``/headers/x-api-key`` as
``header x-api-key``, ``/cookies/sid`` as ``cookie sid`` and ``/query/q`` as
``query parameter q``, so a summary names things as a person would.
"""

from __future__ import annotations

import json
from typing import Any

from reqbisect._types import Patch, PatchOp
from reqbisect.oracle import Reply

__all__ = ["describe_op", "describe_patch", "describe_reply", "name_pointer", "short_value"]

_AREAS = {"headers": "header", "cookies": "cookie", "query": "query parameter"}


def _tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def name_pointer(pointer: str) -> str:
    """``/body/system/0/text`` -> ``body.system[0].text``; ``/headers/accept`` -> ``header accept``."""
    tokens = _tokens(pointer)
    if not tokens:
        return "the whole request"
    if tokens[0] in _AREAS and len(tokens) >= 2:
        name = f"{_AREAS[tokens[0]]} {tokens[1]}"
        return name + "".join(f"[{t}]" for t in tokens[2:])
    out = tokens[0]
    for token in tokens[1:]:
        out += f"[{token}]" if token.isdigit() or token == "-" else f".{token}"
    return out


def short_value(value: Any, limit: int = 60) -> str:
    """A value as short JSON, cut with an ellipsis."""
    if isinstance(value, dict) and value.get("type") == "text" and isinstance(value.get("text"), str):
        return f"text block {short_value(value['text'], limit)}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_value(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1:
        return f"[{short_value(value[0])}]"
    if isinstance(value, list):
        return f"{len(value)} elements"
    if isinstance(value, dict) and len(value) > 3:
        return f"an object with {len(value)} keys"
    return short_value(value)


def describe_op(op: PatchOp, base: Any = None) -> str:
    """One operation in words, e.g. ``add body.system = [text block "x-…"]``."""
    kind, where = op["op"], name_pointer(op["path"])
    if kind == "add":
        return f"add {where} = {_describe_value(op['value'])}"
    if kind == "remove":
        return f"remove {where}"
    if kind == "replace":
        old = _lookup(base, op["path"])
        before = f" from {short_value(old)}" if old is not _MISSING else ""
        return f"change {where}{before} to {short_value(op['value'])}"
    return f"{kind} {where}"


def describe_patch(patch: Patch, base: Any = None) -> str:
    """All operations in words, joined with "; "."""
    if not patch:
        return "no change"
    return "; ".join(describe_op(op, base) for op in patch)


def describe_reply(reply: Reply | None) -> str:
    """``400 "Error"`` for a JSON error with a message, else status and a short body."""
    if reply is None:
        return "(not sent)"
    if reply.error is not None:
        return f"transport error ({reply.error})"
    data = reply.json
    message = _find_message(data)
    if message is not None:
        return f"{reply.status} {json.dumps(message, ensure_ascii=False)}"
    return str(reply.status)


def _find_message(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("message", "detail", "error_description", "error"):
            value = data.get(key)
            if isinstance(value, str):
                return value[:80]
        for value in data.values():
            found = _find_message(value)
            if found is not None:
                return found
    return None


_MISSING = object()


def _lookup(doc: Any, pointer: str) -> Any:
    node = doc
    for token in _tokens(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node
