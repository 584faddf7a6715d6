"""The native format: the request document itself, as JSON (docs/design.md, "The request document")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reqbisect._types import Document
from reqbisect.document import Capture, validate_document
from reqbisect.errors import InputError

__all__ = ["dump", "load", "parse_json"]


def parse_json(text: str, *, source: str) -> Any:
    """Parse JSON text; a syntax error names the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=source,
                         location=f"line {exc.lineno}, column {exc.colno}") from None


def load(text: str, *, source: str, base_dir: Path | None = None) -> Capture:
    """Read a request document.

    Raises:
        InputError: invalid JSON (with line and column) or an invalid document (with a JSON pointer).
    """
    return Capture(validate_document(parse_json(text, source=source), source=source), None, source)


def dump(doc: Document, *, like: Sequence[Capture] = ()) -> str:
    """The document as JSON, indented by two spaces, non-ASCII characters kept."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
