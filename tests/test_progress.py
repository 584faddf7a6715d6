"""Progress: live on a terminal (seen through tmux), a plain line per phase without one, nothing with -q."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reqbisect.cli import cli
from reqbisect.progress import PLAIN_PREFIX

from .conftest import case_file, load_case_app, serve

CASE = "login-form"


def slow(app: Any, delay: float) -> Callable[..., Any]:
    """``app`` answering every request ``delay`` seconds late."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(delay)
        await app(scope, receive, send)

    return wrapped


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_the_live_display_shows_phase_budget_and_a_ticking_clock() -> None:
    socket = f"reqbisect-test-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", socket, "-f", "/dev/null"]
    with serve(slow(load_case_app(CASE), 0.3)) as served:
        command = shlex.join([
            sys.executable, "-m", "reqbisect", "run", str(case_file(CASE, "good")), str(case_file(CASE, "bad")),
            "--target", served.url, "--yes",
        ])
        subprocess.run([*tmux, "new-session", "-d", "-s", "run", "-x", "400", "-y", "30", f"{command}; sleep 30"],
                       check=True)
        screens: list[str] = []
        # Requests sent -> the clocks shown with that count: the clock moves on its own when a
        # count shows with two different times (nothing was answered in between).
        seen: dict[str, set[str]] = {}
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(len(clocks) > 1 for clocks in seen.values()):
                screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "run"], capture_output=True, text=True).stdout
                sent, clock = re.search(r"(\d+) requests sent", screen), re.search(r"(\d+\.\d)s elapsed", screen)
                if sent and clock:
                    screens.append(screen)
                    seen.setdefault(sent.group(1), set()).add(clock.group(1))
                time.sleep(0.1)
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert screens, "no progress line was seen"
    assert any(re.search(r"\b(baselines|search|verification)\b", s) for s in screens)
    assert all(re.search(r"budget \d+/\d+", s) for s in screens)  # --yes: the plan's bound is the budget
    assert any(len(clocks) > 1 for clocks in seen.values()), seen


def run_plain(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [
        "run", str(case_file(CASE, "good")), str(case_file(CASE, "bad")),
        "--app", f"{case_file(CASE, 'good').parent / 'app.py'}:app", "--max-requests", "60", *args,
    ])
    return result.exit_code, result.stderr


def test_without_a_terminal_each_phase_gets_one_plain_line() -> None:
    code, err = run_plain()
    assert code == 0
    lines = [line[len(PLAIN_PREFIX):] for line in err.splitlines() if line.startswith(PLAIN_PREFIX)]
    assert [line.split(" · ")[0] for line in lines] == ["baselines", "search", "verification"]
    assert all("budget" in line and "elapsed" in line for line in lines)
    assert "left: ~" in lines[0]


def test_quiet_shows_no_progress() -> None:
    code, err = run_plain("-q")
    assert code == 0 and PLAIN_PREFIX not in err


def test_json_command_shows_its_phases_too(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"a": 1, "b": 2}))
    bad.write_text(json.dumps({"a": 1, "b": 3}))
    result = CliRunner().invoke(cli, ["json", str(good), str(bad), "--test", "grep -q '\"b\": 2' {}"])
    assert result.exit_code == 0, result.stderr
    phases = [line[len(PLAIN_PREFIX):].split(" · ")[0] for line in result.stderr.splitlines()
              if line.startswith(PLAIN_PREFIX)]
    assert phases[0] == "baselines" and "search" in phases
    assert "test runs sent" in result.stderr
