"""``bisect``/``abisect``: two HTTP requests in, a Result out.

This module only adapts: it loads the two requests, checks what must hold
before anything is sent (one origin, options, a journal of the same run),
opens the transport, the :class:`~reqbisect.sender.Sender` and the journal,
and hands a :class:`~reqbisect.judge.RequestJudge` to the one run pipeline
(``reqbisect.pipeline``), which ``bisect_documents`` shares.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import ssl
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Union

import anyio
import httpx

from reqbisect._types import Document
from reqbisect.budget import Budget
from reqbisect.document import Capture, origin, validate_document
from reqbisect.driver import first_error, synchronous
from reqbisect.errors import BaselineError, InputError
from reqbisect.formats import load_request
from reqbisect.hooks import Prepare
from reqbisect.journal import Journal, Replay, changes_from, read_journal
from reqbisect.judge import RequestJudge
from reqbisect.mode import Mode
from reqbisect.options import RunOptions
from reqbisect.oracle import Oracle
from reqbisect.phases import Progress, Run
from reqbisect.pipeline import run
from reqbisect.plan import make_plan
from reqbisect.reading import DEFAULT_MAX_BODY
from reqbisect.result import Result
from reqbisect.sender import Sender
from reqbisect.signature import SCHEME as SIGNATURE_SCHEME
from reqbisect.transport import Clock, SystemClock, open_transport

__all__ = ["Progress", "abisect", "bisect"]

RequestLike = Union[Capture, Document, str, Path]

#: Said when a hook signs every request: the minimal requests shown are from before it.
HOOK_WARNING = (
    "every request went through the hook before it was sent; the minimal requests shown are from "
    "before it, so run them through the hook again (to re-sign them) to repeat the result"
)


def _capture(value: RequestLike, name: str) -> Capture:
    if isinstance(value, Capture):
        return value
    if isinstance(value, dict):
        return Capture(document=validate_document(value, source=name), wire=None, source=name)
    return load_request(value)


def _run_identity(mode: Mode, good: Document, bad: Document, oracle: Oracle | None) -> dict[str, Any]:
    """What a journal's answers depend on: the two requests, the mode and who judged."""

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    if oracle is None:
        judge = f"default/signature-{SIGNATURE_SCHEME}"  # recorded signatures are only comparable within a scheme
    elif dataclasses.is_dataclass(oracle):
        judge = repr(oracle)  # --good-if/--bad-if and command oracles: their options
    else:
        judge = f"{getattr(oracle, '__module__', '')}.{getattr(oracle, '__qualname__', type(oracle).__qualname__)}"
    return {
        "mode": mode.value,
        "good": digest(json.dumps(good, sort_keys=True)),
        "bad": digest(json.dumps(bad, sort_keys=True)),
        "oracle": digest(judge),
    }


