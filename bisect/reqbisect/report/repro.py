"""The minimal requests as a reader can run them: curl commands, body summaries, files.

An issue body holds 65,536 characters, and a request body can be far larger. So a
body of up to :data:`INLINE_LIMIT` bytes goes into the curl command as it is; a
larger one never does. The report then says what the body is (its shape and
size) and what the patch touches in it, and the command reads the body from a
file (``--data-binary @good.body``) that ``--report-dir`` writes beside the report.

Everything here is redacted by the one :class:`~reqbisect.report.redact.Redactor`
the report uses: the document before it is rendered, then the rendered text (or
bytes) once more, so a secret that only shows after rendering is caught too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reqbisect.formats import dump
from reqbisect.formats.shell import quote
from reqbisect.pointer import parse_pointer, resolve
from reqbisect.report.markup import code, escape, fence, maybe_fold, size
from reqbisect.report.patch import name_pointer, short_value
from reqbisect.report.placeholders import truncate
from reqbisect.wire import to_wire

if TYPE_CHECKING:
    from reqbisect._types import Document, Patch
    from reqbisect.report.redact import Redactor

__all__ = [
    "INLINE_LIMIT", "curl_script", "describe_body", "file_names", "har_text", "redacted_body", "request_block",
]

#: Bytes of a request body shown inline in the report's curl command.
INLINE_LIMIT = 4096
#: Characters of a curl command shown in the report (its body aside).
COMMAND_LIMIT = 4096
_SHAPE_KEYS = 12


def file_names(side: str) -> dict[str, str]:
    """The files ``--report-dir`` writes for one side (``good`` or ``bad``), beside ``report.md``."""
    return {"curl": f"{side}.curl", "har": f"{side}.har", "body": f"{side}.body"}


def body_size(document: Document) -> int:
    """The size in bytes of the body the document sends."""
    return len(to_wire(document).body)


def redacted_body(document: Document, redactor: Redactor) -> bytes:
    """The body as sent, from the redacted document, with known secrets replaced once more."""
    body = to_wire(redactor.redact_document(document)).body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return redactor.redact_bytes(body)
    return redactor.redact_text(text).encode("utf-8")


def curl_script(document: Document, redactor: Redactor, *, body_file: str | None = None) -> str:
    """The redacted curl command for ``document``; with ``body_file``, the body is read from that file."""
    text = redactor.redact_text(dump(redactor.redact_document(document), "curl")).rstrip("\n")
    if body_file is not None:
        head, _, last = text.rpartition(" \\\n  ")
        if head and last.startswith(("--data-binary ", "--data-raw ")):
            text = f"{head} \\\n  --data-binary {quote('@' + body_file)}"
    return text


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return f"object of {len(value)}"
    if isinstance(value, list):
        return f"array of {len(value)}"
    if isinstance(value, str):
        return f"string of {len(value)}" if len(value) > 40 else "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def describe_body(document: Document) -> str:
    """The body's shape in words: ``JSON object: model (string), messages (array of 28), ...``."""
    if "body_base64" in document:
        return "binary data"
    body = document.get("body")
    if isinstance(body, dict):
        keys = list(body.items())
        shown = ", ".join(f"{key} ({_kind(value)})" for key, value in keys[:_SHAPE_KEYS])
        more = f", and {len(keys) - _SHAPE_KEYS} more keys" if len(keys) > _SHAPE_KEYS else ""
        return f"an object of {len(keys)} keys: {shown}{more}"
    if isinstance(body, list):
        return f"an array of {len(body)} elements"
    if isinstance(body, str):
        return f"text of {body.count(chr(10)) + 1} lines"
    return _kind(body)


def _touched(document: Document, patch: Patch, redactor: Redactor) -> list[str]:
    """What this request holds where the patch's operations point inside the body."""
    parts = []
    for op in patch:
        path = str(op.get("path", ""))
        if parse_pointer(path)[:1] not in (("body",), ("body_base64",)):
            continue
        found, value = resolve(document, path)
        shown = short_value(redactor.redact_value(value, path)) if found else "(absent)"
        parts.append(f"{code(name_pointer(path))} = {code(shown)}")
    return parts


def request_block(
    label: str, side: str, document: Document, patch: Patch, redactor: Redactor, *, attached: bool
) -> list[str]:
    """The report's block for one minimal request: its curl command, and its body summarised if large."""
    names = file_names(side)
    large = body_size(document) > INLINE_LIMIT
    text = curl_script(document, redactor, body_file=names["body"] if large else None)
    if len(text) > COMMAND_LIMIT:  # a huge header or URL: the command is cut, the file holds all of it
        where = f"in {names['curl']}" if attached else "written by --report-dir"
        text = f"{truncate(text, COMMAND_LIMIT)}\n# … cut at {COMMAND_LIMIT} of {len(text)} characters; the whole command is {where}"
    parts = [maybe_fold(f"{label} (curl command)", fence(text, "bash"), text)]
    if large:
        touched = _touched(document, patch, redactor)
        note = (
            f"The body ({size(body_size(document))}, {escape(describe_body(document))}) is too large to inline"
            + (f"; the patch touches {'; '.join(touched)}" if touched else "")
            + "."
        )
        if attached:
            note += f" The command reads it from [{names['body']}]({names['body']}), beside this report."
        else:
            note += " Run with `--report-dir DIR` to get it as a file beside the report."
        parts.append(note)
    if attached:
        files = [names["curl"], *([names["body"]] if large else []), names["har"]]
        parts.append("Files: " + " · ".join(f"[{name}]({name})" for name in files))
    return parts


def har_text(document: Document, redactor: Redactor) -> str:
    """The redacted request as a HAR 1.2 file that ``reqbisect run`` loads back."""
    return redactor.redact_text(dump(redactor.redact_document(document), "har"))
