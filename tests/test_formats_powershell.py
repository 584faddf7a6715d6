"""PowerShell Invoke-WebRequest scripts as Chrome and Firefox copy them, and by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reqbisect.cli import cli
from reqbisect.errors import InputError
from reqbisect.formats import load_request, powershell, sniff

from .format_twins import FIXTURES, assert_corpus_covers, assert_file_sends_like_its_twin, needs_curl
from .test_curl_differential import Echo, echo  # noqa: F401  (the loopback server fixture)

SCRIPTS = sorted((FIXTURES / "powershell").glob("*.ps1"))


@needs_curl
@pytest.mark.network
@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_powershell_sends_what_its_curl_twin_sends(path: Path, echo: Echo) -> None:  # noqa: F811
    assert_file_sends_like_its_twin(path, echo)


def test_the_corpus_covers_both_browsers_and_every_kind_of_body() -> None:
    assert_corpus_covers(SCRIPTS, ("chrome", "firefox", "get", "json", "form", "cookies", "unicode", "empty"))


def _load(text: str) -> powershell.Capture:
    return powershell.load(text, source="t.ps1")


def test_chrome_session_gives_user_agent_and_cookies_and_pseudo_headers_are_dropped() -> None:
    capture = load_request(SCRIPTS[0])
    doc = capture.document
    assert doc["headers"]["user-agent"].startswith("Mozilla/5.0 (Windows NT 10.0")
    assert doc["cookies"] == {"sid": "a1b2c3d4", "theme": "dark"}
    assert not {"authority", "method", "path", "scheme"} & set(doc["headers"])
    assert doc["headers"]["sec-ch-ua"] == '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"'
    assert any("pseudo-headers" in w for w in capture.warnings)


def test_char_pieces_join_surrogate_pairs_and_backticks_escape() -> None:
    doc = _load('iwr -Uri "http://a.example/" -Method Post -ContentType "text/plain" '
                '-Body "`"x`" `$y $([char]55357)$([char]56832) $([char]0x41)""z""" -UserAgent u').document
    assert doc["body"] == '"x" $y \U0001F600 A"z"'


def test_a_lone_surrogate_becomes_the_replacement_character() -> None:
    wire = _load('iwr http://a.example/ -Method POST -UserAgent u '
                 '-Body ([System.Text.Encoding]::UTF8.GetBytes("a$([char]55357)"))').wire
    assert wire is not None and wire.body == "a\ufffd".encode()


def test_post_without_content_type_is_form_encoded_as_powershell_does() -> None:
    wire = _load("Invoke-WebRequest -Uri http://a.example/x -Method POST -Body 'a=1' -UserAgent u").wire
    assert wire is not None and ("Content-Type", "application/x-www-form-urlencoded") in wire.headers


def test_hashtable_body_of_a_get_goes_into_the_query() -> None:
    doc = _load("iwr -Uri 'http://a.example/s?x=1' -Body @{q = 'a b'; n = '2'} -UserAgent u").document
    assert doc["query"] == {"x": "1", "q": "a b", "n": "2"} and "body" not in doc


def test_abbreviated_parameters_and_variables_resolve() -> None:
    text = "$h = @{ 'X-A' = 'b' }\n$u = 'http://a.example/p'\nInvoke-RestMethod -Ur $u -Head $h -Meth delete -UserA u"
    doc = _load(text).document
    assert doc["method"] == "DELETE" and doc["url"] == "http://a.example/p" and doc["headers"]["x-a"] == "b"


def test_without_a_user_agent_a_warning_says_powershell_adds_its_own() -> None:
    capture = _load("iwr http://a.example/")
    assert "user-agent" not in capture.document.get("headers", {})
    assert any("PowerShell sends its own User-Agent" in w for w in capture.warnings)


@pytest.mark.parametrize(("text", "message", "where"), [
    ('iwr -Uri "http://a.example/\n-Method POST', "unterminated string", "line 1, column 10"),
    ("iwr -Uri http://a.example/ `\n  -Hedaers @{}", "unknown parameter -Hedaers (did you mean -Headers?)",
     "line 2, column 3"),
    ('iwr -Uri http://a.example/ -Headers @{\n"a"="b"\n', "unterminated hashtable", "line 1, column 37"),
    ("iwr -Uri $target", "$target is not assigned in the script", "line 1, column 10"),
    ('iwr -Uri http://a.example/ -Headers @{\n  "a" "b"\n}', "missing '=' after the key 'a'", "line 2, column 7"),
    ('iwr -Uri http://a.example/ -Body "$(Get-Date)"', "only $([char]N) can be evaluated", "line 1, column 35"),
    ("iwr -Uri http://a.example/ -U x", "parameter -U is ambiguous", "line 1, column 28"),
])
def test_malformed_scripts_name_line_and_column(text: str, message: str, where: str) -> None:
    with pytest.raises(InputError) as info:
        _load(text)
    assert message in str(info.value) and info.value.location == where


def test_a_script_without_invoke_webrequest_is_an_error() -> None:
    with pytest.raises(InputError, match="no Invoke-WebRequest or Invoke-RestMethod command found"):
        _load("$x = 1\nWrite-Host $x\n")


def test_dot_ps1_holding_curl_exe_is_still_read_as_curl(tmp_path: Path) -> None:
    path = tmp_path / "c.ps1"
    path.write_text("curl.exe 'http://a.example/x' `\n  -H 'x-a: b'\n", encoding="utf-8")
    assert load_request(path).document["headers"]["x-a"] == "b"


def test_sniffing_finds_powershell_without_an_extension() -> None:
    assert sniff(SCRIPTS[1].read_text(encoding="utf-8")) == "powershell"
    assert load_request(SCRIPTS[1].read_text(encoding="utf-8")).document["method"] == "POST"


@needs_curl
@pytest.mark.network
def test_malformed_script_exits_2_with_place_and_sends_nothing(tmp_path: Path, echo: Echo) -> None:  # noqa: F811
    path = tmp_path / "bad.ps1"
    path.write_text('Invoke-WebRequest -Uri "http://a.example/x" `\n-Headers @{\n"a"="b\n}\n', encoding="utf-8")
    echo.drain()
    result = CliRunner().invoke(cli, ["send", str(path), "--target", echo.origin])
    assert result.exit_code == 2
    assert f"{path}, line 3, column 5: unterminated string" in result.stderr
    assert "Traceback" not in result.stderr and echo.drain() == []
