"""The ``--json`` result object (documented in README.md, schema in ``result.schema.json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reqbisect.oracle import Reply, signature

if TYPE_CHECKING:
    from reqbisect.result import Result

__all__ = ["result_to_json", "reply_to_json"]


def reply_to_json(reply: Reply | None) -> dict[str, Any] | None:
    if reply is None:
        return None
    return {
        "status": reply.status,
        "error": reply.error,
        "signature": signature(reply),
        "body": reply.text[:2000],
        "elapsed": round(reply.elapsed, 4),
    }


def result_to_json(result: Result, *, redact: bool = True) -> dict[str, Any]:
    from reqbisect.result import SCHEMA_VERSION

    stats = result.stats
    return {
        "schema_version": SCHEMA_VERSION,
        "mode": result.mode,
        "outcome": result.outcome,
        "reason": result.reason,
        "patch": result.patch,
        "minimal_good": result.minimal_good,
        "minimal_bad": result.minimal_bad,
        "verified": result.verified,
        "minimal": result.minimal,
        "changes": result.changes,
        "responses": {
            "baseline_good": reply_to_json(result.baseline_good),
            "baseline_bad": reply_to_json(result.baseline_bad),
            "minimal_good": reply_to_json(result.reply_good),
            "minimal_bad": reply_to_json(result.reply_bad),
        },
        "stats": {
            "requests": stats.requests,
            "cache_hits": stats.cache_hits,
            "unresolved": stats.unresolved,
            "rounds": stats.rounds,
            "seconds": stats.seconds,
            "candidates": stats.candidates,
            "cancelled": stats.cancelled,
        },
        "warnings": list(result.warnings),
    }
