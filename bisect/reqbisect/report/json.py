"""The ``--json`` result object, described exactly by ``reqbisect/result.schema.json``.

The object is what CI jobs and other tools read, so its shape is a contract:
every key is always present (``null`` when it does not apply), the schema has
``additionalProperties: false`` wherever the shape is ours, and
``schema_version`` changes when a key changes meaning. Secrets in documents,
patch, bodies and messages are redacted unless ``redact=False``; ``redacted``
says which, because a redacted patch cannot be applied as it is.
"""

from __future__ import annotations

from dataclasses import asdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reqbisect.oracle import Reply, signature_digest
from reqbisect.report.patch import describe_finding, describe_reply
from reqbisect.report.placeholders import truncate
from reqbisect.report.redact import Redactor

if TYPE_CHECKING:
    from reqbisect._types import Document
    from reqbisect.result import Result, Shrink

__all__ = ["BODY_LIMIT", "SCHEMA_VERSION", "reply_to_json", "result_reason", "result_to_json", "shrink_to_json"]

#: The ``schema_version`` of the object; it changes when a key changes meaning.
SCHEMA_VERSION = 1
#: Characters of a response body kept in the object.
BODY_LIMIT = 2000


def reply_to_json(reply: Reply | None, *, redactor: Redactor | None = None) -> dict[str, Any] | None:
    """A reply as ``{status, error, signature, body, body_size, truncated, body_read, elapsed}``.

    ``body`` is the (redacted) text cut to :data:`BODY_LIMIT` characters;
    ``body_size`` is the size in bytes of the body as received; ``body_read``
    says whether the body was read whole, cut at ``--max-body`` or not read.
    """
    if reply is None:
        return None
    size = len(reply.body)
    if redactor is not None:
        reply = redactor.redact_reply(reply)
    text = reply.text
    body = truncate(text, BODY_LIMIT)
    return {
        "status": reply.status,
        "error": reply.error,
        # A hash: the masked body can keep parts of a secret that redaction no longer recognises.
        "signature": signature_digest(reply),
        "body": body,
        "body_size": size,
        "truncated": len(body) < len(text),
        "body_read": reply.body_read.value,
        "elapsed": round(reply.elapsed, 4),
    }


def result_reason(result: Result, *, redactor: Redactor | None = None) -> str | None:
    """Why the result is not conclusive, in words; for failed baselines, what each one got."""
    if result.reason is not None:
        return redactor.redact_text(result.reason) if redactor is not None else result.reason
    if result.outcome == "baselines-failed":
        return (
            f"the baselines did not reproduce: GOOD got {describe_reply(result.baseline_good, redactor=redactor)}, "
            f"BAD got {describe_reply(result.baseline_bad, redactor=redactor)}"
        )
    return None


def result_to_json(
    result: Result,
    *,
    redact: bool = True,
    redactor: Redactor | None = None,
    good: Document | None = None,
    bad: Document | None = None,
    keep: Iterable[str] = (),
) -> dict[str, Any]:
    """The result as the documented JSON object (``--json``).

    Args:
        result: what the bisection found.
        redact: replace secrets with placeholders (ignored when ``redactor`` is given).
        redactor: a redactor shared with the summary and the report, so the same
            secret gets the same placeholder in all three.
        good, bad: the original GOOD and BAD documents, when the caller has them:
            their secrets are learned too, and the summary can say how much of an
            added container the patch needs.
        keep: names and JSON pointers whose values stay readable (``--keep``; without ``redactor``).
    """
    from reqbisect import __version__

    if redactor is None:
        documents = [doc for doc in (good, bad) if doc is not None]
        redactor = Redactor.for_result(result, enabled=redact, keep=keep, documents=documents)
    stats = result.stats
    found = result.outcome != "baselines-failed"
    return {
        "schema_version": SCHEMA_VERSION,
        "version": __version__,
        "mode": result.mode,
        "outcome": result.outcome,
        "reason": result_reason(result, redactor=redactor),
        "summary": describe_finding(result, good=good, bad=bad, redactor=redactor) if found else None,
        "redacted": redactor.enabled,
        "patch": redactor.redact_patch(result.patch),
        "minimal_good": redactor.redact_document(result.minimal_good),
        "minimal_bad": redactor.redact_document(result.minimal_bad),
        "verified": result.verified,
        "minimal": result.minimal,
        "changes": result.changes,
        "responses": {
            "baseline_good": reply_to_json(result.baseline_good, redactor=redactor),
            "baseline_bad": reply_to_json(result.baseline_bad, redactor=redactor),
            "minimal_good": reply_to_json(result.reply_good, redactor=redactor),
            "minimal_bad": reply_to_json(result.reply_bad, redactor=redactor),
        },
        "stats": {
            "requests": stats.requests,
            "cache_hits": stats.cache_hits,
            "unresolved": stats.unresolved,
            "rounds": stats.rounds,
            "seconds": stats.seconds,
            "candidates": stats.candidates,
            "cancelled": stats.cancelled,
            "verification": stats.verification,
            "shrink": stats.shrink,
        },
        "warnings": [redactor.redact_text(warning) for warning in result.warnings],
        "oracle": redactor.redact_text(result.oracle) if result.oracle is not None else None,
        "verification": {
            "sends": stats.verification,
            "reason": result.verification,
            "doubts": [redactor.redact_text(doubt) for doubt in result.doubts],
        },
        "shrink": shrink_to_json(result.shrink),
    }


def shrink_to_json(shrink: Shrink | None) -> dict[str, Any] | None:
    """The ``shrink`` object of the result: what ``--shrink`` took away, and what it cost."""
    if shrink is None:
        return None
    return {
        "summary": shrink.summary(),
        "parts": shrink.parts,
        "kept": shrink.kept,
        "requests": shrink.requests,
        "verified": shrink.verified,
        "note": shrink.note,
        "before": {"good": asdict(shrink.good_before), "bad": asdict(shrink.bad_before)},
        "after": {"good": asdict(shrink.good_after), "bad": asdict(shrink.bad_after)},
    }
