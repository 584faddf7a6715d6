"""Every example in README.md runs, and says what the README says it says.

A fenced block whose info string has ``title="NAME"`` is a file: all of them are written
into one workspace. A ``title="test_*.py"`` file is run with pytest. A ``console`` block
(or an untagged one whose first line starts with ``$ ``) is a session: each ``$`` line
runs in the workspace with the venv's ``reqbisect`` and ``python3`` first on PATH, and
must exit 0; when the lines shown after it start with JSON, stdout must be that JSON;
lines shown after the JSON are the summary on stderr, matched line by line with the
numbers (counts and seconds) masked. The only
blocks left out are the command-line synopsis and the command that runs this suite.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT

README = ROOT / "README.md"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.timeout(300)


@dataclass(frozen=True)
class Block:
    info: str
    text: str
    line: int

    @property
    def title(self) -> str | None:
        found = re.search(r'title="([^"]+)"', self.info)
        return found.group(1) if found else None

    @property
    def is_console(self) -> bool:
        return self.info.split(" ")[0] == "console" or (not self.info and self.text.startswith("$ "))


def blocks() -> list[Block]:
    found: list[Block] = []
    lines = README.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            info, start = lines[i][3:].strip(), i + 1
            end = next(j for j in range(start, len(lines)) if lines[j].startswith("```"))
            found.append(Block(info, "\n".join(lines[start:end]) + "\n", start))
            i = end
        i += 1
    return found


FILES = [block for block in blocks() if block.title]
SESSIONS = [block for block in blocks() if block.is_console]
PYTEST_FILES = [block for block in FILES if block.title and re.fullmatch(r"test_\w+\.py", block.title)]
OPENING = SESSIONS[0]


def test_every_block_is_run_or_is_the_synopsis_or_the_suite() -> None:
    left = [block for block in blocks() if block not in FILES and block not in SESSIONS]
    for block in left:
        is_synopsis = block.text.startswith("reqbisect run GOOD BAD")
        is_set_up = block.text.startswith("python3 -m venv .venv && ")
        assert is_synopsis or is_set_up, f"README.md line {block.line}: a block no test runs"
    assert len(PYTEST_FILES) >= 1 and len(SESSIONS) >= 4


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    names = [block.title for block in FILES]
    assert len(names) == len(set(names)), "two README files share a title"
    for block in FILES:
        assert block.title is not None
        (folder / block.title).write_text(block.text, encoding="utf-8")
    return folder


def environment() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONDONTWRITEBYTECODE": "1"}


def session(text: str) -> list[tuple[str, list[str]]]:
    """``[(command, lines shown after it)]``."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def check_step(command: str, shown: list[str], cwd: Path) -> None:
    done = subprocess.run(
        command, shell=True, cwd=cwd, env=environment(), capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
    text = "\n".join(shown).strip()
    if not text:
        return
    if text[0] in "[{":
        value, end = json.JSONDecoder().raw_decode(text)
        assert json.loads(done.stdout) == value, command
        text = text[end:].strip()
    printed = {mask(line) for line in done.stderr.splitlines()}
    for line in text.splitlines():
        assert mask(line) in printed, f"{command}: {line!r} is not in\n{done.stderr}"


def mask(line: str) -> str:
    """Numbers (counts, seconds) vary from run to run; the words must not."""
    return re.sub(r"\d+(\.\d+)?", "#", line.strip())


@pytest.mark.parametrize("block", [b for b in SESSIONS if b is not OPENING], ids=lambda b: f"line-{b.line}")
def test_console_example(block: Block, workspace: Path) -> None:
    for command, shown in session(block.text):
        check_step(command, shown, workspace)


@pytest.mark.parametrize("block", PYTEST_FILES, ids=lambda b: str(b.title))
def test_python_example_passes_under_pytest(block: Block, workspace: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", str(block.title)],
        cwd=workspace, env=environment(), capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "skipped" not in done.stdout


def test_the_opening_example_reproduces_on_the_billing_header_case(tmp_path: Path) -> None:
    """The opening shows a HAR and a curl capture of the billing-header case, sent to its app."""
    ((command, shown),) = session(OPENING.text)
    case = ROOT / "cases" / "billing-header"
    reqbisect = shlex.quote(str(BIN / "reqbisect"))
    for source, target, fmt in (("good.json", "good.har", "har"), ("bad.json", "bad.curl", "curl")):
        done = subprocess.run(
            f"{reqbisect} convert {shlex.quote(str(case / source))} --to {fmt} > {target}",
            shell=True, cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert command == "reqbisect run good.har bad.curl"
    check_step(f"{command} --app {shlex.quote(str(case / 'app.py'))}:app", shown, tmp_path)


def test_the_try_it_command_runs() -> None:
    (block,) = [b for b in blocks() if b.text.startswith("python3 -m venv .venv && ") and "--app" in b.text]
    command = block.text.strip().rpartition(" && ")[2]
    assert command.startswith(".venv/bin/reqbisect run ")
    check_step(command.replace(".venv/bin/", "", 1), [], ROOT)
