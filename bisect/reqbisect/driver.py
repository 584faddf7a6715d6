"""The loop between the pure search core and the requests it asks for.

The core (``reqbisect.search``) proposes candidates and consumes outcomes; it
never waits. :func:`drive` is the only place that does: it keeps up to
``concurrency`` candidates in flight in one task group, feeds each outcome back
as it arrives (the core decides in proposal order, so arrival order never
changes the answer), and ends cleanly on completion, a stop request or a
deadline. :func:`unless_stopped` runs other work under the same stop request,
:func:`first_error` reports a failure from inside task groups as itself, and
:func:`synchronous` turns an ``async`` entry point into its blocking twin.
"""

from __future__ import annotations

import enum
import math
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Optional, ParamSpec, TypeVar

import anyio

from reqbisect.outcome import Outcome
from reqbisect.search import Candidate, Search, State

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup

__all__ = ["Halt", "drive", "first_error", "synchronous", "unless_stopped"]

P = ParamSpec("P")
T = TypeVar("T")


class Halt(str, enum.Enum):
    """Why :func:`drive` stopped before the search was done."""

    #: ``stop`` was set (Ctrl-C, SIGTERM, or the caller's event).
    STOPPED = "stopped"
    #: ``deadline`` seconds passed (``--max-time``).
    DEADLINE = "deadline"


async def drive(
    search: Search,
    evaluate: Callable[[Candidate], Awaitable[Outcome]],
    *,
    concurrency: int,
    on_outcome: Callable[[Candidate, Outcome], None] | None = None,
    stop: anyio.Event | None = None,
    grace: float = 0.0,
    deadline: float | None = None,
    allowed: Callable[[int], int] | None = None,
) -> Halt | None:
    """Propose, send, feed, until the search is done. One task group, no leaks.

    A request on the wire is never withdrawn while the search runs, since
    its answer often serves a later branch; when the search ends or ``stop``
    is set, those in flight get ``grace`` seconds to finish. ``allowed``
    lowers the number in flight while a server signals overload. Returns None
    when the search ended, else why it stopped.
    """
    send_stream, receive_stream = anyio.create_memory_object_stream[Optional[tuple[Candidate, Outcome]]](math.inf)
    scopes: dict[int, anyio.CancelScope] = {}
    halted: Halt | None = None

    async def run(candidate: Candidate, scope: anyio.CancelScope) -> None:
        with scope:
            outcome = await evaluate(candidate)
            await send_stream.send((candidate, outcome))

    async def watch(event: anyio.Event) -> None:
        await event.wait()
        await send_stream.send(None)

    def feed(item: tuple[Candidate, Outcome]) -> None:
        candidate, outcome = item
        if scopes.pop(candidate.rank, None) is None:
            return
        search.feed(candidate, outcome)
        if on_outcome is not None:
            on_outcome(candidate, outcome)

    async with send_stream, receive_stream, anyio.create_task_group() as tg:
        if stop is not None:
            tg.start_soon(watch, stop)
        with anyio.move_on_after(math.inf if deadline is None else deadline) as timer:
            while search.state is State.WAITING:
                limit = concurrency if allowed is None else min(concurrency, allowed(concurrency))
                for candidate in search.propose(limit - len(search.in_flight)):
                    scopes[candidate.rank] = scope = anyio.CancelScope()
                    tg.start_soon(run, candidate, scope)
                if not search.in_flight:
                    break
                item = await receive_stream.receive()
                if item is None:
                    halted = Halt.STOPPED
                    break
                feed(item)
        if timer.cancelled_caught:
            halted = Halt.DEADLINE
        # Requests on the wire finish (within ``grace``) so that every request
        # counted was really answered; only then are stragglers abandoned.
        if halted is not Halt.DEADLINE:
            with anyio.move_on_after(grace):
                while scopes:
                    item = await receive_stream.receive()
                    if item is not None:
                        feed(item)
        for rank, scope in scopes.items():
            scope.cancel()
        for candidate in search.in_flight:
            search.cancel(candidate)
        tg.cancel_scope.cancel()
    return halted


async def unless_stopped(stop: anyio.Event | None, work: Callable[[], Awaitable[T]]) -> T | None:
    """``work()``, or None as soon as ``stop`` is set (what ``work`` has on the wire is abandoned)."""
    if stop is None:
        return await work()
    done: T | None = None
    async with anyio.create_task_group() as tg:

        async def watch(event: anyio.Event) -> None:
            await event.wait()
            tg.cancel_scope.cancel()

        tg.start_soon(watch, stop)
        done = await work()
        tg.cancel_scope.cancel()
    return done


@contextmanager
def first_error() -> Iterator[None]:
    """Raise an error from inside task groups as itself, not wrapped in an exception group.

    Candidates run concurrently, so one failing oracle, test or hook can fail in
    several tasks at once; the first failure is the one to report, with its own type
    (so ``except ValueError`` and the command line's exit codes still work).
    """
    try:
        yield
    except BaseExceptionGroup as group:
        error: BaseException = group
        while isinstance(error, BaseExceptionGroup):
            error = error.exceptions[0]
        raise error from None


def synchronous(function: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """The same call, run to completion in its own event loop (one code path, typed)."""

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return anyio.run(partial(function, *args, **kwargs))

    run.__name__ = function.__name__.removeprefix("a")
    run.__qualname__ = run.__name__
    run.__doc__ = f"Synchronous :func:`{function.__name__}` (same arguments); runs its own event loop."
    return run
