"""The scenarios under cases/ reproduce on their own apps, independent of the search engine.

For every case: the files are well-formed; GOOD is answered as wanted and BAD with the
case's error; the expected fix patch turns BAD good and is 1-minimal (dropping any op, or
any key or element inside an added container, no longer does); the expected break patch
turns GOOD into exactly BAD's failure and is 1-minimal too.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import re
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import httpx
import jsonpatch
import pytest

from .conftest import case_origin
from .servers import Origin, is_socket_case

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"
CASE_NAMES = sorted(
    p.name for p in CASES_DIR.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
)
REQUIRED_CASES = {
    "billing-header",
    "waf-header",
    "version-unlock",
    "cookie-jar",
    "deep-messages",
    "login-form",
    "large-body",
}
DOCUMENT_KEYS = {"method", "url", "query", "headers", "cookies", "body", "body_base64", "transport"}
FORBIDDEN_HEADERS = {
    "host", "content-length", "cookie", "connection", "keep-alive",
    "transfer-encoding", "te", "upgrade", "proxy-connection",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- loading -------------------------------------------------------------------------


def load_json(case: str, name: str) -> Any:
    return json.loads((CASES_DIR / case / name).read_text(encoding="utf-8"))


def load_doc(case: str, stem: str) -> Any:
    """A case's GOOD or BAD request document, from whichever capture the case keeps (``good.*``)."""
    (path,) = sorted((CASES_DIR / case).glob(f"{stem}.*"))
    if path.suffix == ".json":
        return load_json(case, path.name)
    from reqbisect.formats import load_request

    return load_request(path).document


def body_of(response: httpx.Response) -> Any:
    """A response body as the case's server meant it: parsed JSON, or text (server-sent events)."""
    return response.json() if "json" in response.headers.get("content-type", "") else response.text


def load_module(case: str, name: str) -> ModuleType:
    path = CASES_DIR / case / f"{name}.py"
    module_name = "cases_" + case.replace("-", "_") + "_" + name
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
    return module


# -- sending a request document ---------------------------------------------------------


def build_request(client: httpx.AsyncClient, doc: dict[str, Any]) -> httpx.Request:
    """The wire request for a request document (docs/design.md, "The request document")."""
    url = doc["url"]
    if doc.get("query"):
        url += "?" + urlencode(doc["query"], doseq=True)
    headers: list[tuple[str, str]] = []
    for name, value in doc.get("headers", {}).items():
        for item in value if isinstance(value, list) else [value]:
            headers.append((name, item))
    if doc.get("cookies"):
        pairs = []
        for name, value in doc["cookies"].items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append(f"{name}={item}")
        headers.append(("cookie", "; ".join(pairs)))
    spelled = (doc.get("transport") or {}).get("header_case") or {}
    headers = [(spelled.get(name, name), value) for name, value in headers]  # names are lower case
    order = [spelled.get(name, name) for name in (doc.get("transport") or {}).get("header_order") or []]
    if order:  # the n-th line of a name goes where the name is listed the n-th time; the rest follow
        lines, placed = list(headers), []
        for name in order:
            line = next((line for line in lines if line[0] == name), None)
            if line is not None:
                lines.remove(line)
                placed.append(line)
        headers = placed + lines
    content: bytes | None = None
    if "body" in doc:
        body = doc["body"]
        content_type = str(doc.get("headers", {}).get("content-type", ""))
        if "x-www-form-urlencoded" in content_type:
            content = urlencode(body, doseq=True).encode()
        elif isinstance(body, str):
            content = body.encode()
        else:
            content = json.dumps(body, ensure_ascii=False).encode()
    elif "body_base64" in doc:
        content = base64.b64decode(doc["body_base64"])
    return client.build_request(doc["method"], url, headers=headers, content=content)


