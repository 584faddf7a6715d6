"""The package type-checks under ``mypy --strict``, ships ``py.typed``, and types its public API for users."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "bisect" / "reqbisect"

pytestmark = pytest.mark.timeout(600)


def mypy(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-error-summary", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=540,
    )


def test_the_package_passes_mypy_strict(tmp_path: Path) -> None:
    done = mypy(cache=tmp_path / "cache")  # the [tool.mypy] section: strict, packages = reqbisect
    assert done.returncode == 0, done.stdout + done.stderr


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


def test_user_code_type_checks_against_the_public_api(tmp_path: Path) -> None:
    (tmp_path / "user.py").write_text(textwrap.dedent(USER_CODE), encoding="utf-8")
    done = mypy("--strict", str(tmp_path / "user.py"), cache=tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr


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


def test_mistakes_against_the_public_api_are_caught(tmp_path: Path) -> None:
    (tmp_path / "wrong.py").write_text(textwrap.dedent(WRONG_CODE), encoding="utf-8")
    done = mypy("--strict", str(tmp_path / "wrong.py"), cache=tmp_path / "cache")
    assert done.returncode == 1
    assert 'Argument "oracle" to "abisect" has incompatible type' in done.stdout
    assert '"Result" has no attribute "pach"' in done.stdout
    assert 'Module has no attribute "bisekt"' in done.stdout
