"""Output files of a command: checked and opened before anything is sent, written safely after.

Rules (docs/design.md, "Safety"):

* An output (``-o``, ``--report``, ``--journal``, ...) is never one of the inputs:
  the same path, a symlink to it, or a hard link to it (same device and inode)
  is refused with exit 2 before anything is sent. Two outputs are never the
  same file either.
* A ``--journal`` that exists must be a reqbisect journal (it is appended to,
  and ``--resume`` reads it back), and a regular file.
* Every output is *really* opened before the first request: a new file is
  created empty in its directory (and removed again if the run ends without
  writing it); an existing file is opened for appending, which truncates
  nothing. So a path that cannot be written is an input error, not a surprise
  after a hundred requests.
* An existing regular file is replaced only once its new content is complete:
  the text goes to a temporary file beside it, which then takes its place
  (``os.replace``, atomic on POSIX). A failed write therefore never leaves a
  half-written patch where a good file was. A symlinked output replaces the
  file the link points to; a hard-linked one gets a new inode (the other
  names keep the old content). A device or pipe (``/dev/stdout``, ``/dev/full``)
  is written in place.
* A write that fails after the run raises :class:`OutputError` naming the file
  and the reason; the command has printed the result on stdout by then.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reqbisect.errors import InputError

__all__ = ["OutputError", "Outputs", "check_outputs", "input_path"]


class OutputError(InputError):
    """An output file could not be written after the run (exit 2); the result went to stdout."""


def input_path(argument: str) -> str | None:
    """The file behind a request argument (``capture.har#7`` is ``capture.har``); None for stdin."""
    path = argument.partition("#")[0] if not os.path.exists(argument) else argument
    return None if path in ("", "-") else path


def _same_file(a: str, b: str) -> bool:
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


@dataclass(slots=True)
class _Output:
    option: str
    path: str
    #: Created empty by the check; removed again if it is never written.
    created: bool = False
    written: bool = False


class Outputs:
    """The output files of one command, checked and opened (see the module docstring)."""

    def __init__(self, outputs: list[_Output]) -> None:
        self._outputs = {output.option: output for output in outputs}

    def write(self, option: str, text: str) -> None:
        """Write ``text`` to the file of ``option`` (nothing when it was not given).

        Raises:
            OutputError: the write failed; which file and why.
        """
        output = self._outputs.get(option)
        if output is None:
            return
        data = text.encode("utf-8", "surrogateescape")
        try:
            _write(output.path, data)
        except OSError as exc:
            raise OutputError(
                f"cannot write the file: {exc.strerror or exc}", source=f"{option} {output.path}",
                hint="the result was printed on standard output",
            ) from None
        output.written = True

    def discard_unwritten(self) -> None:
        """Remove the empty files the check created for outputs that were never written."""
        for output in self._outputs.values():
            if output.created and not output.written:
                try:
                    if os.path.getsize(output.path) == 0:
                        os.unlink(output.path)
                except OSError:
                    pass


def _write(path: str, data: bytes) -> None:
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(real, "wb") as file:  # a device or a pipe: in place
            file.write(data)
        return
    directory = os.path.dirname(real) or "."
    fd, temporary = tempfile.mkstemp(prefix=".reqbisect-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, stat.S_IMODE(mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, real)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def check_outputs(
    outputs: dict[str, str | None], *, inputs: dict[str, str], journal: str | None = None
) -> Outputs:
    """Check and open every output before anything is sent.

    Args:
        outputs: option name -> path (None: not given), for files written after the run.
        inputs: what each input is called (``GOOD``) -> its argument.
        journal: the ``--journal`` path, appended to during the run.

    Raises:
        InputError: an output is an input, two outputs are one file, a journal
            path holds something else, or a path cannot be opened for writing.
    """
    from reqbisect.journal import check_journal_file

    given = {option: path for option, path in outputs.items() if path is not None}
    if journal is not None:
        given["--journal"] = journal
    seen: dict[str, str] = {}
    for option, path in given.items():
        for name, argument in inputs.items():
            source = input_path(argument)
            if source is not None and _same_file(path, source):
                raise InputError(
                    f"{path!r} is {name} ({argument}); writing it would destroy the input",
                    source=option, hint="choose another file name",
                )
        for other, other_path in seen.items():
            if _same_file(path, other_path):
                raise InputError(f"{path!r} is also the file of {other}", source=option, hint="give each output its own file")
        seen[option] = path
    if journal is not None:
        check_journal_file(Path(journal))
    opened = [_open(option, path) for option, path in given.items() if option != "--journal"]
    if journal is not None:
        _open("--journal", journal)
    return Outputs(opened)


def _open(option: str, path: str) -> _Output:
    """Really open ``path`` for writing without truncating anything."""
    existed = os.path.lexists(path)
    if os.path.isdir(path):
        raise InputError(f"{path!r} is a directory", source=option, expected="a file name")
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise InputError(
            f"cannot open {path!r} for writing: {exc.strerror or exc}", source=option,
            hint="choose a writable place; nothing was sent",
        ) from None
    return _Output(option, path, created=not existed)
