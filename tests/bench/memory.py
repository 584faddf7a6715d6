"""Peak memory of a run against huge answers: a 200 MB body and a gzip bomb.

    python tests/bench/memory.py [--max-body 1MiB] [--source DIR]

A loopback uvicorn server (its own process) answers ``GET /big`` with 200 MB
(``Content-Length``, sent in 1 MiB pieces) and ``GET /bomb`` with about 1 MB of
gzip that inflates to 1 GiB of zeros; GOOD (``x-mode: good``) gets 200, BAD gets
an error of the same size. Each run is ``python -m reqbisect run`` under
``/usr/bin/time -v``, so the peak resident set size is the client's own; the
table shows it next to the exit code (0: found and verified) and the patch. A
run must stay under 200 MB. ``--source`` runs the reqbisect found in another
``bisect/`` folder (e.g. an older checkout, to compare).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from cases import free_port, wait_until_up  # the sibling benchmark (this folder is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
MB = 1000 * 1000
MiB = 1 << 20
BIG = 200 * MB
INFLATED = 1 << 30
LIMIT_MB = 200


def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzipped (about 1 MB), built piece by piece."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MiB)
    parts = [squeeze.compress(zeros) for _ in range(INFLATED // MiB)]
    return b"".join(parts) + squeeze.flush()


def serve(port: int) -> None:
    import uvicorn

    bomb = gzip_bomb()
    piece = b"x" * MiB

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        good = (b"x-mode", b"good") in scope["headers"]
        if scope["path"] not in ("/big", "/bomb"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["path"] == "/bomb":
            headers = [(b"content-encoding", b"gzip"), (b"content-length", str(len(bomb)).encode())]
            await send({"type": "http.response.start", "status": 200 if good else 400, "headers": headers})
            await send({"type": "http.response.body", "body": bomb})
            return
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(BIG).encode())]
        await send({"type": "http.response.start", "status": 200 if good else 500, "headers": headers})
        left = BIG
        while left > 0:
            chunk = piece[: min(left, MiB)]
            await send({"type": "http.response.body", "body": chunk, "more_body": left > len(chunk)})
            left -= len(chunk)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False, lifespan="off")


def documents(url: str, folder: Path) -> tuple[Path, Path]:
    paths = []
    for mode, value in (("good", "1"), ("bad", "2")):
        doc = {"method": "GET", "url": url, "headers": {"x-mode": mode, "x-a": value, "x-b": value, "x-c": value}}
        path = folder / f"{mode}-{abs(hash(url))}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def measure(url: str, folder: Path, source: Path, max_body: str) -> tuple[int, float, float, str]:
    """(exit code, peak RSS in MB, wall seconds, patch) of one run under /usr/bin/time -v."""
    good, bad = documents(url, folder)
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "reqbisect", "run", str(good), str(bad), "-q", "--timeout", "120"]
    if max_body:
        command += ["--max-body", max_body]
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, env=env, cwd=folder)
    wall = time.perf_counter() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    rss = int(peak.group(1)) * 1024 / MB if peak else float("nan")
    try:
        patch = " ".join(f"{op['op']} {op['path']}" for op in json.loads(done.stdout))
    except ValueError:
        patch = done.stderr.strip().splitlines()[0] if done.stderr.strip() else "(nothing)"
    return done.returncode, rss, wall, patch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-body", default="", help="Pass --max-body SIZE to each run (default: its default).")
    parser.add_argument("--source", type=Path, default=ROOT / "bisect", help="The bisect/ folder to run.")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/up", timeout=120)  # building the bomb takes a few seconds
        folder = Path(tempfile.mkdtemp(prefix="reqbisect-memory-"))
        header = f"{'answer':<34}{'exit':>5}{'peak RSS MB':>13}{'wall s':>8}  {'under ' + str(LIMIT_MB) + ' MB':<13}patch"
        print(f"reqbisect from {args.source}")
        print(header)
        print("-" * len(header))
        for name, path in (("200 MB body (Content-Length)", "/big"), ("gzip bomb: 1 MB -> 1 GiB", "/bomb")):
            code, rss, wall, patch = measure(base + path, folder, args.source, args.max_body)
            print(f"{name:<34}{code:>5}{rss:>13.1f}{wall:>8.2f}  {str(rss < LIMIT_MB):<13}{patch}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
