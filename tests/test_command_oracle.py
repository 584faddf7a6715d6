"""Shell commands as judges: ``run --oracle-cmd``, ``reqbisect json --test`` and the classes behind them."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner

from reqbisect import CommandOracle, CommandTest, Outcome, Reply, bisect_documents
from reqbisect.cli import cli
from reqbisect.command_oracle import check_command, outcome_of_exit, reply_to_stdin
from reqbisect.errors import InputError
from reqbisect.progress import PLAIN_PREFIX

from .conftest import ROOT, case_expected

PYTHON = shlex.quote(sys.executable)
WAF = ROOT / "cases" / "waf-header"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def script(path: Path, source: str) -> str:
    """Write a Python script and return the shell words that run it."""
    path.write_text(source, encoding="utf-8")
    return f"{PYTHON} {shlex.quote(str(path))}"


# -- exit statuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (0, Outcome.GOOD),
        (1, Outcome.BAD),
        (2, Outcome.BAD),
        (124, Outcome.BAD),
        (125, Outcome.UNRESOLVED),
        (126, Outcome.BAD),
        (127, Outcome.BAD),
        (128, Outcome.UNRESOLVED),
        (255, Outcome.UNRESOLVED),
        (-9, Outcome.UNRESOLVED),
        (None, Outcome.UNRESOLVED),
    ],
)
def test_exit_statuses_follow_git_bisect_run(status: int | None, outcome: Outcome) -> None:
    assert outcome_of_exit(status) is outcome


@pytest.mark.parametrize("command", ["exit 125", "kill -9 $$", "exit 200"])
async def test_skip_signals_and_odd_statuses_are_unresolved(command: str) -> None:
    assert await CommandOracle(command)(Reply(status=200), {}) is Outcome.UNRESOLVED


@pytest.mark.parametrize(("command", "outcome"), [("true", Outcome.GOOD), ("exit 3", Outcome.BAD)])
async def test_the_exit_status_is_the_verdict(command: str, outcome: Outcome) -> None:
    assert await CommandOracle(command)(Reply(status=200), {}) is outcome


# -- what the command sees -----------------------------------------------------------------


async def test_the_reply_and_the_candidate_arrive_as_json_on_stdin(tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    command = script(tmp_path / "copy.py", f"import sys\nopen({str(seen)!r}, 'wb').write(sys.stdin.buffer.read())\n")
    reply = Reply(
        status=429,
        headers=(("Content-Type", "application/json"), ("Via", "a"), ("via", "b")),
        body=b'{"error": "slow down"}',
        elapsed=0.25,
    )
    document = {"method": "GET", "url": "https://api.example.com/v1"}
    assert await CommandOracle(command)(reply, document) is Outcome.GOOD
    data = json.loads(seen.read_text(encoding="utf-8"))
    assert data == {
        "status": 429,
        "headers": {"content-type": "application/json", "via": "a, b"},
        "text": '{"error": "slow down"}',
        "json": {"error": "slow down"},
        "elapsed": 0.25,
        "error": None,
        "request": document,
    }


def test_a_transport_error_reaches_the_command_as_error() -> None:
    data = json.loads(reply_to_stdin(Reply(status=None, error="timed out"), {}))
    assert data["status"] is None and data["error"] == "timed out" and data["json"] is None


async def test_a_command_that_ignores_its_input_is_still_judged(tmp_path: Path) -> None:
    reply = Reply(status=200, body=b"x" * 1_000_000)
    assert await CommandOracle("exit 1")(reply, {}) is Outcome.BAD


# -- timeouts and cancellation ----------------------------------------------------------------


def _gone(pid: int) -> bool:
    """Dead, or a zombie waiting for a parent that no longer cares."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see processes")
async def test_a_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    command = f"sleep 30 & echo $! > {shlex.quote(str(pid_file))}; wait"
    with anyio.fail_after(10):
        assert await CommandOracle(command, timeout=0.5)(Reply(status=200), {}) is Outcome.UNRESOLVED
    pid = int(pid_file.read_text())
    with anyio.fail_after(10):
        while not _gone(pid):
            await anyio.sleep(0.01)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see processes")
