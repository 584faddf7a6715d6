"""``--report-dir``: report.md, curl scripts and HAR files that are redacted, linked and load back.

What round-trips (docs/design.md, "Repro for an issue"): ``reqbisect run
DIR/good.har DIR/bad.har`` against the same app finds the same patch whenever the
server does not check the redacted values themselves; when the patch needs a
secret, it finds the same patch with the secret's placeholder in its place.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from reqbisect.cli import cli

from .conftest import CASES, case_expected, load_case_app, serve


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_case(name: str, out: Path, *extra: str) -> tuple[int, str, str]:
    folder = CASES / name
    return run_cli("run", str(folder / "good.json"), str(folder / "bad.json"), "--app", f"{folder / 'app.py'}:app",
                   "--report-dir", str(out), "-q", *extra)


def links(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [child.attrs["href"] for t in tokens if t.type == "inline" for child in t.children or []
            if child.type == "link_open"]


@pytest.fixture(scope="module")
def large_body(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One run of the large-body case with --report-dir: (the directory, the patch printed)."""
    out = tmp_path_factory.mktemp("large-body") / "report"
    code, patch, err = run_case("large-body", out)
    assert code == 0, err
    return out, patch


@pytest.mark.parametrize("name", ["large-body", "billing-header"])
def test_the_har_files_load_back_and_give_the_same_patch(
    tmp_path: Path, name: str, large_body: tuple[Path, str]
) -> None:
    if name == "large-body":
        out, patch = large_body
    else:
        out = tmp_path / "report"
        code, patch, err = run_case(name, out)
        assert code == 0, err
    assert json.loads(patch) == case_expected(name)["patch"]
    folder = CASES / name
    code, again, err = run_cli("run", str(out / "good.har"), str(out / "bad.har"), "--app", f"{folder / 'app.py'}:app",
                               "-q")
    assert code == 0, err
    assert json.loads(again) == json.loads(patch)


def test_a_patch_that_needs_a_secret_round_trips_with_its_placeholder(tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, patch, err = run_case("cookie-jar", out)
    assert code == 0, err
    good = json.loads((CASES / "cookie-jar" / "good.json").read_text())
    secret = good["cookies"]["csrftoken"]
    assert secret in patch
    assert all(secret not in path.read_text(errors="replace") for path in out.iterdir())
    folder = CASES / "cookie-jar"
    code, again, err = run_cli("run", str(out / "good.har"), str(out / "bad.har"), "--app", f"{folder / 'app.py'}:app",
                               "-q")
    assert code == 0, err
    (op,) = json.loads(again)
    (expected,) = json.loads(patch)
    assert (op["op"], op["path"]) == (expected["op"], expected["path"])
    assert re.fullmatch(r"<redacted:[a-z-]*csrftoken#\d+>", op["value"])


def test_with_no_redact_the_files_hold_the_real_requests(tmp_path: Path) -> None:
    out = tmp_path / "report"
    code, patch, err = run_case("cookie-jar", out, "--no-redact")
    assert code == 0, err
    folder = CASES / "cookie-jar"
    code, again, _ = run_cli("run", str(out / "good.har"), str(out / "bad.har"), "--app", f"{folder / 'app.py'}:app",
                             "-q")
    assert code == 0 and json.loads(again) == json.loads(patch)


def test_the_report_links_every_file_and_reads_large_bodies_from_them(large_body: tuple[Path, str]) -> None:
    out, _ = large_body
    report = (out / "report.md").read_text()
    assert len(report) < 20_000
    assert sorted(links(report)) == sorted(["good.curl", "good.body", "good.har", "bad.curl", "bad.body", "bad.har",
                                            "good.body", "bad.body"])
    assert all((out / link).is_file() for link in links(report))
    assert "--data-binary @good.body" in report and "services (array of" in report
    assert "`body.services[23].security.run_as_root` = `false`" in report
    assert (out / "good.body").stat().st_size > 100_000


def test_the_curl_scripts_reproduce_with_real_curl_reading_their_body_files(
    tmp_path: Path, large_body: tuple[Path, str]
) -> None:
    out, _ = large_body
    statuses = {}
    with serve(load_case_app("large-body")) as server:
        for side in ("good", "bad"):
            script = (out / f"{side}.curl").read_text().replace("https://api.example.com", server.url)
            script = script.rstrip() + " \\\n  --silent --output /dev/null --max-time 20 --write-out '%{http_code}'"
            (tmp_path / f"{side}.sh").write_text(script.replace('cd "$(dirname "$0")"', f"cd {out}"))
            proc = subprocess.run(["bash", str(tmp_path / f"{side}.sh")], capture_output=True, text=True,
                                  timeout=60, check=True, cwd=tmp_path)
            statuses[side] = proc.stdout
    assert statuses == {"good": "200", "bad": "422"}


def test_report_dir_refuses_to_overwrite_an_input_before_sending(tmp_path: Path) -> None:
    (tmp_path / "good.har").write_text((CASES / "waf-header" / "good.json").read_text())
    code, _, err = run_cli("run", str(tmp_path / "good.har"), str(CASES / "waf-header" / "bad.json"),
                           "--app", f"{CASES / 'waf-header' / 'app.py'}:app", "--report-dir", str(tmp_path))
    assert code == 2 and "--report-dir" in err and "Traceback" not in err
    (tmp_path / "file").write_text("")
    code, _, err = run_case("waf-header", tmp_path / "file" / "inside")
    assert code == 2 and "not a directory" in err