class Server:
    """One case's app, reached in-process (or its server over sockets); answers are reduced to what the oracle sees."""

    def __init__(self, case: str) -> None:
        self.origin = case_origin(case) if is_socket_case(case) else None
        self.app = load_module(case, "app").app if self.origin is None else None
        # A case whose requests are signed names the hook that re-signs each one (`run --hook`).
        module, _, function = load_json(case, "expected.json").get("hook", "").rpartition(":")
        self.prepare = getattr(load_module(case, module.removesuffix(".py")), function) if module else None

    async def send(self, doc: dict[str, Any]) -> httpx.Response:
        if self.prepare is not None:
            doc = self.prepare(doc)
        if self.origin is not None:
            return await self.send_over_sockets(doc, self.origin)
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport) as client:
            client.headers.clear()  # send exactly the document's headers
            response = await client.send(build_request(client, doc))
            await response.aread()
            return response

    @staticmethod
    async def send_over_sockets(doc: dict[str, Any], origin: Origin) -> httpx.Response:
        """To the case's own server: the capture's origin swapped for it, HTTP/2 when the document says so."""
        path = doc["url"].split("://", 1)[1].partition("/")[2]
        doc = {**doc, "url": f"{origin.url}/{path}"}
        http2 = (doc.get("transport") or {}).get("http") == "2"
        verify = ssl.create_default_context(cafile=str(origin.ca_cert)) if origin.ca_cert else True
        async with httpx.AsyncClient(http1=not http2, http2=http2, verify=verify, trust_env=False) as client:
            client.headers.clear()
            response = await client.send(build_request(client, doc))
            await response.aread()
            assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1"), response.http_version
            return response

    async def signature(self, doc: dict[str, Any]) -> tuple[int, str]:
        response = await self.send(doc)
        return response.status_code, mask(unecho(response.text, doc))


def failed(response: httpx.Response) -> bool:
    """An error status, or a 200 that GraphQL over HTTP uses for a failure (a non-empty ``errors``)."""
    if response.status_code >= 400:
        return True
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data.get("errors"))


def answer(response: httpx.Response) -> tuple[int, bool]:
    return response.status_code, failed(response)


def unecho(text: str, doc: Any) -> str:
    """Mask the string values of the request that the answer repeats whole (a 422 echoing its input)."""
    if isinstance(doc, dict):
        for value in doc.values():
            text = unecho(text, value)
    elif isinstance(doc, list):
        for value in doc:
            text = unecho(text, value)
    elif isinstance(doc, str) and len(doc) >= 3:
        text = text.replace(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), '"<echo>"')
    return text


def mask(text: str) -> str:
    """Mask volatile values: every word that contains a digit (ids, timestamps, numbers)."""
    return re.sub(r"[\w-]*\d[\w-]*", "#", text)


