"""The journal: every answered request, one JSON line each, durable across crashes.

A line is written and fsynced as soon as an outcome is known, so a run killed at
any moment (even with SIGKILL) leaves a journal whose complete lines are all
valid; a torn last line is ignored when reading. ``--resume`` replays the
journal: :class:`Replay` stands in front of the sender and answers a request
whose key is in the journal with its recorded outcome, so it is not sent again.
Writes run in a worker thread, one at a time and in order, so that an fsync
never blocks the event loop.

Lines hold no secret values: a request is named by the SHA-256 of its wire form
(``key``), a response by its status and a hash of its masked signature. The
first line identifies the run (mode, oracle and the hashes of the two
documents) so that a journal is never replayed against other inputs.
"""

from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import anyio
import anyio.to_thread

from reqbisect.errors import InputError
from reqbisect.oracle import Recorded, Reply
from reqbisect.outcome import Outcome
from reqbisect.reading import BodyPolicy, read_all
from reqbisect.wire import WireRequest

__all__ = ["Entry", "Fetch", "Journal", "Replay", "Role", "read_journal"]

FORMAT = "reqbisect-journal/1"


class Role(str, enum.Enum):
    """Why a request was sent."""

    BASELINE_GOOD = "baseline-good"
    BASELINE_BAD = "baseline-bad"
    CANDIDATE = "candidate"
    #: Sent again on purpose at the end, to confirm the answer.
    VERIFY = "verify"

    def __repr__(self) -> str:
        return f"Role.{self.name}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One answered request."""

    key: str
    outcome: Outcome
    status: int | None
    signature: str
    role: Role = Role.CANDIDATE


class Fetch(Protocol):
    """What sends a wire request (the Sender)."""

    async def fetch(self, wire: WireRequest, *, fresh: bool = False, reads_body: BodyPolicy = read_all) -> Reply: ...


class Replay:
    """Answers what a journal holds; everything else goes to ``fetch``.

    A replayed reply carries its recorded outcome and signature digest
    (:class:`~reqbisect.oracle.Recorded`); oracles are not asked again.
    """

    def __init__(self, sender: Fetch, entries: dict[str, Entry]) -> None:
        self._sender = sender
        self._entries = entries

    async def fetch(
        self, wire: WireRequest, *, key: str, fresh: bool = False, reads_body: BodyPolicy = read_all
    ) -> Reply:
        """The journal's answer for ``key`` (the wire's hash and which send of it this is), or a fresh one."""
        entry = self._entries.get(key)
        if entry is None:
            return await self._sender.fetch(wire, fresh=fresh, reads_body=reads_body)
        return Reply(status=entry.status, recorded=Recorded(entry.outcome, entry.signature))


class Journal:
    """Append entries to a file, one fsynced JSON line each."""

    def __init__(self, path: Path, *, run: dict[str, Any]) -> None:
        self.path = path
        _drop_torn_line(path)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = anyio.Lock()
        if self._file.tell() == 0:
            self._write({"format": FORMAT, **run})

    async def record(self, entry: Entry) -> None:
        """Append ``entry`` durably; in order, and off the event loop."""
        line = {
            "key": entry.key,
            "outcome": entry.outcome.value,
            "status": entry.status,
            "signature": entry.signature,
            "role": entry.role.value,
        }
        async with self._lock:
            # Not abandoned on cancellation: a line is either whole or not begun.
            await anyio.to_thread.run_sync(self._write, line)

    def _write(self, line: dict[str, Any]) -> None:
        self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def _drop_torn_line(path: Path) -> None:
    """Cut a last line that a crash left without its newline, so appends stay whole."""
    try:
        with path.open("rb+") as file:
            data = file.read()
            if data and not data.endswith(b"\n"):
                file.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        pass


def read_journal(path: Path, *, run: dict[str, Any]) -> dict[str, Entry]:
    """The entries of a journal written for the same ``run``.

    Raises:
        InputError: the file is missing, is not a journal, or belongs to another run.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the journal: {exc.strerror}", source=str(path)) from None
    lines = text.split("\n")
    if lines and lines[-1] and not text.endswith("\n"):
        lines = lines[:-1]
    entries: dict[str, Entry] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a journal line: {exc.msg}", source=str(path), location=f"line {number}") from None
        if number == 1:
            if data.get("format") != FORMAT:
                raise InputError("not a reqbisect journal", source=str(path), location="line 1")
            mismatch = [k for k, v in run.items() if data.get(k) != v]
            if mismatch:
                raise InputError(
                    f"the journal belongs to another run (different {', '.join(mismatch)})",
                    source=str(path),
                    hint="resume with the same GOOD, BAD, --mode and --good-if/--bad-if (or oracle)",
                )
            continue
        try:
            entries[data["key"]] = Entry(
                key=data["key"],
                outcome=Outcome(data["outcome"]),
                status=data.get("status"),
                signature=data.get("signature", ""),
                role=Role(data.get("role", "candidate")),
            )
        except (KeyError, ValueError, TypeError):
            raise InputError("malformed journal entry", source=str(path), location=f"line {number}") from None
    return entries
