"""Capture formats, each a module with ``load(text, *, source, base_dir)`` and ``dump(doc, *, like)``.

Layout::

    native.py   the request document itself, as JSON            (.json)
    har.py      HAR 1.2 from browsers and proxies               (.har, file.har#N)
    curl.py     curl command lines: bash, cmd, PowerShell      (.curl .sh .txt; .cmd .bat .ps1
                                                                 or name.cmd.txt pick the shell)
    http.py     raw HTTP/1.1 requests                           (.http)
    powershell.py  Invoke-WebRequest/Invoke-RestMethod scripts  (.ps1 that runs one)
    powershell_syntax.py  PowerShell strings, hashtables and objects for powershell.py
    fetch.py    fetch("url", {...}) calls, browser and Node.js  (.js .mjs)
    postman.py  Postman collections v2.1                        (.postman_collection.json#Folder/Name or #N,
                                                                 with an environment for {{variables}})
    shell.py    shell words for curl.py: bash splitting and expansion, bash quoting
    shell_windows.py  cmd and PowerShell splitting for shell.py
    words.py    shell words and the splitter bookkeeping both share

:func:`load_request` picks the format by file extension, or sniffs the text when the
extension says nothing (``.txt``, ``-``, none) or is shared: a ``.json`` file may be a
Postman collection, a ``.ps1`` file a curl.exe command. Every loader returns a
:class:`~reqbisect.document.Capture` whose ``warnings`` the command line prints to stderr.
Only ``convert --to`` formats (:data:`FORMATS`) are written; the others are read only.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

from reqbisect._types import Document
from reqbisect.document import Capture, validate_document
from reqbisect.errors import InputError
from reqbisect.formats import curl, fetch, har, http, native, postman, powershell

__all__ = ["FORMATS", "dump", "load_request", "sniff"]

#: The formats ``convert --to`` and :func:`dump` know.
FORMATS = ("json", "curl", "http", "har")
_MODULES: dict[str, ModuleType] = {"json": native, "curl": curl, "http": http, "har": har}
_EXTENSIONS = {".json": "json", ".har": "har", ".curl": "curl", ".sh": "curl", ".bat": "curl",
               ".cmd": "curl", ".ps1": "curl", ".http": "http", ".js": "fetch", ".mjs": "fetch"}
#: Formats whose files hold several requests, picked with ``file#SELECTOR``.
_SELECTABLE = ("har", "postman")


def sniff(text: str) -> str | None:
    """Guess the format of a capture's text: json, har, postman, curl, powershell, fetch, http, or ``None``."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        if postman.looks_like(stripped):
            return "postman"
        return "har" if re.match(r'\{\s*"log"\s*:', stripped) else "json"
    if fetch.looks_like(stripped):
        return "fetch"
    if powershell.looks_like(stripped):
        return "powershell"
    for line in stripped.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if re.match(r"(\S*[/\\])?curl(\.exe)?(\s|$)", line):
            return "curl"
        if line.startswith(":") or re.fullmatch(r"[A-Z]+ +\S+( +HTTP/\d(\.\d)?)?", line):
            return "http"
        return None
    return None


def _read(arg: str) -> tuple[str, Path | None, str | None]:
    """Text, the file's directory, and a ``#ENTRY`` selector."""
    path, selector = Path(arg), None
    if not path.exists() and "#" in arg and (arg.startswith("-#") or Path(arg.rpartition("#")[0]).exists()):
        base, _, selector = arg.rpartition("#")
        path = Path(base)
    if str(path) == "-":
        return sys.stdin.buffer.read().decode("utf-8", "surrogateescape"), None, selector
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape"), path.resolve().parent, selector
    except OSError as exc:
        raise InputError(f"cannot read the request: {exc.strerror}", source=str(path)) from None


def _format(name: str, text: str) -> str | None:
    """The format by extension; sniffed where the extension is shared or says nothing."""
    fmt = _EXTENSIONS.get(Path(name).suffix.lower())
    if fmt == "json" and postman.looks_like(text):
        return "postman"
    if fmt == "curl" and Path(name).suffix.lower() == ".ps1" and powershell.looks_like(text):
        return "powershell"
    return fmt or sniff(text) or ("curl" if Path(name).suffix.lower() == ".txt" else None)


def load_request(arg: str | Path, *, text: str | None = None,
                 env: Mapping[str, str] | str | Path | None = None) -> Capture:
    """Load a request from a file, ``-`` (stdin), ``file.har#N``/``file.har#URL-PART``, or text.

    Args:
        arg: the path (its extension picks the format), or the capture itself when it is
            not a path but reads as one (a curl command, JSON, a raw request, a fetch call).
            Postman collections take ``file#Folder/Request name`` or ``file#N``.
        text: the capture's text when it is already in memory; ``arg`` then only names it.
        env: a Postman environment (its file, or its values by name) for the
            ``{{variables}}`` of a Postman collection; other formats ignore it.

    Returns:
        The capture, with warnings for anything the loader could not represent exactly.

    Raises:
        InputError: unreadable file, unknown format, or a malformed capture.
    """
    arg = str(arg)
    base_dir: Path | None = None
    selector = None
    if text is not None:
        if "#" in arg and not Path(arg).exists():
            arg, _, selector = arg.rpartition("#")
    elif "\n" in arg or (not Path(arg).exists() and not arg.startswith("-") and " " in arg.strip()
                         and sniff(arg) is not None):
        text, arg = arg, "<text>"
    else:
        text, base_dir, selector = _read(arg)
        if selector is not None:
            arg = arg.rpartition("#")[0]
    text = text.removeprefix("\ufeff")
    fmt = _format(arg, text)
    if fmt is None:
        raise InputError("cannot tell the format of the request", source=arg,
                         expected="a .json, .har, .curl/.sh/.txt, .http, .ps1 or .js file, a Postman collection, "
                                  "or text that reads as one")
    if selector is not None and fmt not in _SELECTABLE:
        raise InputError(f"only HAR files take an entry selector (#{selector}), and Postman collections a "
                         "request selector", source=arg)
    if fmt == "har":
        loaded = har.load(text, source=arg, base_dir=base_dir, entry=selector)
    elif fmt == "postman":
        values = postman.load_environment(env) if isinstance(env, (str, Path)) else env
        loaded = postman.load(text, source=arg, base_dir=base_dir, entry=selector, env=values)
    elif fmt == "curl":
        suffixes = {s.lower() for s in Path(arg).suffixes}
        dialect = "cmd" if suffixes & {".cmd", ".bat"} else "powershell" if ".ps1" in suffixes else None
        loaded = curl.load(text, source=arg, base_dir=base_dir, dialect=dialect)
    else:
        loaded = {**_MODULES, "fetch": fetch, "powershell": powershell}[fmt].load(text, source=arg, base_dir=base_dir)
    if fmt != "json":
        # The request as read must be one that can be sent, whatever the capture held.
        validate_document(loaded.document, source=arg if selector is None else f"{arg}#{selector}")
    return loaded


def dump(doc: Document, fmt: str, *, like: Sequence[Capture] = ()) -> str:
    """The document written in ``fmt`` (one of :data:`FORMATS`), reusing ``like`` captures' bytes."""
    if fmt not in _MODULES:
        raise InputError(f"unknown format {fmt!r}", expected="one of " + ", ".join(FORMATS))
    written: str = _MODULES[fmt].dump(doc, like=like)
    return written