def smaller_values(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Each copy of `value` with one key or element removed, at any depth."""
    children = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for key, child in children:
        path = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        smaller = copy.deepcopy(value)
        del smaller[key]
        yield path, smaller
        if isinstance(child, (dict, list)):
            for inner_path, inner in smaller_values(child, path):
                rebuilt = copy.deepcopy(value)
                rebuilt[key] = inner
                yield inner_path, rebuilt


def reduced_patches(patch: list[dict[str, Any]], *, inside: bool) -> Iterator[tuple[str, Any]]:
    """Each patch one step smaller: without one op or (`inside`) with a smaller added value."""
    for i, op in enumerate(patch):
        yield f"without op {i} ({op['op']} {op['path']})", patch[:i] + patch[i + 1 :]
        if inside and op["op"] == "add" and isinstance(op["value"], (dict, list)):
            for pointer, value in smaller_values(op["value"]):
                smaller = dict(op, value=value)
                yield f"op {i} ({op['path']}) without {pointer}", [*patch[:i], smaller, *patch[i + 1 :]]


# -- the files ---------------------------------------------------------------------------


def test_required_cases_exist() -> None:
    assert REQUIRED_CASES <= set(CASE_NAMES)


def test_at_least_three_cases_expect_break() -> None:
    with_break = [c for c in CASE_NAMES if "break" in load_json(c, "expected.json").get("modes", {})]
    assert len(with_break) >= 3, with_break


@pytest.mark.parametrize("case", CASE_NAMES)
def test_files_are_well_formed(case: str) -> None:
    folder = CASES_DIR / case
    for name in ("README.md", "expected.json"):
        assert (folder / name).is_file(), f"{case}/{name} is missing"
    # An ASGI app, or a server on real sockets for what ASGI hides (tests/servers.py).
    assert (folder / "app.py").is_file() != (folder / "server.py").is_file(), f"{case}: app.py or server.py"
    for stem in ("good", "bad"):
        assert len(list(folder.glob(f"{stem}.*"))) == 1, f"{case}: one {stem}.* capture expected"
    assert (folder / "README.md").read_text(encoding="utf-8").startswith(f"# {case}\n")
    for name in ("good", "bad"):
        doc = load_doc(case, name)
        assert set(doc) <= DOCUMENT_KEYS, f"{case}/{name}: unknown keys {set(doc) - DOCUMENT_KEYS}"
        assert isinstance(doc["method"], str) and doc["method"].isupper()
        assert doc["url"].startswith("https://") and not set("?#") & set(doc["url"])
        for section in ("query", "headers", "cookies"):
            assert isinstance(doc.get(section, {}), dict), f"{case}/{name}: {section}"
        for header in doc.get("headers", {}):
            assert header == header.lower() and not header.startswith(":"), header
            assert header not in FORBIDDEN_HEADERS, f"{case}/{name}: header {header!r}"
    expected = load_json(case, "expected.json")
    assert expected["mode"] == "fix"
    assert type(expected["max_requests"]) is int and expected["max_requests"] > 0
    patches = [expected["patch"]] + [m["patch"] for m in expected.get("modes", {}).values() if "patch" in m]
    assert set(expected.get("modes", {})) <= {"break", "isolate"}
    for patch in patches:
        assert isinstance(patch, list) and patch
        for op in patch:
            assert op["op"] in {"add", "remove", "replace"} and op["path"].startswith("/")
            assert ("value" in op) == (op["op"] != "remove"), op
    jsonpatch.JsonPatch(expected["patch"]).apply(load_doc(case, "bad"))
    if "break" in expected.get("modes", {}):
        jsonpatch.JsonPatch(expected["modes"]["break"]["patch"]).apply(load_doc(case, "good"))


@pytest.mark.parametrize("case", [c for c in CASE_NAMES if (CASES_DIR / c / "make.py").exists()])
def test_generated_files_match_their_script(case: str) -> None:
    good, bad = load_module(case, "make").build()
    assert good == load_doc(case, "good")
    assert bad == load_doc(case, "bad")


# -- the apps ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_NAMES)
async def test_baselines_reproduce(case: str) -> None:
    server = Server(case)
    good = await server.send(load_doc(case, "good"))
    bad = await server.send(load_doc(case, "bad"))
    assert 200 <= good.status_code < 300 and not failed(good), good.text
    assert failed(bad), bad.text
    again = await server.send(load_doc(case, "good"))
    assert body_of(again) != body_of(good), "GOOD's answer should carry volatile values"


@pytest.mark.parametrize("case", CASE_NAMES)
async def test_fix_patch_is_good_and_1_minimal(case: str) -> None:
    server = Server(case)
    good_answer = answer(await server.send(load_doc(case, "good")))
    bad = load_doc(case, "bad")
    patch = load_json(case, "expected.json")["patch"]

    fixed = await server.send(jsonpatch.apply_patch(bad, patch))
    assert answer(fixed) == good_answer, fixed.text
    for description, smaller in reduced_patches(patch, inside=True):
        response = await server.send(jsonpatch.apply_patch(bad, smaller))
        assert answer(response) != good_answer, f"{case}: still good {description}"


@pytest.mark.parametrize("case", CASE_NAMES)
async def test_break_patch_fails_exactly_like_bad(case: str) -> None:
    modes = load_json(case, "expected.json").get("modes", {})
    if "break" not in modes:
        pytest.skip("no break patch expected")
    server = Server(case)
    good = load_doc(case, "good")
    bad_signature = await server.signature(load_doc(case, "bad"))
    patch = modes["break"]["patch"]

    assert await server.signature(jsonpatch.apply_patch(good, patch)) == bad_signature
    for description, smaller in reduced_patches(patch, inside=True):
        signature = await server.signature(jsonpatch.apply_patch(good, smaller))
        assert signature != bad_signature, f"{case}: still fails like BAD {description}"


@pytest.mark.parametrize("case", CASE_NAMES)
async def test_half_built_request_fails_differently(case: str) -> None:
    """BAD without its headers fails, but not the way BAD does (no slippage into BAD)."""
    server = Server(case)
    bad = load_doc(case, "bad")
    status, text = await server.signature({k: v for k, v in bad.items() if k != "headers"})
    assert status >= 400 and (status, text) != await server.signature(bad)
