"""The options of a run, validated once, for the command line and the library alike.

:class:`RunOptions` holds every setting that is a plain value (numbers, names,
paths); objects that act (an oracle, a client, an app, a hook, a stop event, a
progress callback, a clock) are passed beside it. Constructing one checks every
value, so an impossible setting is an :class:`~reqbisect.errors.InputError`
(exit 2) before anything is sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from reqbisect.errors import InputError
from reqbisect.mode import Mode
from reqbisect.reading import DEFAULT_MAX_BODY

__all__ = ["RunOptions"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How one run searches, sends and stops (see ``reqbisect.abisect`` for each field)."""

    mode: Mode = Mode.FIX
    target: str | None = None
    concurrency: int = 8
    max_requests: int | None = None
    max_time: float | None = None
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    rate: float | None = None
    repeat: int = 1
    #: Sends of each baseline, all of which must agree; None: ``repeat`` sends, decided by
    #: majority, and more only when they contradict each other (docs/design.md, "Verification").
    baseline_repeats: int | None = None
    follow_redirects: bool = False
    ignore: tuple[str, ...] = field(default=())
    journal: Path | None = None
    resume: Path | None = None
    #: A PEM file of certificate authorities to trust for TLS (``--cacert``), besides none else.
    ca_cert: Path | None = None
    max_body: int = DEFAULT_MAX_BODY
    #: Statuses retried like a transport error (``--retry-on``); 429 and 503 always are.
    retry_on: frozenset[int] = frozenset({429, 503})
    #: After the answer is verified, take away what the minimal good and bad requests share.
    shrink: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", Mode.of(self.mode))
        object.__setattr__(self, "ignore", tuple(self.ignore))
        object.__setattr__(self, "retry_on", frozenset(self.retry_on) | {429, 503})
        for status in self.retry_on:
            if not 100 <= status <= 599:
                raise InputError("not an HTTP status", source="--retry-on", got=str(status), expected="100..599")
        for name in ("journal", "resume"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        for option, value, least in (
            ("--concurrency", self.concurrency, 1),
            ("--repeat", self.repeat, 1),
            ("--baseline-repeats", 1 if self.baseline_repeats is None else self.baseline_repeats, 1),
            ("--retries", self.retries, 0),
        ):
            if value < least:
                raise InputError(f"must be at least {least}", source=option, got=str(value))
        for option, number in (("--rate", self.rate), ("--max-time", self.max_time)):
            if number is not None and not (math.isfinite(number) and number > 0):
                raise InputError("must be a finite number above zero", source=option, got=str(number))
        if isinstance(self.max_body, bool) or not isinstance(self.max_body, int) or self.max_body < 0:
            raise InputError("must be a whole number of bytes, zero or more", source="--max-body",
                             got=repr(self.max_body))
        if not self.timeout > 0:  # infinity is allowed: no deadline (a library caller's choice)
            raise InputError("must be above zero", source="--timeout", got=str(self.timeout))
        if not (math.isfinite(self.backoff) and self.backoff >= 0):
            raise InputError("must be a finite number, zero or more", source="backoff", got=str(self.backoff))
        if self.max_requests is not None and self.max_requests < self.baseline_sends:
            raise InputError(
                f"must be at least {self.baseline_sends} (the baselines)",
                source="--max-requests", got=str(self.max_requests),
            )

    @property
    def baseline_sends(self) -> int:
        """Requests the baselines take at least: GOOD and BAD, each ``baseline_repeats`` (or ``repeat``) times."""
        return 2 * (self.repeat if self.baseline_repeats is None else self.baseline_repeats)
