"""Serve a case's app on 127.0.0.1 with added latency: python serve_case.py CASE PORT LATENCY_MS.

A case served over real sockets (its ``server.py``, docs/design.md "Cases") is started
as the tests start it (``tests/servers.py``); its origin, and the CA file to pass as
``--cacert`` when it speaks TLS, are printed, and it serves until interrupted.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    name, port, latency = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000
    sys.path.insert(0, str(ROOT))
    if (ROOT / "cases" / name / "server.py").is_file():
        from tests.servers import serve_case

        with serve_case(name, port, latency) as origin:
            print(origin.url, *([f"--cacert {origin.ca_cert}"] if origin.ca_cert else []), flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
        return
    from tests.conftest import load_case_app

    app = load_case_app(name)

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(latency)
        await app(scope, receive, send)

    uvicorn.run(slow, host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
