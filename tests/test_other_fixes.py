"""When a failure needs two culprits, ``fix`` names the other single change it saw fix BAD too.

The server below fails only when a request carries both ``x-a`` and ``x-b``;
BAD carries both, so removing either one fixes it. ``fix`` answers with one of
them; the summary and the report name the other when a recorded answer showed
it (nothing is sent to find out) and point to ``--mode break`` for the whole cause.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import reqbisect
from reqbisect.cli import cli
from reqbisect.outcome import Outcome
from reqbisect.search.alternatives import other_single_changes
from reqbisect.search.space import Space

APP = '''
async def app(scope, receive, send):
    names = {name for name, _ in scope["headers"]}
    status, body = (400, b'{"error": "no"}') if {b"x-a", b"x-b"} <= names else (200, b'{"ok": true}')
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
'''
GOOD: dict[str, Any] = {"method": "GET", "url": "https://api.example.com/x", "headers": {"accept": "*/*"}}
BAD: dict[str, Any] = {"method": "GET", "url": "https://api.example.com/x",
                       "headers": {"accept": "*/*", "x-a": "1", "x-b": "2"}}

G, B = Outcome.GOOD, Outcome.BAD


def test_only_single_changes_recorded_good_are_named() -> None:
    space = Space.flat(4)
    known = {frozenset({0}): G, frozenset({1}): B, frozenset({2}): G, frozenset({0, 3}): G, frozenset({3}): Outcome.UNRESOLVED}
    assert other_single_changes(space, known, frozenset({0})) == [frozenset({2})]
    assert other_single_changes(space, known, frozenset({2})) == [frozenset({0})]
    assert other_single_changes(space, {}, frozenset({0})) == []


def test_a_single_change_inside_a_container_comes_with_its_container() -> None:
    # 0 is an added object; 1 and 2 live inside it; 3 stands alone.
    space = Space(parents=(None, 0, 0, None), paths=(("a",), ("a", "x"), ("a", "y"), ("b",)))
    known = {frozenset({0, 2}): G, frozenset({2}): G, frozenset({0, 1, 2}): G, frozenset({3}): G}
    assert other_single_changes(space, known, frozenset({0, 1})) == [frozenset({0, 2}), frozenset({3})]
    # The answer seen again, or a configuration holding it, is not another fix.
    assert other_single_changes(space, {frozenset({0, 1}): G}, frozenset({0, 1})) == []


def test_fix_names_the_other_culprit_and_suggests_break(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "good.json").write_text(json.dumps(GOOD))
    (tmp_path / "bad.json").write_text(json.dumps(BAD))
    report = tmp_path / "report.md"
    args = ["run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--app", f"{tmp_path / 'app.py'}:app"]
    result = CliRunner().invoke(cli, [*args, "--report", str(report), "-j", "4"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"op": "remove", "path": "/headers/x-b"}]
    assert "also seen to fix it alone: removed header x-a" in result.stderr
    assert "--mode break" in result.stderr
    text = report.read_text()
    assert "## Other fixes seen" in text and "- removed header x-a" in text and "`--mode break`" in text
    whole = CliRunner().invoke(cli, [*args, "--mode", "break"], catch_exceptions=False)
    assert sorted(op["path"] for op in json.loads(whole.stdout)) == ["/headers/x-a", "/headers/x-b"]


def test_the_library_result_carries_the_other_fixes_as_patches(tmp_path: Path) -> None:
    (tmp_path / "twoapp.py").write_text(APP)
    from reqbisect.transport import load_app

    result = reqbisect.bisect(GOOD, BAD, app=load_app(f"{tmp_path / 'twoapp.py'}:app"), concurrency=4)
    assert result.other_fixes == ([{"op": "remove", "path": "/headers/x-a"}],)
    assert reqbisect.bisect(GOOD, BAD, app=load_app(f"{tmp_path / 'twoapp.py'}:app"), mode="break").other_fixes == ()
