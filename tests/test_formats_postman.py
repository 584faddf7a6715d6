"""Postman collections v2.1 with environments: selection, {{variables}}, bodies, auth, --env."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reqbisect.cli import cli
from reqbisect.errors import InputError
from reqbisect.formats import load_request, postman, sniff

from .format_twins import FIXTURES, assert_twin_sends_the_same, needs_curl, with_echo
from .test_curl_differential import Echo, echo  # noqa: F401  (the loopback server fixture)

FOLDER = FIXTURES / "postman"
COLLECTION = FOLDER / "shop.postman_collection.json"
ENV = FOLDER / "local.postman_environment.json"
TWINS = sorted(FOLDER.glob("*.sh"))


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def _selector(twin: Path) -> str:
    first = twin.read_text(encoding="utf-8").splitlines()[0]
    return first.removeprefix("# ").partition("#")[2]


@needs_curl
@pytest.mark.network
@pytest.mark.parametrize("twin", TWINS, ids=lambda p: p.stem)
def test_postman_request_sends_what_its_curl_twin_sends(twin: Path, echo: Echo) -> None:  # noqa: F811
    env = {k: with_echo(v, echo) for k, v in postman.load_environment(ENV).items()}
    capture = load_request(f"{COLLECTION}#{_selector(twin)}", env=env)
    assert_twin_sends_the_same(capture, twin, echo)


def test_the_corpus_covers_every_body_mode_and_auth() -> None:
    names = " ".join(p.stem for p in TWINS)
    for word in ("json", "form", "formdata", "graphql", "cookies", "unicode", "empty", "basic", "apikey"):
        assert word in names
    assert len(TWINS) == len(postman._Collection(json.loads(COLLECTION.read_text()), "c", {}).requests)


def test_environment_wins_over_collection_variables_and_disabled_values_do_not_count() -> None:
    doc = load_request(f"{COLLECTION}#Users/Get user", env=ENV).document
    assert doc["url"] == "http://echo/v1/users/42"  # userId is disabled in the environment
    assert doc["headers"]["authorization"] == "Bearer tok-42-abc"


def test_without_an_environment_an_unresolved_variable_is_named() -> None:
    with pytest.raises(InputError) as info:
        load_request(f"{COLLECTION}#Keys/Header key")
    message = str(info.value)
    assert "the variable {{apiKey}} is not defined" in message and "--env FILE" in message
    assert info.value.location == "/item/3/item/0/request/auth/apikey"


def test_a_dynamic_variable_is_an_input_error(tmp_path: Path) -> None:
    data = json.loads(COLLECTION.read_text(encoding="utf-8"))
    data["item"][0]["item"][0]["request"]["header"][0]["value"] = "{{$guid}}"
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"dynamic variable \{\{\$guid\}\} gets a new value on every send"):
        load_request(f"{path}#0", env=ENV)


def test_selection_by_index_name_or_path_and_errors_list_the_requests() -> None:
    by_path = load_request(f"{COLLECTION}#Users/Search users", env=ENV)
    assert load_request(f"{COLLECTION}#3", env=ENV).document == by_path.document
    assert load_request(f"{COLLECTION}#Search users", env=ENV).document == by_path.document
    with pytest.raises(InputError, match=r"no request 12 \(the collection has 10: #0..#9\)"):
        load_request(f"{COLLECTION}#12", env=ENV)
    with pytest.raises(InputError) as info:
        load_request(COLLECTION, env=ENV)
    assert "the collection has 10 requests" in str(info.value) and "#4 POST Uploads/Upload avatar" in str(info.value)


def test_a_file_field_needs_its_file_beside_the_collection(tmp_path: Path) -> None:
    path = tmp_path / COLLECTION.name
    path.write_text(COLLECTION.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_request(f"{path}#Uploads/Upload avatar", env=ENV)
    assert "the file '/home/ann/Pictures/avatar.txt' is not beside the collection" in str(info.value)
    assert "put 'avatar.txt' in" in str(info.value)


def test_a_get_body_is_pruned_unless_the_collection_says_not_to(tmp_path: Path) -> None:
    data = json.loads(COLLECTION.read_text(encoding="utf-8"))
    item = data["item"][0]["item"][2]
    item["request"]["method"] = "GET"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    pruned = load_request(f"{path}#Users/Create user", env=ENV)
    assert "body" not in pruned.document and any("prunes it" in w for w in pruned.warnings)
    item["protocolProfileBehavior"] = {"disableBodyPruning": True}
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_request(f"{path}#Users/Create user", env=ENV).document["body"]["admin"] is False


def test_sniffing_finds_a_collection_in_any_json_file(tmp_path: Path) -> None:
    assert sniff(COLLECTION.read_text(encoding="utf-8")) == "postman"
    path = tmp_path / "export.json"
    path.write_text(COLLECTION.read_text(encoding="utf-8"), encoding="utf-8")
    # No environment: the collection's own baseUrl applies, and Ping needs no token.
    assert load_request(f"{path}#Keys/Ping").document == {"method": "POST", "url": "https://api.example.com/ping"}


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.postman_collection.json"
    text = COLLECTION.read_text(encoding="utf-8").replace('"name": "Shop API",', '"name": "Shop API"', 1)
    path.write_text(text, encoding="utf-8")
    result = invoke("convert", f"{path}#0", "--to", "json", "--env", str(ENV))
    assert result.exit_code == 2
    assert f"{path}, line 5, column 3: invalid JSON" in result.stderr and "Traceback" not in result.stderr


def test_convert_diff_and_apply_take_env() -> None:
    result = invoke("convert", f"{COLLECTION}#Keys/Query key", "--to", "curl", "--env", str(ENV))
    assert result.exit_code == 0, result.stderr
    assert "http://echo/v1/keys?v=1&api_key=key-123" in result.stdout
    result = invoke("diff", f"{COLLECTION}#Keys/Header key", f"{COLLECTION}#Keys/Query key", "--env", str(ENV))
    assert result.exit_code == 0, result.stderr
    assert {"op": "add", "path": "/query", "value": {"v": "1", "api_key": "key-123"}} in json.loads(result.stdout)


def test_apply_takes_env(tmp_path: Path) -> None:
    patch = tmp_path / "p.json"
    patch.write_text('[{"op": "replace", "path": "/method", "value": "PUT"}]', encoding="utf-8")
    result = invoke("apply", f"{COLLECTION}#Keys/Ping", str(patch), "--env", str(ENV))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"method": "PUT", "url": "http://echo/v1/ping"}


def test_a_broken_environment_file_is_exit_2_with_its_place(tmp_path: Path) -> None:
    env = tmp_path / "env.json"
    env.write_text('{"values": [\n  {"key": "a" "value": 1}]}', encoding="utf-8")
    result = invoke("convert", f"{COLLECTION}#0", "--to", "json", "--env", str(env))
    assert result.exit_code == 2 and f"{env}, line 2, column 15: invalid JSON" in result.stderr


@needs_curl
@pytest.mark.network
def test_send_with_env_reaches_the_server_and_without_it_sends_nothing(echo: Echo, tmp_path: Path) -> None:  # noqa: F811
    env = tmp_path / "env.json"
    env.write_text(with_echo(ENV.read_text(encoding="utf-8"), echo), encoding="utf-8")
    echo.drain()
    result = invoke("send", f"{COLLECTION}#Users/List users")
    assert result.exit_code == 2 and "the variable {{baseUrl}} is not defined" not in result.stderr
    assert "{{token}}" in result.stderr and echo.drain() == []
    result = invoke("send", f"{COLLECTION}#Users/List users", "--env", str(env))
    assert result.exit_code == 0, result.stderr
    (seen,) = echo.drain()
    assert seen.target == "/v1/users?page=2&sort=-created&tag=caf%C3%A9"
    assert ("Authorization", "Bearer tok-42-abc") in seen.headers


FLAG_APP = """
async def app(scope, receive, send):
    flag = dict(scope["headers"]).get(b"x-flag", b"")
    status = 400 if flag == b"on" else 200
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"flag" if status == 400 else b"ok"})
"""


def test_run_bisects_two_requests_of_a_collection_with_env(tmp_path: Path) -> None:
    (tmp_path / "flag_app.py").write_text(FLAG_APP, encoding="utf-8")
    request = {"method": "GET", "url": "{{baseUrl}}/x",
               "header": [{"key": "X-Trace", "value": "{{trace}}"}, {"key": "X-Flag", "value": "off"}]}
    bad = {**request, "header": [{"key": "X-Trace", "value": "t2"}, {"key": "X-Flag", "value": "on"}]}
    collection = {"info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
                  "item": [{"name": "Good", "request": request}, {"name": "Bad", "request": bad}]}
    path = tmp_path / "c.postman_collection.json"
    path.write_text(json.dumps(collection), encoding="utf-8")
    env = tmp_path / "e.postman_environment.json"
    env.write_text(json.dumps({"values": [{"key": "baseUrl", "value": "http://h.example"},
                                          {"key": "trace", "value": "t1"}]}), encoding="utf-8")
    result = invoke("run", f"{path}#Good", f"{path}#Bad", "--env", str(env), "--app",
                    f"{tmp_path / 'flag_app.py'}:app", "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"op": "replace", "path": "/headers/x-flag", "value": "off"}]


def test_run_help_names_every_input_format() -> None:
    result = invoke("run", "--help")
    text = re.sub(r"-\s+", "-", " ".join(result.stdout.split()))  # click wraps lines after hyphens
    for name in ("HAR", "curl", "raw HTTP", "JSON request document", "PowerShell Invoke-WebRequest", "fetch()",
                 "Postman collections", "--env FILE"):
        assert name in text
