"""Shared by the tests of the PowerShell, fetch and Postman formats: each fixture has a bash
curl twin, and the loopback echo server of the curl differential test must receive the same
request from both (method, path and query, ordered headers, body bytes; see
``test_curl_differential`` for what is left out of the comparison; a multipart body's
length is left out too, since it depends on the length of the client's boundary)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from reqbisect.document import Capture
from reqbisect.formats import load_request
from reqbisect.wire import to_wire

from .test_curl_differential import Echo, _compare_form

FIXTURES = Path(__file__).parent / "fixtures"

needs_curl = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                                reason="needs curl and bash")


def with_echo(text: str, echo: Echo) -> str:
    """The fixture's text with the placeholder origin ``ECHO`` pointing at the echo server."""
    return re.sub(r"\bECHO\b", echo.origin.removeprefix("http://"), text)


def assert_twin_sends_the_same(capture: Capture, twin: Path, echo: Echo) -> None:
    """The request reqbisect sends for ``capture`` is the one curl sends for ``twin``."""
    assert capture.document["url"].startswith(echo.origin + "/")
    real = _compare_form(echo.run_curl(with_echo(twin.read_text(encoding="utf-8"), echo), twin.parent), echo)
    ours = _compare_form(echo.send(to_wire(capture.document, like=[capture])), echo)
    if b"--BOUNDARY" in real["body"]:
        # Postman's boundaries are longer than curl's, so the lengths differ by that much.
        del real["length"], ours["length"]
    assert ours == real


def assert_file_sends_like_its_twin(path: Path, echo: Echo) -> None:
    """A fixture loaded by its name (the extension or sniffing picks the format) and its ``.sh`` twin agree."""
    capture = load_request(path.name, text=with_echo(path.read_text(encoding="utf-8"), echo))
    assert_twin_sends_the_same(capture, path.with_suffix(".sh"), echo)


def assert_corpus_covers(paths: list[Path], words: tuple[str, ...]) -> None:
    """Every kind of request the issue names has a fixture, and every fixture has its twin."""
    names = " ".join(p.stem for p in paths)
    assert [word for word in words if word not in names] == []
    assert all(p.with_suffix(".sh").exists() for p in paths)