async def abisect(
    good: RequestLike,
    bad: RequestLike,
    *,
    mode: str | Mode = Mode.FIX,
    oracle: Oracle | None = None,
    client: httpx.AsyncClient | None = None,
    app: Any = None,
    target: str | None = None,
    ca_cert: str | Path | None = None,
    concurrency: int = 8,
    max_requests: int | None = None,
    max_time: float | None = None,
    timeout: float = 30.0,
    retries: int = 2,
    backoff: float = 0.5,
    rate: float | None = None,
    repeat: int = 1,
    baseline_repeats: int | None = None,
    follow_redirects: bool = False,
    ignore: Sequence[str] = (),
    prepare: Prepare | None = None,
    journal: str | Path | None = None,
    resume: str | Path | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    shrink: bool = False,
    stop: anyio.Event | None = None,
    progress: Callable[[Progress], None] | None = None,
    clock: Clock | None = None,
    options: RunOptions | None = None,
) -> Result:
    """Find the smallest difference between ``good`` and ``bad`` that flips the answer.

    Args:
        good, bad: captures, request documents, paths or capture text.
        mode: "fix", "break" or "isolate" (docs/design.md, "Modes").
        oracle: judge of replies (sync or async, ``(reply, document) -> Outcome | bool``);
            by default GOOD's status versus BAD's status and error signature.
        client: an ``httpx.AsyncClient`` to send with (e.g. with an app transport).
        app: an ASGI/WSGI app, or ``"module:attr"``, to send to in-process.
        target: send every request to this origin instead.
        ca_cert: a PEM file of certificate authorities to trust for TLS (as ``--cacert``).
        concurrency: requests in flight at once (lowered while the server signals overload).
        max_requests: the most requests to send, baselines, retries and verification included.
        max_time: stop searching after this many seconds, with the best result so far.
        timeout: seconds per request.
        retries: extra attempts after a transport error, 429 or 503.
        backoff: first retry delay in seconds; it doubles per attempt, with jitter,
            and a longer ``Retry-After`` wins.
        rate: requests per second at most.
        repeat: judge every candidate by this many sends (majority; a tie is unresolved).
        baseline_repeats: send each baseline this many times to learn what varies (all must agree);
            by default ``repeat`` times, by majority, and more only when they disagree.
        follow_redirects: follow redirects instead of judging them (credentials stay on their origin).
        ignore: JSON pointers whose changes are taken from BAD and never varied.
        prepare: hook applied to each candidate document before sending.
        journal: append every answered request to this file (JSON lines, fsynced).
        resume: replay this journal: what it answered is not sent again.
        max_body: bytes of a response body read at most (after decoding); a body
            the oracle cannot use is not read at all (docs/design.md, "Reading answers").
        shrink: then take away what the minimal good and bad requests share, keeping both
            outcomes and the patch (docs/design.md, "Shrink"); ``result.shrink`` says what it did.
        stop: when set, no new requests are sent; those in flight get ``timeout``
            seconds, then :class:`Interrupted` is raised with the best result so far.
        progress: called with a :class:`Progress` as the run goes.
        clock: time source for pacing and backoff (tests inject a fake one).
        options: all the plain options at once (the command line builds one);
            when given, the keyword arguments from ``mode`` to ``max_body`` are ignored.

    Returns:
        The :class:`Result`, found, re-verified and proven 1-minimal.

    Raises:
        InputError: bad input or options; nothing was sent.
        BaselineError: GOOD is not good, BAD is not bad, or they are equal.
        Inconclusive: the budget ran out or the answer could not be verified;
            ``.result`` holds the best result so far.
        Interrupted: ``stop`` was set; ``.result`` holds the best result so far.
    """
    if options is None:
        options = RunOptions(
            mode=Mode.of(mode), target=target, concurrency=concurrency, max_requests=max_requests,
            max_time=max_time, timeout=timeout, retries=retries, backoff=backoff, rate=rate, repeat=repeat,
            baseline_repeats=baseline_repeats, follow_redirects=follow_redirects, ignore=tuple(ignore),
            journal=Path(journal) if journal is not None else None,
            resume=Path(resume) if resume is not None else None, max_body=max_body, shrink=shrink,
            ca_cert=Path(ca_cert) if ca_cert is not None else None,
        )
    clock = clock or SystemClock()
    good_capture, bad_capture = _capture(good, "GOOD"), _capture(bad, "BAD")
    good_doc, bad_doc = good_capture.document, bad_capture.document
    if client is None and app is None and options.target is None and origin(good_doc) != origin(bad_doc):
        raise InputError(
            f"GOOD goes to {origin(good_doc)} and BAD to {origin(bad_doc)}; candidates never mix origins",
            hint="pass --target URL (or --app) to send every candidate to one place",
        )
    plan = make_plan(options.mode, good_doc, bad_doc, options.ignore)
    if not plan.tree.changes:
        raise BaselineError(
            "GOOD and BAD are the same request: method, URL, query, headers, cookies, body and how they are "
            "sent (HTTP version, header order, header-name spelling) are equal, so the difference is in what "
            "this client cannot reproduce: the other client's TLS handshake (its fingerprint) and HTTP/2 "
            "settings, or the server's own state",
            hint="capture both requests from this machine (e.g. with reqbisect send), or compare the clients' "
            "TLS and HTTP/2 fingerprints",
        )
    if not plan.ids:
        raise BaselineError("GOOD and BAD differ only under --ignore; there is nothing to bisect")
    identity = _run_identity(options.mode, good_doc, bad_doc, oracle)
    resumed = read_journal(options.resume, run=identity) if options.resume is not None else {}
    transport = open_transport(
        client=client, app=app, target=options.target, timeout=options.timeout,
        follow_redirects=10 if options.follow_redirects else 0, max_body=options.max_body,
        verify=ssl.create_default_context(cafile=str(options.ca_cert)) if options.ca_cert else True,
    )
    writer = (
        Journal(options.journal, run=identity, describe=changes_from(options.mode.base.pick(good_doc, bad_doc)))
        if options.journal is not None else None
    )
    sender = Sender(
        transport, clock=clock, budget=Budget(options.max_requests), rate=options.rate, retries=options.retries,
        backoff=options.backoff, concurrency=options.concurrency, retry_on=options.retry_on,
    )
    captures = (good_capture, bad_capture)
    judge = RequestJudge(
        sender=sender, replay=Replay(sender, resumed), like=options.mode.base.pick(captures, captures[::-1]),
        oracle=oracle, prepare=prepare, journal=writer, repeat=options.repeat,
    )
    warnings = (*(w for capture in captures for w in capture.warnings), *plan.warnings)
    if prepare is not None:
        warnings += (HOOK_WARNING,)
    context = Run(
        plan=plan, judge=judge, options=options, clock=clock, started=clock.now(), stop=stop, progress=progress,
        warnings=warnings,
        prepare=prepare,
        answered=good_capture.answered,
    )
    try:
        with first_error():
            return await run(context)
    finally:
        if writer is not None:
            writer.close()
        await transport.aclose()


bisect = synchronous(abisect)
