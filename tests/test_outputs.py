"""Output files never destroy an input, are checked before sending, and a failed write keeps the result."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from reqbisect.cli import cli

from .conftest import ROOT, case_expected

CASE = ROOT / "cases" / "billing-header"
APP = f"{CASE / 'app.py'}:app"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the case's GOOD and BAD, so a bug cannot damage the repository."""
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes((CASE / "good.json").read_bytes())
    bad.write_bytes((CASE / "bad.json").read_bytes())
    return good, bad


def run(good: Path, bad: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["run", str(good), str(bad), "--app", APP, "-q", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def unchanged(good: Path, bad: Path) -> bool:
    return good.read_bytes() == (CASE / "good.json").read_bytes() and bad.read_bytes() == (CASE / "bad.json").read_bytes()


@pytest.mark.parametrize("option", ["-o", "--report", "--journal"])
def test_an_output_that_is_an_input_is_refused_before_sending(inputs: tuple[Path, Path], option: str) -> None:
    good, bad = inputs
    code, out, err = run(good, bad, option, str(bad))
    assert code == 2 and out == ""
    assert "is BAD" in err and "would destroy the input" in err and "Traceback" not in err
    assert unchanged(good, bad)


def test_a_symlink_to_an_input_is_refused(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    good, bad = inputs
    link = tmp_path / "patch.json"
    link.symlink_to(good)
    code, out, err = run(good, bad, "-o", str(link))
    assert code == 2 and out == "" and "is GOOD" in err
    assert unchanged(good, bad) and link.is_symlink()


def test_a_hard_link_to_an_input_is_refused(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    good, bad = inputs
    other = tmp_path / "sub"
    other.mkdir()
    link = other / "report.md"
    os.link(bad, link)
    code, out, err = run(good, bad, "--report", str(link))
    assert code == 2 and out == "" and "--report" in err and "is BAD" in err
    assert unchanged(good, bad)


def test_two_outputs_in_one_file_are_refused(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    good, bad = inputs
    code, _, err = run(good, bad, "-o", str(tmp_path / "x"), "--report", str(tmp_path / "x"))
    assert code == 2 and "also the file of --output" in err
    assert not (tmp_path / "x").exists()


def test_a_journal_path_holding_something_else_is_refused(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    good, bad = inputs
    har = tmp_path / "capture.har"
    har.write_text('{"log": {"entries": []}}\n')
    code, out, err = run(good, bad, "--journal", str(har))
    assert code == 2 and out == "" and "not a reqbisect journal" in err
    assert har.read_text() == '{"log": {"entries": []}}\n'


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("file/patch.json", "does not exist"),
        ("dir", "is a directory"),
        pytest.param("/proc/version", "cannot open '/proc/version' for writing", marks=pytest.mark.skipif(
            not os.path.exists("/proc/version"), reason="needs Linux procfs")),
    ],
)
def test_a_path_that_cannot_be_written_is_refused_before_sending(
    inputs: tuple[Path, Path], tmp_path: Path, where: str, message: str
) -> None:
    good, bad = inputs
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    code, out, err = run(good, bad, "-o", str(tmp_path / where))
    assert code == 2 and out == "" and message in err and "Traceback" not in err
    assert unchanged(good, bad)


def test_a_full_disk_after_sending_prints_the_result_and_exits_2(inputs: tuple[Path, Path]) -> None:
    good, bad = inputs
    code, out, err = run(good, bad, "-o", "/dev/full")
    assert code == 2
    assert json.loads(out) == case_expected("billing-header")["patch"]  # the result reached stdout
    assert "--output /dev/full: cannot write the file: No space left on device" in err
    assert "printed on standard output" in err and "Traceback" not in err
    assert unchanged(good, bad)


def test_an_existing_output_is_replaced_whole_and_a_new_one_is_not_left_empty(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    good, bad = inputs
    old = tmp_path / "old.json"
    old.write_text("an older patch that is much longer than the new one " * 100)
    code, out, _ = run(good, bad, "-o", str(old))
    assert code == 0 and json.loads(old.read_text()) == json.loads(out)
    # Swapped baselines end with exit 1 and no patch: the empty file the check made is removed again.
    code, _, _ = run(bad, good, "-o", str(tmp_path / "new.json"))
    assert code == 1 and not (tmp_path / "new.json").exists()
