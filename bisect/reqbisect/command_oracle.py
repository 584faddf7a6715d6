"""Commands as judges, in the manner of ``git bisect run``.

Two seams take a command line instead of a Python callable:

* :class:`CommandOracle` judges a response (``reqbisect run --oracle-cmd CMD``). The
  reply goes to the command's stdin as one JSON object: ``status``, ``headers`` (names
  lower-cased, repeated headers joined with ``", "``), ``text``, ``json`` (the parsed
  body or ``null``), ``elapsed`` (seconds), ``error`` (a transport error, or ``null``)
  and ``request`` (the candidate request document).
* :class:`CommandTest` judges a document, with no HTTP at all (``reqbisect json A B
  --test CMD``). Each ``{}`` in the command is replaced by the path of a file holding
  the candidate document; without ``{}`` the document goes to stdin.

The exit status is the verdict, as for ``git bisect run``: 0 is good; 1 to 127 except
125 is bad; 125 is unresolved ("cannot test this one"). Anything else (killed by a
signal, a status above 127, a command that cannot be started, a timeout) is unresolved
too. Commands run through the shell, with ``anyio.run_process``-style plumbing that
never blocks the event loop; several run at once under the run's concurrency. Each
command runs in a session of its own, so that when its candidate is withdrawn (a
speculative check the search no longer needs) or times out, the command and every
process it started are killed. Their stdout is discarded; their stderr is read and
dropped, so a chatty command cannot stall on a full pipe.

Beyond refusing a program that does not exist (:func:`check_command`), nothing here
second-guesses a command: one that exits 1 for every input makes GOOD bad, and the
run stops at the baselines.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
import anyio.abc
import anyio.to_thread

from reqbisect._types import Document, JSONValue
from reqbisect.errors import InputError
from reqbisect.oracle import Reply
from reqbisect.outcome import Outcome

__all__ = ["CommandOracle", "CommandTest", "Tally", "check_command", "outcome_of_exit", "reply_to_stdin"]

#: Exit status meaning "this candidate cannot be tested" (``git bisect run``'s 125).
SKIP = 125

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PLAIN_WORD = re.compile(r"[\w./+~-]+")
# Words a POSIX shell understands without a program of that name on PATH.
_SHELL_WORDS = frozenset(
    "! { ( [ [[ . : alias case cd command eval exec exit export false for if "
    "printf read set shift source test time true trap type ulimit umask unset until wait while".split()
)


def outcome_of_exit(status: int | None) -> Outcome:
    """The verdict for a command's exit status (``git bisect run`` conventions).

    Args:
        status: the exit status; negative when killed by a signal; ``None`` when the
            command never finished.

    Returns:
        GOOD for 0, BAD for 1..124 and 126..127, UNRESOLVED for anything else.
    """
    if status == 0:
        return Outcome.GOOD
    if status is not None and 1 <= status <= 127 and status != SKIP:
        return Outcome.BAD
    return Outcome.UNRESOLVED


def check_command(command: str, *, option: str) -> None:
    """Refuse a command line whose program does not exist, before anything runs.

    A missing program would make the shell exit 127, which counts as bad: GOOD
    would be judged bad and the run would stop blaming the baselines.

    Raises:
        InputError: the command is empty, or its program is not on PATH and is not
            a shell builtin.
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return  # quoting only the shell can judge
    while words and _ASSIGNMENT.match(words[0]):
        words.pop(0)
    if not words:
        raise InputError("the command is empty", source=option, expected="a command line, e.g. './check.sh {}'")
    if not _PLAIN_WORD.fullmatch(words[0]):
        return  # a subshell, a redirection or the like: the shell's business
    program = words[0]
    if program in _SHELL_WORDS or shutil.which(program) is not None:
        return
    if os.sep in program or (os.altsep and os.altsep in program):
        path = Path(program).expanduser()
        if path.is_file():
            if os.access(path, os.X_OK):
                return
            raise InputError(f"{program} is not executable", source=option, hint=f"chmod +x {program}")
    raise InputError(f"command not found: {program!r}", source=option, hint="check PATH, or give the program's path")


def reply_to_stdin(reply: Reply, document: Document) -> bytes:
    """The JSON object a :class:`CommandOracle` writes to its command's stdin."""
    headers: dict[str, str] = {}
    for name, value in reply.headers:
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    payload = {
        "status": reply.status,
        "headers": headers,
        "text": reply.text,
        "json": reply.json,
        "elapsed": reply.elapsed,
        "error": reply.error,
        "request": document,
    }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


