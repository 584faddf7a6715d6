"""The package type-checks under ``mypy --strict``, ships ``py.typed``, and types its public API for users."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "bisect" / "reqbisect"

pytestmark = pytest.mark.timeout(600)


def test_py_typed_ships_with_the_package() -> None:
    assert (PACKAGE / "py.typed").is_file()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


USER_CODE = '''
from __future__ import annotations

from typing import Any

import anyio

import reqbisect
from reqbisect import CommandOracle, Outcome, Reply, Result


def oracle(reply: Reply, document: dict[str, Any]) -> Outcome:
    return Outcome.GOOD if reply.status == 200 else Outcome.BAD


async def judge(reply: Reply, document: dict[str, Any]) -> bool:
    return reply.error is None and reply.status == 200


def sign(document: dict[str, Any]) -> dict[str, Any]:
    pinned, body = reqbisect.pin_body(document)
    return {**pinned, "headers": {**pinned.get("headers", {}), "x-length": str(len(body))}}


async def main() -> list[dict[str, Any]]:
    result: Result = await reqbisect.abisect("good.json", "bad.json", oracle=judge, prepare=sign, concurrency=4)
    again = await reqbisect.abisect("good.json", "bad.json", oracle=CommandOracle("./check"), mode="break")
    return result.patch + again.patch


result = reqbisect.bisect("good.json", "bad.json", oracle=oracle)
requests: int = result.stats.requests
documents = reqbisect.bisect_documents({"a": 1}, {"a": 2}, lambda document: document["a"] == 1)
tree = reqbisect.diff({"a": 1}, {"a": 2})
capture = reqbisect.load_request("good.json")
patch = anyio.run(main)
try:
    reqbisect.bisect("good.json", "bad.json")
except reqbisect.Inconclusive as exc:
    best = exc.result
'''


WRONG_CODE = '''
from __future__ import annotations

import reqbisect


def oracle(status: int) -> str:
    return "good"


async def main() -> None:
    result = await reqbisect.abisect("good.json", "bad.json", oracle=oracle)
    result.pach
    reqbisect.bisekt
'''


#: What mypy must say about WRONG_CODE: (the code on the line, the error it gets there).
MISTAKES = [
    ('oracle=oracle)', 'Argument "oracle" to "abisect" has incompatible type'),
    ("result.pach", '"Result" has no attribute "pach"'),
    ("reqbisect.bisekt", 'Module has no attribute "bisekt"'),
]
_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*)$")


def _line_of(code: str, snippet: str) -> int:
    (number,) = [k for k, line in enumerate(code.splitlines(), 1) if snippet in line]
    return number


def test_mypy_strict_passes_the_package_and_user_code_and_catches_mistakes(tmp_path: Path) -> None:
    """One mypy run (they cost seconds each) over the package and two files of user code.

    The package passes ``--strict``; correct user code type-checks against the public API;
    each listed mistake is caught on its own line, and nothing else is reported.
    """
    user, wrong = (tmp_path / "user.py").resolve(), (tmp_path / "wrong.py").resolve()
    user.write_text(textwrap.dedent(USER_CODE), encoding="utf-8")
    wrong_code = textwrap.dedent(WRONG_CODE)
    wrong.write_text(wrong_code, encoding="utf-8")
    done = subprocess.run(
        # [tool.mypy] is read (strict, mypy_path); files named here replace its `packages`, so the
        # package goes in as a directory, which mypy_path makes the package reqbisect.
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"),
         str(PACKAGE), str(user), str(wrong)],
        capture_output=True, text=True, cwd=ROOT, timeout=540,
    )
    errors: dict[str, list[tuple[int, str]]] = {"package": [], "user": [], "wrong": []}
    for line in done.stdout.splitlines():
        match = _ERROR.match(line)
        if match is not None:
            where = {user: "user", wrong: "wrong"}.get((ROOT / match["path"]).resolve(), "package")
            errors[where].append((int(match["line"]), match["message"]))
    report = done.stdout + done.stderr
    assert done.returncode == 1, report  # 1: errors found (the mistakes); 2 would be a crash or bad usage
    assert errors["package"] == [], report
    assert errors["user"] == [], report
    expected = {_line_of(wrong_code, code): message for code, message in MISTAKES}
    for number, message in expected.items():
        assert any(line == number and message in said for line, said in errors["wrong"]), (number, message, report)
    assert sorted({line for line, _ in errors["wrong"]}) == sorted(expected), report
