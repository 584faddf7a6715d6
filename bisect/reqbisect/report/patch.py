"""Plain-language summaries of patch operations and of response changes.

A summary is read by someone deciding what to fix, so it names things as a
person would: ``/body/system`` reads as ``body.system``, ``/headers/x-api-key``
as ``header x-api-key``, ``/cookies/sid`` as ``cookie sid`` and ``/query/q`` as
``query parameter q``. Operations read as past-tense sentences::

    added header anthropic-beta = "tools-2024"
    removed cookie sessionid
    changed body.model from "m-large" to "m-small"
    added 1 of 2 elements to body.system: [text block "x-anthropic-billing-header: …"]
    changed header user-agent (token "curl/8.7.1" -> "claude-cli/2.1.83") from … to …

The "1 of 2" form needs the request the patch leads to (``target``): the diff
can add a container only partly, and saying so is the whole point of the
finding. With a :class:`~reqbisect.report.redact.Redactor`, every value shown
is redacted and an operation on a secret says ``(a secret)``, so a summary never
reveals one. A response reads as its status and the error message it carries
(``400 "Error"``), and a change of response as ``400 "Error" -> 200``.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import TYPE_CHECKING, Any

from reqbisect._types import Document, Patch, PatchOp
from reqbisect.mode import Mode
from reqbisect.oracle import Reply
from reqbisect.pointer import parse_pointer, resolve
from reqbisect.report.placeholders import PLACEHOLDER, truncate

if TYPE_CHECKING:
    from reqbisect.report.redact import Redactor
    from reqbisect.result import Result

__all__ = [
    "describe_change",
    "describe_finding",
    "describe_op",
    "describe_patch",
    "describe_reply",
    "name_pointer",
    "patch_base",
    "patch_target",
    "replies_of",
    "short_value",
]

_AREAS = {"headers": "header", "cookies": "cookie", "query": "query parameter"}
_MISSING: Any = object()


def name_pointer(pointer: str) -> str:
    """``/body/system/0/text`` -> ``body.system[0].text``; ``/headers/accept`` -> ``header accept``."""
    tokens = parse_pointer(pointer)
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
    """A value as short JSON, cut with an ellipsis; a placeholder stands bare."""
    if isinstance(value, str) and PLACEHOLDER.fullmatch(value):
        return value
    if isinstance(value, dict) and value.get("type") == "text" and isinstance(value.get("text"), str):
        return f"text block {short_value(value['text'], limit)}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else truncate(text, limit - 1) + "…"


def _describe_value(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1:
        return f"[{short_value(value[0])}]"
    if isinstance(value, list):
        return f"{len(value)} elements"
    if isinstance(value, dict) and len(value) > 3:
        return f"an object with {len(value)} keys"
    return short_value(value)


def _lookup(doc: Any, pointer: str) -> Any:
    found, value = resolve(doc, pointer)
    return value if found else _MISSING


def _within(part: Any, whole: Any) -> bool:
    """Whether ``part`` is ``whole`` with some keys or elements left out, at any depth."""
    if part == whole:
        return True
    if isinstance(part, dict) and isinstance(whole, dict):
        return all(key in whole and _within(value, whole[key]) for key, value in part.items())
    if isinstance(part, list) and isinstance(whole, list):
        position = 0
        for item in part:
            while position < len(whole) and not _within(item, whole[position]):
                position += 1
            if position == len(whole):
                return False
            position += 1
        return True
    return False


def _share(value: Any, whole: Any) -> tuple[int, int, str] | None:
    """(n, m, unit) when ``value`` holds only n of the m elements or keys of ``whole``."""
    if whole is _MISSING or not isinstance(value, (list, dict)) or type(value) is not type(whole):
        return None
    if len(value) >= len(whole) or not _within(value, whole):
        return None
    unit = "elements" if isinstance(value, list) else "keys"
    return len(value), len(whole), unit


_TOKEN = re.compile(r"[^\s,;/]+")


def _token_change(old: str, new: str) -> str | None:
    """The tokens a replaced string changed, when that is short and tells more than the values."""
    before, after = _TOKEN.findall(old), _TOKEN.findall(new)
    if max(len(before), len(after)) < 3:
        return None
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed += before[i1:i2]
        if tag in ("replace", "insert"):
            added += after[j1:j2]
    if not removed and not added or len(removed) + len(added) > 4:
        return None
    def quoted(tokens: list[str]) -> str:
        return ", ".join(short_value(t, 40) for t in tokens)

    if len(removed) == 1 and len(added) == 1:
        return f"token {quoted(removed)} -> {quoted(added)}"
    parts = []
    if removed:
        parts.append(f"removed token{'s' if len(removed) > 1 else ''} {quoted(removed)}")
    if added:
        parts.append(f"added token{'s' if len(added) > 1 else ''} {quoted(added)}")
    return " and ".join(parts)


def describe_op(
    op: PatchOp,
    base: Any = None,
    *,
    target: Any = None,
    redactor: Redactor | None = None,
) -> str:
    """One operation in words, e.g. ``changed body.model from "a" to "b"``.

    Args:
        op: an RFC 6902 operation.
        base: the document the patch applies to, for the old value of a replace.
        target: the request the patch leads towards (GOOD in ``fix`` mode), to say
            how much of an added container the patch needs (``added 1 of 2 elements``).
        redactor: hides secret values and marks operations on secrets.

    Returns:
        A phrase in the past tense, without a final period.
    """
    kind, path = op["op"], str(op["path"])
    where = name_pointer(path)
    secret = redactor is not None and redactor.is_secret(path)
    if secret:
        where += " (a secret)"

    def shown(value: Any) -> Any:
        return redactor.redact_value(value, path) if redactor is not None else value

    if kind == "add":
        value = op["value"]
        share = _share(value, _lookup(target, path)) if target is not None else None
        if share is not None:
            n, m, unit = share
            return f"added {n} of {m} {unit} to {where}: {_describe_value(shown(value))}"
        if parse_pointer(path)[-1:] == ("-",):
            return f"appended {_describe_value(shown(value))} to {name_pointer(path.rsplit('/', 1)[0])}"
        return f"added {where} = {_describe_value(shown(value))}"
    if kind == "remove":
        return f"removed {where}"
    if kind == "replace":
        new = shown(op["value"])
        old = _lookup(base, path) if base is not None else _MISSING
        if old is _MISSING:
            return f"changed {where} to {short_value(new)}"
        old = shown(old)
        detail = ""
        if not secret and isinstance(old, str) and isinstance(new, str):
            tokens = _token_change(old, new)
            detail = f" ({tokens})" if tokens else ""
        return f"changed {where}{detail} from {short_value(old)} to {short_value(new)}"
    if kind in ("move", "copy"):
        verb = "moved" if kind == "move" else "copied"
        return f"{verb} {name_pointer(str(op.get('from', '')))} to {where}"
    if kind == "test":
        return f"checked that {where} is {short_value(shown(op.get('value')))}"
    return f"{kind} {where}"


def describe_patch(
    patch: Patch,
    base: Any = None,
    *,
    target: Any = None,
    redactor: Redactor | None = None,
    limit: int | None = None,
) -> str:
    """All operations in words, joined with "; " (at most ``limit``, then "and N more")."""
    if not patch:
        return "no change"
    shown = patch if limit is None else patch[:limit]
    words = [describe_op(op, base, target=target, redactor=redactor) for op in shown]
    if len(patch) > len(shown):
        rest = len(patch) - len(shown)
        words.append(f"and {rest} more operation{'s' if rest > 1 else ''}")
    return "; ".join(words)


def describe_reply(reply: Reply | None, *, redactor: Redactor | None = None) -> str:
    """``400 "Error"`` for an error with a message (JSON, HTML title or short text), else the status."""
    if reply is None:
        return "(not sent)"
    if redactor is not None:
        reply = redactor.redact_reply(reply)
    if reply.error is not None:
        return f"transport error ({reply.error})"
    message = _find_message(reply.json)
    if message is None and (reply.status or 0) >= 400:
        message = _text_message(reply.text)
    if message is not None:
        return f"{reply.status} {json.dumps(message, ensure_ascii=False)}"
    return str(reply.status)


def describe_change(before: Reply | None, after: Reply | None, *, redactor: Redactor | None = None) -> str:
    """The response change a patch makes, e.g. ``400 "Error" -> 200``."""
    return f"{describe_reply(before, redactor=redactor)} -> {describe_reply(after, redactor=redactor)}"


def _find_message(data: Any) -> str | None:
    if isinstance(data, dict):
        for key in ("message", "detail", "error_description", "error"):
            value = data.get(key)
            if isinstance(value, str):
                return _cut(value)
        for value in data.values():
            found = _find_message(value)
            if found is not None:
                return found
    return None


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _text_message(text: str) -> str | None:
    title = _TITLE.search(text)
    if title is not None:
        text = title.group(1)
    text = " ".join(text.split())
    if not text or (title is None and (PLACEHOLDER.sub("", text).count("<") or len(text) > 80)):
        return None
    return _cut(text)


def _cut(text: str, limit: int = 80) -> str:
    """A message cut to ``limit`` characters, never inside a placeholder."""
    return text if len(text) <= limit else truncate(text, limit - 1) + "…"


# -- a result as one sentence ----------------------------------------------------------


def patch_base(result: Result) -> Document | None:
    """The request the patch applies to: GOOD's side in ``break`` mode, BAD's otherwise."""
    return Mode(result.mode).patch_ends(result.minimal_good, result.minimal_bad)[0]


def patch_target(result: Result, *, good: Document | None = None, bad: Document | None = None) -> Document | None:
    """The request the patch leads towards, as complete as known.

    The original GOOD (``fix``) or BAD (``break``) when given, since the minimal
    request only holds the part of an added container the patch needs; in
    ``isolate`` mode the patch is a full diff, so the minimal request itself.
    """
    mode = Mode(result.mode)
    if mode.target is None:
        good = bad = None
    return mode.patch_ends(
        good if good is not None else result.minimal_good, bad if bad is not None else result.minimal_bad
    )[1]


def replies_of(result: Result) -> tuple[Reply | None, Reply | None]:
    """(before, after) the patch: the minimal requests' replies, else the baselines'."""
    good = result.reply_good if result.reply_good is not None else result.baseline_good
    bad = result.reply_bad if result.reply_bad is not None else result.baseline_bad
    return Mode(result.mode).patch_ends(good, bad)


def describe_finding(
    result: Result,
    *,
    good: Document | None = None,
    bad: Document | None = None,
    redactor: Redactor | None = None,
    limit: int | None = None,
) -> str:
    """The patch and the response change in one line, e.g.
    ``added 1 of 2 elements to body.system: [text block "x-…"] (400 "Error" -> 200)``.

    Args:
        result: what the bisection found.
        good, bad: the original GOOD and BAD documents, when the caller has them.
        redactor: hides secrets; without one, values are shown as they are.
        limit: the most operations to spell out.
    """
    words = describe_patch(
        result.patch, patch_base(result), target=patch_target(result, good=good, bad=bad),
        redactor=redactor, limit=limit,
    )
    before, after = replies_of(result)
    return f"{words} ({describe_change(before, after, redactor=redactor)})"
