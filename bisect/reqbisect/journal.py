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

For ``reqbisect log`` a line also says what the request was, without its
values: ``changes`` lists the changes the document applied to the run's base
request as ``kind pointer`` (JSON Pointers are paths: names, never values),
``t`` is when it was answered (Unix time) and ``elapsed`` how long the answer
took. Journals written before these keys existed still resume; ``log`` then
says the changes were not recorded.

A journal that cannot be written during a run (a full disk) does not end the
run: the write that failed and every later one are skipped, and a
:class:`JournalWarning` says which file and why (the command turns it into
exit 2 after printing the result).
"""

from __future__ import annotations

import enum
import json
import os
import stat
import time
import warnings
from collections.abc import Callable
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

__all__ = [
    "Entry", "Fetch", "changes_from", "Journal", "JournalWarning", "Replay", "Role", "check_journal_file", "read_journal", "read_lines",
]

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
    #: ``kind pointer`` of each change the document applied to the base request (None: not recorded).
    changes: tuple[str, ...] | None = None
    #: When the answer came (Unix time), and how long it took (seconds).
    t: float | None = None
    elapsed: float | None = None


class JournalWarning(UserWarning):
    """The journal could not be written; the run went on without it."""


#: What a journal line says about the changes a document applied (see the module docstring).
Describe = Callable[[Any], tuple[str, ...]]


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

    def __init__(self, path: Path, *, run: dict[str, Any], describe: Describe | None = None) -> None:
        self.path = path
        self._describe = describe
        #: Why writing failed (None while it works).
        self.failure: str | None = None
        _drop_torn_line(path)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = anyio.Lock()
        if self._file.tell() == 0:
            self._write({"format": FORMAT, **run, "started": round(time.time(), 3)})

    async def record(self, entry: Entry, *, document: Any = None) -> None:
        """Append ``entry`` durably; in order, and off the event loop.

        ``document`` is the request before sending; the journal keeps only the
        pointers of the changes it applied (see the module docstring).
        """
        line: dict[str, Any] = {
            "key": entry.key,
            "outcome": entry.outcome.value,
            "status": entry.status,
            "signature": entry.signature,
            "role": entry.role.value,
            "t": round(time.time(), 3),
        }
        if entry.elapsed is not None:
            line["elapsed"] = round(entry.elapsed, 3)
        describe = self._describe if document is not None else None

        def write() -> None:
            if describe is not None:
                line["changes"] = list(describe(document))  # diffing costs time: off the loop too
            self._write(line)

        async with self._lock:
            if self.failure is not None:
                return
            try:
                # Not abandoned on cancellation: a line is either whole or not begun.
                await anyio.to_thread.run_sync(write)
            except OSError as exc:
                self.failure = f"cannot write the journal {str(self.path)!r}: {exc.strerror or exc}"
                warnings.warn(self.failure, JournalWarning, stacklevel=2)

    def _write(self, line: dict[str, Any]) -> None:
        self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:  # a flush that failed already said so
            pass


def changes_from(base: Any) -> Describe:
    """How a journal names what a document applied to ``base``: ``kind pointer`` per top-level change."""
    from reqbisect.diff import diff

    def describe(document: Any) -> tuple[str, ...]:
        return tuple(f"{c.kind} {c.pointer or '/'}" for c in diff(base, document).changes if c.parent is None)

    return describe


def _drop_torn_line(path: Path) -> None:
    """Cut a last line that a crash left without its newline, so appends stay whole."""
    try:
        with path.open("rb+") as file:
            data = file.read()
            if data and not data.endswith(b"\n"):
                file.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        pass


def check_journal_file(path: Path) -> None:
    """A ``--journal`` path must be new, empty, or a reqbisect journal in a regular file.

    Raises:
        InputError: the path holds something else (it would be appended to).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot use the journal: {exc.strerror}", source="--journal") from None
    if not stat.S_ISREG(mode):
        raise InputError(
            f"{str(path)!r} is not a regular file", source="--journal",
            hint="a journal is read back by --resume: give a file name",
        )
    try:
        with path.open("rb") as file:
            first = file.readline(4096)
    except OSError as exc:
        raise InputError(f"cannot read the journal: {exc.strerror}", source="--journal") from None
    if not first.strip():
        return
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError(
            f"{str(path)!r} exists and is not a reqbisect journal; appending would corrupt it",
            source="--journal", hint="choose a new file name (or an existing journal to add to)",
        )


def read_lines(path: Path) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """The header and the (line number, entry) pairs of a journal, a torn last line ignored.

    Raises:
        InputError: the file cannot be read or is not a journal.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the journal: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a reqbisect journal (not UTF-8 text)", source=str(path)) from None
    lines = text.split("\n")
    if lines and lines[-1] and not text.endswith("\n"):
        lines = lines[:-1]
    header: dict[str, Any] | None = None
    entries: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not a journal line: {exc.msg}", source=str(path), location=f"line {number}") from None
        if header is None:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise InputError("not a reqbisect journal", source=str(path), location=f"line {number}")
            header = data
        elif not isinstance(data, dict):
            raise InputError("malformed journal entry", source=str(path), location=f"line {number}")
        else:
            entries.append((number, data))
    if header is None:
        raise InputError("not a reqbisect journal (it is empty)", source=str(path))
    return header, entries


def read_journal(path: Path, *, run: dict[str, Any]) -> dict[str, Entry]:
    """The entries of a journal written for the same ``run``.

    Raises:
        InputError: the file is missing, is not a journal, or belongs to another run.
    """
    header, lines = read_lines(path)
    mismatch = [k for k, v in run.items() if header.get(k) != v]
    if mismatch:
        raise InputError(
            f"the journal belongs to another run (different {', '.join(mismatch)})",
            source=str(path),
            hint="resume with the same GOOD, BAD, --mode and --good-if/--bad-if (or oracle)",
        )
    entries: dict[str, Entry] = {}
    for number, data in lines:
        try:
            changes = data.get("changes")
            entries[data["key"]] = Entry(
                key=data["key"],
                outcome=Outcome(data["outcome"]),
                status=data.get("status"),
                signature=data.get("signature", ""),
                role=Role(data.get("role", "candidate")),
                changes=tuple(changes) if isinstance(changes, list) else None,
                t=data.get("t"),
                elapsed=data.get("elapsed"),
            )
        except (KeyError, ValueError, TypeError):
            raise InputError("malformed journal entry", source=str(path), location=f"line {number}") from None
    return entries
