"""Shared fixtures: servers on 127.0.0.1 started by the tests, case loading."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from .servers import Origin, is_socket_case, serve_case

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def load_case_app(name: str) -> Any:
    path = CASES / name / "app.py"
    module_name = f"_case_{name.replace('-', '_')}"
    if module_name in sys.modules:
        return sys.modules[module_name].app
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module.app


#: Socket-served cases' servers, started on first use and stopped when the session ends.
_CASE_SERVERS: dict[str, Origin] = {}
_CASE_STACK = contextlib.ExitStack()


@pytest.fixture(scope="session", autouse=True)
def _stop_case_servers() -> Iterator[None]:
    yield
    _CASE_STACK.close()
    _CASE_SERVERS.clear()


def case_origin(name: str) -> Origin:
    """Where the socket-served case ``name`` answers (its ``server.py``, started once per session)."""
    if name not in _CASE_SERVERS:
        _CASE_SERVERS[name] = _CASE_STACK.enter_context(serve_case(name))
    return _CASE_SERVERS[name]


def case_route(name: str) -> dict[str, Any]:
    """How a run reaches case ``name``: its ASGI app in-process, or its socket server by ``target``."""
    if is_socket_case(name):
        origin = case_origin(name)
        return {"target": origin.url, "ca_cert": origin.ca_cert}
    return {"app": load_case_app(name)}


def case_names() -> list[str]:
    return sorted(p.parent.name for p in CASES.glob("*/expected.json"))


def case_file(name: str, stem: str) -> Path:
    (path,) = sorted((CASES / name).glob(f"{stem}.*"))
    return path


def case_expected(name: str) -> dict[str, Any]:
    return json.loads((CASES / name / "expected.json").read_text(encoding="utf-8"))


@dataclass
class Counter:
    """Records every request an ASGI app receives: method, target, headers, body."""

    app: Any
    received: list[tuple[str, str, tuple[tuple[bytes, bytes], ...], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        query = scope.get("query_string", b"").decode()
        with self.lock:
            target = scope["path"] + ("?" + query if query else "")
            self.received.append((scope["method"], target, tuple(scope["headers"]), body))
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@dataclass
class Served:
    url: str
    counter: Counter


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is ready to accept connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@contextlib.contextmanager
def serve(app: Any) -> Iterator[Served]:
    """Serve ``app`` with uvicorn on 127.0.0.1 (a free port) in a thread."""
    counter = Counter(app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(counter, log_level="error", lifespan="off", access_log=False)
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    if not server.ready.wait(timeout=10):
        raise RuntimeError("uvicorn did not start")
    try:
        yield Served(url=f"http://127.0.0.1:{port}", counter=counter)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
