"""Showing a run's progress on stderr: live on a terminal, a line per phase otherwise, nothing with ``-q``.

The run reports :class:`~reqbisect.phases.Progress` snapshots whenever
something moves (a request reserved or answered, an outcome, a new phase).
On a terminal a ``rich`` live display redraws the latest snapshot four times a
second from a timer, so the clock keeps ticking while nothing is answered (a
slow server, the verification). Without a terminal (a log, CI) each phase
gets one plain line when it starts, so logs stay short. Whatever phase the
run reports is shown by its name; the display knows no list of phases.

"Left" is an estimate, not a promise: the requests a search of the current
difference still needs when one change matters (``log2`` of its size, plus
the verification), at the average pace so far, and never more than the
budget leaves.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.live import Live

    from reqbisect.phases import Progress

__all__ = ["PLAIN_PREFIX", "ProgressDisplay", "describe"]

#: Pointers of the best answer shown before "and N more".
SHOWN = 3
#: How a plain progress line starts (without a terminal), so logs and tests can tell it apart.
PLAIN_PREFIX = "reqbisect: progress: "


def _left(p: Progress) -> int | None:
    """Requests the run may still need (an estimate; see the module docstring)."""
    phase = p.phase.value
    if phase == "conclusion":
        return 0
    verification = 4 + min(p.size, 8)
    if phase in ("baselines", "search"):
        estimate = math.ceil(math.log2(p.size + 1)) + 2 + verification
        if phase == "baselines":
            estimate += 2
    elif phase == "verification":
        estimate = verification
    else:
        return None
    if p.limit is not None:
        estimate = min(estimate, max(0, p.limit - p.requests))
    return estimate


def describe(p: Progress, *, now: float | None = None, noun: str = "request") -> str:
    """One line for a snapshot; ``now`` is the elapsed time to show (the snapshot's own by default)."""
    elapsed = p.elapsed if now is None else now
    budget = f"{p.requests}/{p.limit}" if p.limit is not None else f"{p.requests}/no limit"
    parts = [
        f"{p.phase.value}",
        f"{p.requests} {noun}s sent, {p.in_flight} in flight",
        f"round {p.rounds}",
        f"{p.good} good, {p.bad} bad, {p.unresolved} unresolved",
        f"budget {budget}",
    ]
    if p.best:
        shown = ", ".join(p.best[:SHOWN]) + (f" and {len(p.best) - SHOWN} more" if len(p.best) > SHOWN else "")
        parts.append(f"best: {len(p.best)} of {p.total} changes ({shown})")
    else:
        parts.append(f"difference: {p.size} of {p.total} changes")
    parts.append(f"{elapsed:.1f}s elapsed")
    left = _left(p)
    if left is not None and p.phase.value != "conclusion":
        pace = elapsed / p.requests if p.requests else None
        seconds = f", ~{left * pace:.0f}s" if pace is not None else ""
        parts.append(f"left: ~{left} {noun}s{seconds}")
    return " · ".join(parts)


class ProgressDisplay:
    """The progress callback of a command, and the context that shows it.

    Args:
        quiet: show nothing (``-q``).
        noun: what is counted ("request", or "test run" for ``reqbisect json``).
        stream: where plain lines go (stderr).
        live: force the live display on or off (default: when ``stream`` is a terminal).
    """

    def __init__(
        self, *, quiet: bool = False, noun: str = "request", stream: TextIO | None = None, live: bool | None = None
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        self._noun = noun
        self._latest: Progress | None = None
        self._at = time.monotonic()
        self._phase: str | None = None
        self._live: Live | None = None
        if not quiet and (live if live is not None else self._stream.isatty()):
            from rich.console import Console
            from rich.live import Live
            from rich.text import Text

            def render() -> Text:
                return Text(self._line())

            self._live = Live(
                get_renderable=render, console=Console(file=self._stream), auto_refresh=True,
                refresh_per_second=4, transient=True,
            )

    @property
    def callback(self) -> Callable[[Progress], None] | None:
        """What to pass as ``progress=``; None when nothing is shown."""
        return None if self._quiet else self.update

    def update(self, p: Progress) -> None:
        self._latest, self._at = p, time.monotonic()
        if self._live is None and p.phase.value != self._phase:
            self._phase = p.phase.value
            if p.phase.value != "conclusion":
                print(f"{PLAIN_PREFIX}{describe(p, noun=self._noun)}", file=self._stream, flush=True)

    def _line(self) -> str:
        p = self._latest
        if p is None:
            return "starting"
        # The snapshot's time plus what passed since: the clock ticks between events.
        return describe(p, now=p.elapsed + time.monotonic() - self._at, noun=self._noun)

    def __enter__(self) -> ProgressDisplay:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()