class Tally:
    """How many runs of a command timed out: a slow test is reported as "timed out", not just unresolved."""

    __slots__ = ("timed_out",)

    def __init__(self) -> None:
        self.timed_out = 0


async def _run(
    command: str, *, stdin: bytes | None, timeout: float | None, tally: Tally | None = None
) -> int | None:
    """Run ``command`` through the shell; its exit status, or None if it timed out or would not start."""
    try:
        # Shielded: a cancellation while spawning would leave a process nobody kills or waits for.
        with anyio.CancelScope(shield=True):
            process = await anyio.open_process(
                command,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=os.name == "posix",
            )
    except OSError:
        return None
    with anyio.move_on_after(timeout):
        async with process:
            try:
                async with anyio.create_task_group() as tg:
                    if process.stderr is not None:
                        tg.start_soon(_drain, process.stderr)
                    if process.stdin is not None:
                        tg.start_soon(_feed, process.stdin, stdin or b"")
                    await process.wait()
            except anyio.get_cancelled_exc_class():
                _kill(process)
                raise
            return process.returncode
    if tally is not None:
        tally.timed_out += 1
    return None


async def _drain(stream: anyio.abc.ByteReceiveStream) -> None:
    async for _ in stream:
        pass


async def _feed(stream: anyio.abc.ByteSendStream, data: bytes) -> None:
    try:
        await stream.send(data)
        await stream.aclose()
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass  # the command exited without reading all of its input; its status decides


def _kill(process: anyio.abc.Process) -> None:
    """Kill the command and everything it started (its session's process group)."""
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass


@dataclass(frozen=True, slots=True)
class CommandOracle:
    """Judge each reply with a shell command; the reply arrives as JSON on its stdin.

    Args:
        command: a shell command line; exit 0 is good, 1..127 except 125 bad,
            125 and anything else unresolved.
        timeout: seconds a command may run; a command still running then is
            killed and its candidate is unresolved. None: no limit.

    Example::

        reqbisect.bisect(good, bad, app=app, oracle=CommandOracle("python3 check.py"))
    """

    command: str
    timeout: float | None = None
    #: Runs that timed out (not part of the oracle's identity).
    tally: Tally = field(default_factory=Tally, repr=False, compare=False)

    async def __call__(self, reply: Reply, document: Document) -> Outcome:
        status = await _run(self.command, stdin=reply_to_stdin(reply, document), timeout=self.timeout, tally=self.tally)
        return outcome_of_exit(status)


def _plain(value: JSONValue) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class CommandTest:
    """Judge each candidate document with a shell command, for :func:`~reqbisect.abisect_documents`.

    Each ``{}`` in ``command`` is replaced by the path of a file holding the
    candidate (shell-quoted), named ``name`` in a fresh directory of its own (so
    a tool that insists on a file name gets it, and concurrent runs never share
    a file), removed once the command has finished. Without ``{}`` the
    candidate goes to stdin.

    Args:
        command: a shell command line; exit statuses as for :class:`CommandOracle`.
        directory: where the fresh directories go; None: the system's temporary directory.
        name: the candidate file's name, e.g. the input file's.
        dump: serialises a candidate; by default ``json.dumps`` with non-ASCII kept.
        timeout: seconds a command may run before its candidate is unresolved.
    """

    command: str
    directory: Path | None = None
    name: str = "candidate.json"
    dump: Callable[[JSONValue], str] = _plain
    timeout: float | None = None
    #: Runs that timed out.
    tally: Tally = field(default_factory=Tally, repr=False, compare=False)

    @property
    def uses_file(self) -> bool:
        """Whether the command names the candidate's file (``{}``) instead of reading stdin."""
        return "{}" in self.command

    async def __call__(self, document: JSONValue) -> Outcome:
        text = self.dump(document).encode("utf-8")
        if not self.uses_file:
            return outcome_of_exit(await _run(self.command, stdin=text, timeout=self.timeout, tally=self.tally))
        with anyio.CancelScope(shield=True):  # a directory made, then abandoned, would never be removed
            made = await anyio.to_thread.run_sync(partial(tempfile.mkdtemp, prefix="candidate-", dir=self.directory))
        folder = anyio.Path(made)
        path = folder / self.name
        try:
            await path.write_bytes(text)
            command = self.command.replace("{}", shlex.quote(str(path)))
            return outcome_of_exit(await _run(command, stdin=None, timeout=self.timeout, tally=self.tally))
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(partial(shutil.rmtree, folder, ignore_errors=True))
