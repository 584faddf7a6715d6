"""Errors raised by reqbisect, and the exit codes the command line maps them to.

The hierarchy::

    ReqbisectError              root of everything reqbisect raises on purpose
    ├── InputError              bad input: a file, an option, a patch  (exit 2)
    ├── BaselineError           GOOD is not good / BAD is not bad / equal  (exit 1)
    ├── Inconclusive            budget spent, too many unresolved, or
    │                           verification failed; carries ``.result``  (exit 3)
    └── Interrupted             SIGINT/SIGTERM; carries ``.result``  (exit 130)

Every error formats itself as one line that says which input, where, what was
expected and what was found, so the command line can print it as it is.
"""

from __future__ import annotations

import enum
from typing import Any


class ExitCode(enum.IntEnum):
    """What the command line exits with; each error class names its own."""

    #: The minimal difference was found and re-verified.
    FOUND = 0
    #: The baselines do not reproduce (or a ``send`` got no answer).
    BASELINES = 1
    #: Usage or input error; nothing was sent.
    INPUT = 2
    #: Budget spent, too many unresolved, or verification failed; the best result so far is shown.
    INCONCLUSIVE = 3
    #: Interrupted; the best result so far is shown.
    INTERRUPTED = 130


class ReqbisectError(Exception):
    """Root of the errors reqbisect raises on purpose."""

    exit_code = ExitCode.BASELINES

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        location: str | None = None,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.location = location
        self.expected = expected
        self.got = got
        self.hint = hint

    def format_message(self) -> str:
        """One line: ``source, location: message (expected X, got Y); hint``."""
        where = ", ".join(part for part in (self.source, self.location) if part)
        text = f"{where}: {self.message}" if where else self.message
        if self.expected is not None and self.got is not None:
            text += f" (expected {self.expected}, got {self.got})"
        elif self.expected is not None:
            text += f" (expected {self.expected})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def __str__(self) -> str:
        return self.format_message()


class InputError(ReqbisectError, ValueError):
    """Bad input: a capture, a document, a patch, an option or an expression."""

    exit_code = ExitCode.INPUT


class BaselineError(ReqbisectError):
    """The baselines do not reproduce: GOOD is not good, BAD is not bad, or they are equal."""

    exit_code = ExitCode.BASELINES

    def __init__(self, message: str, *, result: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.result = result


class Inconclusive(ReqbisectError):
    """The search stopped before proving its answer; ``.result`` is the best so far."""

    exit_code = ExitCode.INCONCLUSIVE

    def __init__(self, message: str, *, result: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.result = result


class Interrupted(ReqbisectError):
    """The run was interrupted; ``.result`` is the best so far."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str, *, result: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.result = result
