"""The bug report: Markdown to paste into an issue tracker.

A maintainer reading the report should see the finding before anything else,
be able to reproduce it with two commands, and find the evidence (responses,
what was tried, the baselines) one click away. So the report is, in order: a
title naming the request and the response change; one sentence with the
finding; the minimal patch; curl commands for the minimal good and bad
requests; their responses side by side; what the search did; the baselines;
warnings; the tool version. Long parts (bodies, large patches, long commands)
are folded into ``<details>`` blocks, which GitHub, GitLab and most trackers
render collapsed.

Everything shown passes through one :class:`~reqbisect.report.redact.Redactor`,
which learns the secrets of the minimal requests, of the original requests
when given, of the patch and of the replies before anything is written; the
curl commands are built from redacted documents, and their text is redacted
once more. The output is CommonMark plus GitHub tables; it never relies on raw
HTML beyond ``<details>``/``<summary>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reqbisect.formats import dump
from reqbisect.mode import Mode
from reqbisect.oracle import BodyRead, Reply
from reqbisect.report.json import result_reason
from reqbisect.report.patch import (
    describe_change,
    describe_op,
    describe_patch,
    describe_reply,
    patch_base,
    patch_target,
    replies_of,
)
from reqbisect.report.diffview import unified_diff
from reqbisect.report.markup import code, details, escape, fence, fit, maybe_fold, size
from reqbisect.report.placeholders import truncate
from reqbisect.report.redact import Redactor
from reqbisect.report.repro import INLINE_LIMIT, request_block

if TYPE_CHECKING:
    from reqbisect._types import Document
    from reqbisect.result import Result

__all__ = ["BODY_LIMIT", "REPORT_LIMIT", "render_markdown"]

#: Characters of a response body shown in the report.
BODY_LIMIT = 1024
#: Characters a GitHub issue body holds; the report never has more.
REPORT_LIMIT = 65536
#: Characters of the diff block at most.
DIFF_LIMIT = 24000
#: Characters of a header value shown in a table cell (cut between placeholders only).
CELL_LIMIT = 200
#: Patch operations described one by one.
BULLETS = 20
_KEY_HEADERS = (
    "content-type", "request-id", "x-request-id", "x-amzn-requestid", "x-amz-request-id", "cf-ray",
    "retry-after", "www-authenticate", "location",
)
# -- curl ---------------------------------------------------------------------------------


def _is_request(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("url"), str)


def _curl(document: Document) -> str:
    """The document as a curl command, as ``reqbisect convert --to curl`` writes it."""
    return dump(document, "curl").rstrip("\n")


# -- sections ----------------------------------------------------------------------------


def _title(result: Result, redactor: Redactor) -> str:
    document = result.minimal_bad or result.minimal_good
    where = ""
    if _is_request(document):
        assert isinstance(document, dict)
        url = redactor.redact_text(str(document["url"]))
        where = f"{document.get('method', 'GET')} {url}: "
    if result.outcome == "baselines-failed":
        return f"# {escape(where)}the baselines did not reproduce" if where else "# The baselines did not reproduce"
    before, after = replies_of(result)
    if before is None and after is None:
        return f"# {escape(where)}the minimal difference" if where else "# The minimal difference"
    return f"# {escape(where + describe_change(before, after, redactor=redactor))}"


def _finding(result: Result, redactor: Redactor, target: Any) -> str:
    if result.outcome == "baselines-failed":
        if result.reason is not None:
            return f"**The baselines did not reproduce:** {escape(redactor.redact_text(result.reason))}."
        return (
            "**The baselines did not reproduce:** "
            f"GOOD got {code(describe_reply(result.baseline_good, redactor=redactor))} "
            f"and BAD got {code(describe_reply(result.baseline_bad, redactor=redactor))}."
        )
    ops = len(result.patch)
    words = describe_patch(result.patch, patch_base(result), target=target, redactor=redactor)
    if ops > 3:
        words = f"{ops} operations (listed below)"
    before, after = replies_of(result)
    change = (
        f" The response goes from {code(describe_reply(before, redactor=redactor))} "
        f"to {code(describe_reply(after, redactor=redactor))}."
        if before is not None or after is not None else ""
    )
    what = "this change" if ops == 1 else "these changes"
    sentence = Mode(result.mode).finding.format(what=what, words=escape(words))
    if result.outcome == "inconclusive":
        reason = result_reason(result, redactor=redactor) or "the search did not finish"
        return f"**Inconclusive:** {escape(reason)}. Best so far, {sentence[0].lower()}{sentence[1:]}{change}"
    return f"**Finding:** {sentence}{change}"


def _patch_section(result: Result, redactor: Redactor, target: Any) -> list[str]:
    applies_to = Mode(result.mode).patch_applies_to
    patch = redactor.redact_patch(result.patch)
    text = json.dumps(patch, indent=2, ensure_ascii=False)
    note = f"An RFC 6902 JSON Patch against {applies_to}."
    if redactor.enabled:
        note += (
            " Secrets are replaced by `<redacted:…>` placeholders; the patch that reqbisect prints"
            " on stdout (and writes with `-o`) keeps the real values."
        )
    bullets = "\n".join(
        f"- {escape(describe_op(op, patch_base(result), target=target, redactor=redactor))}"
        for op in result.patch[:BULLETS]
    ) + (f"\n- and {len(result.patch) - BULLETS} more operations" if len(result.patch) > BULLETS else "")
    block = maybe_fold(f"The patch ({len(patch)} operations)", fence(text, "json"), text)
    return ["## Minimal patch", note, *([bullets] if bullets else []), block]


def _document_block(summary: str, document: Any, redactor: Redactor) -> str:
    """A document that is not a request (``bisect_documents``), as JSON cut to fit."""
    text = json.dumps(redactor.redact_document(document), indent=2, ensure_ascii=False)
    if len(text) > INLINE_LIMIT:
        text = truncate(text, INLINE_LIMIT) + f"\n… ({size(len(text.encode('utf-8')))} in all)"
    return maybe_fold(summary, fence(text, "json"), text)


def _reproduce_section(result: Result, redactor: Redactor, attached: bool) -> list[str]:
    parts = ["## Reproduce"]
    for heading, label, side, document in (
        ("### Works: the minimal good request", "The minimal good request", "good", result.minimal_good),
        ("### Fails: the minimal bad request", "The minimal bad request", "bad", result.minimal_bad),
    ):
        parts.append(heading)
        if _is_request(document):
            assert isinstance(document, dict)
            parts += request_block(label, side, document, result.patch, redactor, attached=attached)
        else:
            parts.append(_document_block(f"{label} (document)", document, redactor))
    return parts


def _diff_section(result: Result, redactor: Redactor) -> list[str]:
    """The minimal pair as a unified diff whose changed lines are exactly the patch's."""
    base = patch_base(result)
    if base is None:
        return []
    labels = Mode(result.mode).patch_ends("minimal good", "minimal bad")
    text = unified_diff(redactor.redact_document(base), redactor.redact_patch(result.patch), labels=labels)
    note = (
        f"The {labels[0]} and {labels[1]} requests, one line per header, cookie, query item and body value; "
        "the changed lines are the patch, unchanged lines are folded."
    )
    if len(text) > DIFF_LIMIT:
        kept = truncate(text, DIFF_LIMIT).rpartition("\n")[0]
        note += f" Cut to fit an issue: {text.count(chr(10)) - kept.count(chr(10))} more lines are in the patch."
        text = kept
    return ["## The difference", note, maybe_fold("The diff", fence(text, "diff"), text)]


