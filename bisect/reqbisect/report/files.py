"""``--report-dir``: the report and the minimal requests as files to attach to an issue.

The directory gets ``report.md`` and, for each minimal request, ``good.curl`` /
``bad.curl`` (bash scripts; a body above the report's inline limit goes to
``good.body`` / ``bad.body`` beside them and is read with ``--data-binary @...``)
and ``good.har`` / ``bad.har`` (HAR 1.2). The report links them by relative path.

All of it is redacted with the report's own redactor, so a secret has the same
placeholder in every file. What round-trips: ``reqbisect run DIR/good.har
DIR/bad.har`` loads both files and, against the same server, finds the same patch
whenever the server does not check the redacted values themselves (a placeholder
stands where the secret was, and is sent as it is). With ``--no-redact`` the
files hold the real requests and always round-trip; so does any run whose
redacted values the server ignores, or that keeps them readable with ``--keep``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from reqbisect.errors import InputError
from reqbisect.report.markdown import render_markdown
from reqbisect.report.repro import INLINE_LIMIT, body_size, curl_script, file_names, har_text, redacted_body

if TYPE_CHECKING:
    from reqbisect._types import Document
    from reqbisect.report.redact import Redactor
    from reqbisect.result import Result

__all__ = ["REPORT_NAME", "check_report_dir", "report_files", "write_report_dir", "written_names"]

#: The report's file name inside the directory.
REPORT_NAME = "report.md"


def written_names() -> tuple[str, ...]:
    """Every file name ``--report-dir`` may write (checked against GOOD and BAD before sending)."""
    return (REPORT_NAME, *(name for side in ("good", "bad") for name in file_names(side).values()))


def check_report_dir(directory: str | Path, *, inputs: Iterable[str] = ()) -> None:
    """Before anything is sent: ``directory`` exists or can be made, is writable, and holds no input.

    Raises:
        InputError: a file stands where the directory would be, it is not writable, or
            one of ``inputs`` (GOOD, BAD) is a file it would overwrite.
    """
    path = Path(directory).absolute()
    existing = next(parent for parent in (path, *path.parents) if parent.exists())
    if not existing.is_dir():
        raise InputError(f"{existing} is a file, not a directory", source="--report-dir",
                         hint="name a directory (it is created if need be)")
    if not os.access(existing, os.W_OK):
        raise InputError(f"the directory {existing} is not writable", source="--report-dir")
    outputs = {(path / name).resolve() for name in written_names()}
    for arg in inputs:
        name = arg.partition("#")[0]
        if name != "-" and Path(name).resolve() in outputs:
            raise InputError(f"{name} would be overwritten by the report's files", source="--report-dir",
                             hint="write the report to another directory")


def _script(document: Document, redactor: Redactor, label: str, body_file: str | None) -> str:
    lines = [
        "#!/usr/bin/env bash",
        f"# {label}, as found by reqbisect; secrets are <redacted:...> placeholders.",
    ]
    if body_file is not None:
        lines.append(f'cd "$(dirname "$0")" || exit 1  # the body is read from {body_file}')
    return "\n".join([*lines, curl_script(document, redactor, body_file=body_file)]) + "\n"


def report_files(
    result: Result, *, redactor: Redactor, good: Document | None = None, bad: Document | None = None
) -> dict[str, str | bytes]:
    """File name -> content of everything ``--report-dir`` writes for ``result``."""
    files: dict[str, str | bytes] = {}
    for side, label, document in (
        ("good", "The minimal good request", result.minimal_good),
        ("bad", "The minimal bad request", result.minimal_bad),
    ):
        if not (isinstance(document, dict) and isinstance(document.get("url"), str)):
            continue
        names = file_names(side)
        large = body_size(document) > INLINE_LIMIT
        files[names["curl"]] = _script(document, redactor, label, names["body"] if large else None)
        if large:
            files[names["body"]] = redacted_body(document, redactor)
        files[names["har"]] = har_text(document, redactor)
    files[REPORT_NAME] = render_markdown(result, redactor=redactor, good=good, bad=bad, attached=bool(files))
    return files


def write_report_dir(
    directory: str | Path,
    result: Result,
    *,
    redactor: Redactor,
    good: Document | None = None,
    bad: Document | None = None,
) -> list[Path]:
    """Write :func:`report_files` into ``directory`` (created if need be); returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in report_files(result, redactor=redactor, good=good, bad=bad).items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        if name.endswith(".curl"):
            path.chmod(0o755)
        written.append(path)
    return written