async def test_a_withdrawn_candidate_kills_its_command(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    command = f"echo $$ > {shlex.quote(str(pid_file))}; sleep 30"
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(CommandOracle(command), Reply(status=200), {})
            while not pid_file.exists() or not pid_file.read_text().strip():
                await anyio.sleep(0.01)
            tg.cancel_scope.cancel()
    pid = int(pid_file.read_text())
    with anyio.fail_after(10):
        while not _gone(pid):
            await anyio.sleep(0.01)


# -- checking the command before anything runs -----------------------------------------------


@pytest.mark.parametrize(
    "command", ["true", "exit 1", "FOO=1 env", f"{PYTHON} -c pass", "(cd / && ls)", "! grep -q x {}"]
)
def test_plausible_commands_pass_the_check(command: str) -> None:
    check_command(command, option="--test")


def test_a_missing_program_is_refused_before_anything_runs() -> None:
    with pytest.raises(InputError, match="command not found: 'no-such-checker'"):
        check_command("no-such-checker {}", option="--test")


def test_a_script_that_is_not_executable_is_refused(tmp_path: Path) -> None:
    (tmp_path / "check.sh").write_text("exit 0\n")
    with pytest.raises(InputError, match="is not executable; chmod"):
        check_command(f"{tmp_path / 'check.sh'} {{}}", option="--test")


def test_an_empty_command_is_refused() -> None:
    with pytest.raises(InputError, match="empty"):
        check_command("  ", option="--oracle-cmd")


# -- run --oracle-cmd --------------------------------------------------------------------------


def test_run_with_an_oracle_command_finds_the_waf_header(tmp_path: Path) -> None:
    judge = script(
        tmp_path / "judge.py",
        "import json, sys\nreply = json.load(sys.stdin)\n"
        "sys.exit(0 if reply['status'] == 200 else 1 if reply['status'] == 403 else 125)\n",
    )
    code, out, err = invoke(
        "run", str(WAF / "good.json"), str(WAF / "bad.json"), "--app", f"{WAF / 'app.py'}:app", "--oracle-cmd", judge
    )
    assert code == 0, err
    assert json.loads(out) == case_expected("waf-header")["patch"]


def test_oracle_cmd_and_good_if_together_exit_2() -> None:
    code, _, err = invoke(
        "run", str(WAF / "good.json"), str(WAF / "bad.json"), "--app", f"{WAF / 'app.py'}:app",
        "--oracle-cmd", "true", "--good-if", "status == 200",
    )
    assert code == 2
    assert err.strip() == "reqbisect: --oracle-cmd: use either --oracle-cmd or --good-if/--bad-if, not both"


def test_an_oracle_command_that_does_not_exist_exits_2() -> None:
    code, _, err = invoke(
        "run", str(WAF / "good.json"), str(WAF / "bad.json"), "--oracle-cmd", "no-such-judge --strict"
    )
    assert code == 2
    assert err.count("\n") == 1 and "command not found: 'no-such-judge'" in err


# -- reqbisect json ------------------------------------------------------------------------------


def write_json(path: Path, value: Any, **style: Any) -> Path:
    path.write_text(json.dumps(value, **style) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def configs(tmp_path: Path) -> tuple[Path, Path]:
    """Two service configurations with 200 keys; every value differs, one breaks the service."""
    good = {f"setting_{i:03d}": {"value": i, "enabled": True} for i in range(200)}
    bad = {name: {"value": item["value"] + 1000, "enabled": item["value"] % 7 != 3} for name, item in good.items()}
    bad["setting_137"]["value"] = -1
    return write_json(tmp_path / "good.json", good, indent=2), write_json(tmp_path / "service.json", bad, indent=2)


CHECKER = """\
import json, sys
with open(sys.argv[2], "a") as runs:
    runs.write("run\\n")
config = json.load(open(sys.argv[1]) if sys.argv[1] != "-" else sys.stdin)
sys.exit(1 if config["setting_137"]["value"] < 0 else 0)
"""


def test_json_finds_the_one_breaking_key_among_200_in_under_20_runs(
    tmp_path: Path, configs: tuple[Path, Path]
) -> None:
    runs = tmp_path / "runs.txt"
    test = script(tmp_path / "check.py", CHECKER) + f" {{}} {shlex.quote(str(runs))}"
    code, out, err = invoke("json", str(configs[0]), str(configs[1]), "--test", test)
    assert code == 0, err
    assert json.loads(out) == [{"op": "replace", "path": "/setting_137/value", "value": 137}]
    count = len(runs.read_text().splitlines())
    assert count < 20
    assert "minimal difference: replace /setting_137/value" in err
    assert "test runs" in err


def test_json_without_braces_passes_the_candidate_on_stdin(tmp_path: Path, configs: tuple[Path, Path]) -> None:
    runs = tmp_path / "runs.txt"
    test = script(tmp_path / "check.py", CHECKER) + f" - {shlex.quote(str(runs))}"
    code, out, err = invoke("json", str(configs[0]), str(configs[1]), "--test", test, "-j", "4")
    assert code == 0, err
    assert json.loads(out) == [{"op": "replace", "path": "/setting_137/value", "value": 137}]


def test_json_candidates_are_written_like_their_input_file(tmp_path: Path) -> None:
    good = write_json(tmp_path / "a.json", {"name": "Zoë", "port": 80, "tls": False}, indent=4, ensure_ascii=False)
    bad = write_json(tmp_path / "app.config.json", {"name": "Zoë", "port": 8080, "tls": True}, indent=4,
                     ensure_ascii=False)
    seen = tmp_path / "seen"
    seen.mkdir()
    recorder = script(
        tmp_path / "record.py",
        "import json, os, sys, uuid\n"
        "text = open(sys.argv[1], encoding='utf-8').read()\n"
        f"open(os.path.join({str(seen)!r}, uuid.uuid4().hex), 'w', encoding='utf-8')"
        ".write(json.dumps([os.path.basename(sys.argv[1]), text]))\n"
        "sys.exit(1 if json.loads(text)['tls'] else 0)\n",
    )
    code, out, err = invoke("json", str(good), str(bad), "--test", recorder + " {}")
    assert code == 0, err
    assert json.loads(out) == [{"op": "replace", "path": "/tls", "value": False}]
    records = [json.loads(path.read_text(encoding="utf-8")) for path in seen.iterdir()]
    assert records
    for name, text in records:
        assert name == "app.config.json"
        assert text == json.dumps(json.loads(text), indent=4, ensure_ascii=False) + "\n"
    assert not any(Path(os.environ.get("TMPDIR", "/tmp")).glob("reqbisect-*/*/app.config.json"))


def test_json_writes_the_patch_file_and_the_result_object(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", {"a": 1, "b": [1, 2, 3]})
    bad = write_json(tmp_path / "bad.json", {"a": 2, "b": [1, 3], "c": None})
    patch_file = tmp_path / "fix.json"
    test = f"{PYTHON} -c " + shlex.quote("import json,sys; sys.exit(0 if 2 in json.load(open(sys.argv[1]))['b'] else 1)")
    code, out, err = invoke("json", str(good), str(bad), "--test", test + " {}", "-o", str(patch_file), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["outcome"] == "found" and data["mode"] == "fix" and data["minimal"] is True
    assert data["patch"] == json.loads(patch_file.read_text()) == [{"op": "add", "path": "/b/1", "value": 2}]
    assert data["minimal_good"] == {"a": 2, "b": [1, 2, 3], "c": None}
    assert set(data["stats"]) >= {"requests", "cache_hits", "unresolved", "rounds", "seconds"}


def test_json_break_mode_finds_what_breaks_good(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", {"retries": 3, "timeout": 30, "log": "info"})
    bad = write_json(tmp_path / "bad.json", {"retries": 0, "timeout": 5, "log": "debug"})
    test = f"{PYTHON} -c " + shlex.quote("import json,sys; sys.exit(1 if json.load(open(sys.argv[1]))['retries'] == 0 else 0)")
    code, out, err = invoke("json", str(good), str(bad), "--test", test + " {}", "--mode", "break")
    assert code == 0, err
    assert json.loads(out) == [{"op": "replace", "path": "/retries", "value": 0}]


def test_json_out_of_budget_exits_3_with_the_best_so_far(tmp_path: Path, configs: tuple[Path, Path]) -> None:
    runs = tmp_path / "runs.txt"
    test = script(tmp_path / "check.py", CHECKER) + f" {{}} {shlex.quote(str(runs))}"
    code, out, err = invoke("json", str(configs[0]), str(configs[1]), "--test", test, "--max-requests", "4")
    assert code == 3
    assert isinstance(json.loads(out), list)
    assert "best so far" in err


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (None, "missing.json: cannot read the file: No such file or directory"),
        ('{\n  "a": 1,\n}\n', "line 3, column 1"),
    ],
)
def test_json_bad_input_exits_2_in_one_line(tmp_path: Path, contents: str | None, message: str) -> None:
    good = write_json(tmp_path / "good.json", {"a": 1})
    bad = tmp_path / "missing.json"
    if contents is not None:
        bad.write_text(contents)
    code, out, err = invoke("json", str(good), str(bad), "--test", "true")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_json_with_a_missing_test_program_exits_2(tmp_path: Path) -> None:
    good, bad = write_json(tmp_path / "g.json", {"a": 1}), write_json(tmp_path / "b.json", {"a": 2})
    code, _, err = invoke("json", str(good), str(bad), "--test", "no-such-validator {}")
    assert code == 2 and "command not found: 'no-such-validator'" in err


def test_json_when_the_test_rejects_good_exits_1_and_says_what_is_expected(tmp_path: Path) -> None:
    good, bad = write_json(tmp_path / "g.json", {"a": 1}), write_json(tmp_path / "b.json", {"a": 2})
    code, _, err = invoke("json", str(good), str(bad), "--test", "exit 1")
    assert code == 1
    assert "must exit 0 for GOOD" in err
    assert len([line for line in err.splitlines() if not line.startswith(PLAIN_PREFIX)]) == 1


def test_json_of_equal_documents_exits_1(tmp_path: Path) -> None:
    good, bad = write_json(tmp_path / "g.json", {"a": 1}), write_json(tmp_path / "b.json", {"a": 1})
    code, _, err = invoke("json", str(good), str(bad), "--test", "true")
    assert code == 1 and "equal" in err


# -- the library ------------------------------------------------------------------------------------


def test_command_test_works_with_bisect_documents(tmp_path: Path) -> None:
    test = CommandTest(
        f"{PYTHON} -c " + shlex.quote("import json,sys; sys.exit(1 if json.load(sys.stdin)['mode'] == 'strict' else 0)"),
        tmp_path,
    )
    result = bisect_documents({"mode": "lax", "level": 1}, {"mode": "strict", "level": 2}, test)
    assert result.patch == [{"op": "replace", "path": "/mode", "value": "lax"}]
    assert list(tmp_path.iterdir()) == []


INTERRUPTER = """\
import json, os, signal, sys
with open(sys.argv[2], "a") as runs:
    runs.write("run\\n")
with open(sys.argv[2]) as runs:
    count = len(runs.read().splitlines())
if count == 5:
    with open(sys.argv[3]) as pid:
        os.kill(int(pid.read()), signal.SIGINT)
config = json.load(open(sys.argv[1]))
sys.exit(1 if config["setting_137"]["value"] < 0 else 0)
"""


def test_json_interrupted_exits_130_with_the_best_so_far(tmp_path: Path, configs: tuple[Path, Path]) -> None:
    runs, pid_file = tmp_path / "runs.txt", tmp_path / "pid"
    test = script(tmp_path / "check.py", INTERRUPTER) + f" {{}} {shlex.quote(str(runs))} {shlex.quote(str(pid_file))}"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "bisect"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "reqbisect", "json", str(configs[0]), str(configs[1]), "--test", test],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    pid_file.write_text(str(proc.pid))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    best = json.loads(out)
    assert isinstance(best, list)
    assert len(runs.read_text().splitlines()) < 10


def test_json_with_two_equal_documents_exits_1_without_running_the_test(tmp_path: Path) -> None:
    same = write_json(tmp_path / "a.json", {"a": 1}, indent=2)
    runs = tmp_path / "runs"
    code, out, err = invoke("json", str(same), str(same), "--test", f"echo run >> {shlex.quote(str(runs))}")
    assert code == 1 and out == ""
    assert err.strip() == "reqbisect: the two documents are equal; there is nothing to bisect"
    assert not runs.exists()
