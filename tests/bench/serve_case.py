"""Serve a case's app on 127.0.0.1 with added latency: python serve_case.py CASE PORT LATENCY_MS."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parents[2]


def load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"case_{name}", ROOT / "cases" / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def main() -> None:
    name, port, latency = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000
    app = load(name)

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(latency)
        await app(scope, receive, send)

    uvicorn.run(slow, host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="off")


if __name__ == "__main__":
    main()