def _other_fixes_section(result: Result, redactor: Redactor) -> list[str]:
    if not result.other_fixes:
        return []
    base = patch_base(result)
    lines = "\n".join(f"- {escape(describe_patch(patch, base, redactor=redactor))}" for patch in result.other_fixes)
    return [
        "## Other fixes seen",
        "The search also saw each of these single changes make the failing request work on its own:",
        lines,
        "So the failure needs several parts of the request together, and reverting any one of them is enough. "
        "`--mode break` finds the whole cause: every change that GOOD needs to fail like BAD.",
    ]


def _header_rows(replies: list[Reply | None]) -> list[list[str]]:
    rows = []
    for name in _KEY_HEADERS:
        values = [reply.header(name) if reply is not None else None for reply in replies]
        if any(value is not None for value in values):
            rows.append([name, *(escape(truncate(v, CELL_LIMIT)) if v is not None else "" for v in values)])
    return rows


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _body_block(name: str, reply: Reply | None, redactor: Redactor) -> str | None:
    if reply is None or reply.error is not None or not reply.body:
        return None
    received = len(reply.body)
    shown = redactor.redact_reply(reply)
    data = shown.json
    if data is not None or shown.body.strip() == b"null":
        text, info = json.dumps(data, indent=2, ensure_ascii=False), "json"
    else:
        text, info = shown.text, "text"
    cut = truncate(text, BODY_LIMIT)
    note = f"{size(received)}" + (f", first {size(len(cut.encode('utf-8')))} shown" if len(cut) < len(text) else "")
    if reply.body_read is BodyRead.CUT:
        note += ", cut: the rest was not read (--max-body)"
    return details(f"{name} body ({note})", fence(cut, info))


def _body_size(reply: Reply) -> str:
    """The body's size as read, saying when it was cut or left unread."""
    if reply.body_read is BodyRead.UNREAD:
        return "not read (its status decided)"
    if reply.body_read is BodyRead.CUT:
        return f"{size(len(reply.body))} read, then cut (--max-body)"
    return size(len(reply.body))


def _replies_section(
    heading: str, note: str, names: tuple[str, str], replies: tuple[Reply | None, Reply | None], redactor: Redactor,
) -> list[str]:
    pair = [redactor.redact_reply(r) if r is not None else None for r in replies]
    rows = [["answer", *(escape(describe_reply(r, redactor=redactor)) for r in replies)]]
    rows += _header_rows(pair)
    rows.append(["body", *(_body_size(r) if r is not None else "" for r in replies)])
    rows.append(["time", *(f"{r.elapsed:.2f} s" if r is not None else "" for r in replies)])
    parts = [heading, note, _table(["", *names], rows)]
    parts += [b for b in (_body_block(n, r, redactor) for n, r in zip(names, replies)) if b is not None]
    return parts


