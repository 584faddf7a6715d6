"""Servers on real sockets for what an in-process ASGI app cannot show (docs/design.md, "Cases").

ASGI hands an app lower-case header names, and an app called in-process has no HTTP
version to negotiate. Two kinds of server keep what those hide, each on 127.0.0.1 on a
free port, in a thread, for as long as the ``with`` block lasts:

* :func:`serve_handler`: the standard library's ``http.server`` over plain HTTP/1.1; its
  handler sees every header name as spelled on the wire.
* :func:`serve_tls`: hypercorn over TLS with a fresh ``trustme`` certificate authority,
  offering ``h2`` and ``http/1.1`` by ALPN; the ASGI app reads the version the client
  chose from ``scope["http_version"]``. The CA's PEM file is what ``--cacert`` takes.

:func:`serve_case` starts a case's ``server.py`` with the one that fits what it defines
(``Handler`` or ``tls_app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import importlib.util
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

CASES = Path(__file__).resolve().parent.parent / "cases"


@dataclass(frozen=True)
class Origin:
    """Where a started server answers, and the CA file to trust for it (None over plain HTTP)."""

    url: str
    ca_cert: Path | None = None


@contextlib.contextmanager
def serve_handler(handler: type[http.server.BaseHTTPRequestHandler], port: int = 0) -> Iterator[Origin]:
    """Serve ``handler`` with ``http.server.ThreadingHTTPServer`` on 127.0.0.1 (``port`` 0: a free one)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Origin(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_tls(app: Any, port: int = 0) -> Iterator[Origin]:
    """Serve the ASGI ``app`` with hypercorn over TLS (h2 and http/1.1 by ALPN) on 127.0.0.1 (0: a free port)."""
    with tempfile.TemporaryDirectory(prefix="reqbisect-tls-") as folder:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        cert_file, key_file, ca_file = (Path(folder) / name for name in ("cert.pem", "key.pem", "ca.pem"))
        cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
        cert.private_key_pem.write_to_path(str(key_file))
        ca.cert_pem.write_to_path(str(ca_file))
        config = Config()
        config.certfile, config.keyfile = str(cert_file), str(key_file)
        config.alpn_protocols = ["h2", "http/1.1"]
        config.accesslog = config.errorlog = None
        port = port or _free_port()
        config.bind = [f"127.0.0.1:{port}"]
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        async def run() -> None:
            await hypercorn_serve(app, config, shutdown_trigger=stop.wait)

        thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
        thread.start()
        try:
            _wait_for_port(port)
            yield Origin(f"https://127.0.0.1:{port}", ca_file)
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


def _free_port() -> int:
    # Read back from a socket bound and closed at once: simpler than handing hypercorn sockets.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_for_port(port: int) -> None:
    for _ in range(500):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise RuntimeError(f"the server on 127.0.0.1:{port} did not start within 5 s")


def is_socket_case(name: str) -> bool:
    """Whether the case is served over real sockets (``server.py``) rather than as an ASGI ``app.py``."""
    return (CASES / name / "server.py").is_file()


def load_case_server(name: str) -> Any:
    """The module ``cases/NAME/server.py``, loaded once."""
    module_name = f"_case_server_{name.replace('-', '_')}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, CASES / name / "server.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


@contextlib.contextmanager
def serve_case(name: str, port: int = 0, latency: float = 0.0) -> Iterator[Origin]:
    """Start the case's ``server.py``: a ``Handler`` over plain HTTP, a ``tls_app`` over TLS.

    ``latency`` seconds are added before each answer (``tests/bench/serve_case.py``).
    """
    module = load_case_server(name)
    if hasattr(module, "Handler"):
        handler = module.Handler
        if latency:
            class Slow(handler):  # type: ignore[misc,valid-type]
                def handle_one_request(self) -> None:
                    time.sleep(latency)
                    super().handle_one_request()
            handler = Slow
        with serve_handler(handler, port) as origin:
            yield origin
    elif hasattr(module, "tls_app"):
        app = module.tls_app

        async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                await asyncio.sleep(latency)
            await app(scope, receive, send)

        with serve_tls(slow if latency else app, port) as origin:
            yield origin
    else:
        raise ValueError(f"cases/{name}/server.py defines neither Handler nor tls_app (see docs/design.md, Cases)")