def _responses_section(result: Result, redactor: Redactor) -> list[str]:
    if all(r is None for r in (result.reply_good, result.reply_bad, result.baseline_good, result.baseline_bad)):
        return []
    if result.reply_good is not None or result.reply_bad is not None:
        note = "Both minimal requests were sent once more to verify the finding" + (
            "." if result.verified else ", and did not behave as during the search."
        )
        replies = (result.reply_good, result.reply_bad)
    else:
        note = "The minimal requests were not sent again; these are the baselines' answers."
        replies = (result.baseline_good, result.baseline_bad)
    return _replies_section("## Responses", note, ("minimal good", "minimal bad"), replies, redactor)


def _tried_section(result: Result) -> list[str]:
    s = result.stats
    lines = [
        f"- {s.requests} requests sent (baselines, retries and {s.verification} for verification included); "
        f"{s.cache_hits} answered from the cache; {s.unresolved} unresolved",
        f"- {s.rounds} rounds of concurrent requests in {s.seconds:.1f} s",
        f"- {result.changes} changes between GOOD and BAD; {s.candidates} candidates proposed, "
        f"{s.cancelled} withdrawn before an answer",
        f"- mode `{result.mode}`; verified: {'yes' if result.verified else 'no'}; "
        f"1-minimal: {'yes' if result.minimal else 'no'}",
        *_oracle_lines(result),
    ]
    lines += [f"- shrunk (`--shrink`): {escape(result.shrink.summary())}"] if result.shrink is not None else []
    return ["## What was tried", "\n".join(lines)]


def _oracle_lines(result: Result) -> list[str]:
    lines = [f"- good and bad told apart by: {escape(result.oracle)}"] if result.oracle else []
    if result.minimal:
        lines.append(
            "- 1-minimal under unresolved-counts-as-no-flip: taking away any single change of the answer did not "
            "flip the outcome, where an answer that was neither good nor bad counts as no flip"
        )
    return lines


def _baselines_section(result: Result, redactor: Redactor) -> list[str]:
    if result.baseline_good is None and result.baseline_bad is None:
        return []
    note = "The original GOOD and BAD requests, sent first" + (
        "; every candidate was judged against their answers." if result.outcome != "baselines-failed" else "."
    )
    return _replies_section(
        "## Baselines", note, ("GOOD", "BAD"), (result.baseline_good, result.baseline_bad), redactor
    )


def _warnings_section(warnings: Iterable[str], redactor: Redactor) -> list[str]:
    lines = [f"- {escape(redactor.redact_text(w))}" for w in warnings]
    return ["## Warnings", "\n".join(lines)] if lines else []


def render_markdown(
    result: Result,
    *,
    redact: bool = True,
    redactor: Redactor | None = None,
    good: Document | None = None,
    bad: Document | None = None,
    keep: Iterable[str] = (),
    attached: bool = False,
) -> str:
    """The bug-report text for ``result``, at most :data:`REPORT_LIMIT` characters.

    Args:
        result: what the bisection found (any outcome).
        redact: replace secrets with placeholders (ignored when ``redactor`` is given).
        redactor: a redactor shared with the summary and ``--json``, so the same
            secret gets the same placeholder everywhere.
        good, bad: the original GOOD and BAD documents, when the caller has them:
            their secrets are learned too, and the finding can say how much of an
            added container the patch needs (``added 1 of 2 elements``).
        keep: names and JSON pointers whose values stay readable (``--keep``; without ``redactor``).
        attached: the minimal requests are written beside the report (``--report-dir``),
            so the report links them and large bodies are read from there.

    Returns:
        CommonMark with GitHub tables and ``<details>`` blocks, ending in a newline.
    """
    from reqbisect import __version__

    if redactor is None:
        documents = [doc for doc in (good, bad) if doc is not None]
        redactor = Redactor.for_result(result, enabled=redact, keep=keep, documents=documents)
    target = patch_target(result, good=good, bad=bad)
    parts = [_title(result, redactor), _finding(result, redactor, target)]
    if result.outcome != "baselines-failed":
        parts += _other_fixes_section(result, redactor)
        parts += _patch_section(result, redactor, target)
        parts += _diff_section(result, redactor)
        if result.minimal_good is not None and result.minimal_bad is not None:
            parts += _reproduce_section(result, redactor, attached)
        parts += _responses_section(result, redactor)
    parts += _tried_section(result)
    resent = result.reply_good is not None or result.reply_bad is not None
    if result.outcome == "baselines-failed" or resent:
        # Otherwise the responses section already showed the baselines' answers.
        parts += _baselines_section(result, redactor)
    parts += _warnings_section(result.warnings, redactor)
    parts += ["---", f"Generated by reqbisect {__version__}."]
    return "\n\n".join(fit(parts, REPORT_LIMIT - 1)) + "\n"
