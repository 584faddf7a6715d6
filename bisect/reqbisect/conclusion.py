"""The conclusion phase: the records of the run become a Result, or the error that carries one.

The answer is ``found`` only when the search reached its end, its answer is
1-minimal, the verification confirmed it, and fewer than
:data:`UNRESOLVED_LIMIT` of the candidates were unresolved; otherwise the
Result says why, and comes inside :class:`~reqbisect.errors.Inconclusive` (or
:class:`~reqbisect.errors.Interrupted` when the run was stopped).
"""

from __future__ import annotations

import re
from dataclasses import replace

from reqbisect._types import Patch
from reqbisect.error_shapes import verdict
from reqbisect.errors import Inconclusive, Interrupted
from reqbisect.evidence import UNRESOLVED_LIMIT, hopeless
from reqbisect.mode import Mode, Side
from reqbisect.oracle import Reply
from reqbisect.outcome import Outcome
from reqbisect.phases import Baselines, Run, Searched
from reqbisect.result import Result, Stats
from reqbisect.search import Config, State
from reqbisect.search.alternatives import other_single_changes
from reqbisect.shrink import Shrunk
from reqbisect.verification import Verification

__all__ = ["DOUBT_LIMIT", "UNRESOLVED_LIMIT", "conclude", "doubts", "failed_baselines", "other_fixes", "stats", "suggest_expressions"]

#: More unresolved candidates than this share of those judged make the result carry a warning.
DOUBT_LIMIT = 0.25

def stats(run: Run, searched: Searched | None = None, verification: Verification | None = None) -> Stats:
    """What the run cost so far."""
    core = searched.stats if searched is not None else None
    return Stats(
        requests=run.judge.budget.sent,
        cache_hits=run.judge.cache_hits + (core.cache_hits if core else 0),
        unresolved=core.unresolved if core else 0,
        rounds=core.rounds if core else 0,
        seconds=round(run.clock.now() - run.started, 3),
        candidates=core.calls + core.cancelled if core else 0,
        cancelled=core.cancelled if core else 0,
        verification=verification.requests if verification else 0,
    )


def _result(run: Run, **fields: object) -> Result:
    return Result(
        mode=run.plan.mode, changes=len(run.plan.tree.changes), warnings=run.warnings,
        oracle=run.judge.oracle_description,
        baseline_good=run.judge.baseline.get(Side.GOOD), baseline_bad=run.judge.baseline.get(Side.BAD),
        **fields,  # type: ignore[arg-type]
    )


def other_fixes(run: Run, searched: Searched) -> tuple[Patch, ...]:
    """In ``fix`` mode, the patches of other single changes the search saw fix BAD (nothing is sent)."""
    plan = run.plan
    if plan.mode is not Mode.FIX:
        return ()
    configs = other_single_changes(plan.space, searched.known, searched.best.good)
    return tuple(plan.tree.patch(plan.changes(config)) for config in configs)


def failed_baselines(run: Run, reason: str) -> Result:
    """The Result of a run whose baselines did not reproduce."""
    return _result(
        run, outcome="baselines-failed", patch=[], minimal_good=None, minimal_bad=None, reason=reason,
        stats=stats(run),
    )


def _baseline_reply(run: Run, baselines: Baselines, config: Config, side: Side) -> Reply | None:
    """A baseline's own answer for an end of the pair that the verification did not send again."""
    if run.plan.fixed or baselines.known.get(config) is not Outcome(side.value):
        return None
    return run.judge.baseline.get(side)


def conclude(
    run: Run, baselines: Baselines, searched: Searched, verification: Verification, shrunk: Shrunk | None = None
) -> Result:
    """The Result of the run; with ``shrunk``, the minimal requests are the shrunk pair when it was re-verified.

    Raises:
        Interrupted: the run was stopped; ``.result`` is the best so far, not re-verified.
        Inconclusive: the answer is not proven; ``.result`` says why.
    """
    if verification.searched is not None:  # the verification searched again from corrected answers
        searched = verification.searched
    plan, best = run.plan, searched.best
    found: dict[str, object] = dict(
        patch=plan.patch(best), minimal_good=plan.apply(best.good), minimal_bad=plan.apply(best.bad),
        stats=stats(run, searched, verification),
    )
    replies = {
        "reply_good": verification.reply_good or _baseline_reply(run, baselines, best.good, Side.GOOD),
        "reply_bad": verification.reply_bad or _baseline_reply(run, baselines, best.bad, Side.BAD),
    }
    if shrunk is not None:
        found["stats"] = replace(stats(run, searched, verification), shrink=shrunk.record.requests)
        if shrunk.good is not None:
            found.update(minimal_good=shrunk.good, minimal_bad=shrunk.bad)
            replies = {"reply_good": shrunk.reply_good, "reply_bad": shrunk.reply_bad}
        found["shrink"] = shrunk.record
        if shrunk.interrupted:
            raise Interrupted(
                "interrupted while shrinking; the minimal difference was found and verified, the requests are "
                "not shrunk",
                result=_result(run, outcome="found", verified=True, minimal=best.minimal, **replies, **found),
            )
    if verification.interrupted:
        during = "during the re-verification; this answer was not re-verified" if searched.halt is None else (
            "; this is the best result so far"
        )
        raise Interrupted(
            f"interrupted{during}", result=_result(run, outcome="inconclusive", reason="interrupted", **found)
        )
    judged = sum(searched.counts.values())
    unresolved = searched.counts[Outcome.UNRESOLVED]
    reason = None
    if hopeless(searched.counts):
        reason = (
            f"{unresolved} of {judged} candidates were unresolved, so the answer says little; "
            "if the server checks a signature, timestamp or nonce, re-sign each candidate with a hook "
            "(--hook / prepare=), or say what good and bad look like with --good-if/--bad-if"
        )
    elif searched.astray:
        reason = (
            f"the search asked {judged} questions, far more than the changes that matter would need, "
            "and stopped: its answers contradict each other (a flaky server?); try --repeat 3"
        )
    elif searched.halt is not None:
        reason = f"--max-time ({run.options.max_time}s) ran out before the search finished"
    elif searched.state is State.SPENT:
        reason = f"the request budget ({run.options.max_requests}) ran out before the search finished"
    elif verification.flaky:
        reason = f"re-verification failed: {verification.flaky} (flaky server?); try --repeat 3"
    elif not verification.verified:
        reason = "no budget left to re-verify the answer"
    result = _result(
        run,
        outcome="found" if reason is None else "inconclusive",
        verified=verification.verified,
        minimal=searched.state is State.DONE and best.minimal and not verification.flaky,
        reason=reason,
        verification=verification.reason,
        doubts=verification.doubts,
        **replies,
        other_fixes=other_fixes(run, searched),
        **found,
    )
    result = replace(result, warnings=result.warnings + doubts(run, searched, verification))
    if reason is not None:
        raise Inconclusive(reason, result=result)
    return result


def suggest_expressions(good: Reply | None, bad: Reply | None) -> str:
    """``--good-if``/``--bad-if`` built from what differed between GOOD's and BAD's answers."""
    if good is None or bad is None or good.status is None or bad.status is None:
        return "say what good and bad look like with --good-if/--bad-if"
    if good.status != bad.status:
        good_if, bad_if = f"status == {good.status}", f"status == {bad.status}"
    else:
        said = verdict(bad.json)
        if said is not None and said[1] == "failure":
            member = "errors" if said[0] == "GraphQL" else "error"
            good_if, bad_if = f"'{member}' not in json", f"'{member}' in json"
        else:
            bad_if = _distinctive(good, bad)
            good_if = f"not ({bad_if})"
    return (
        f'say which side such answers are on: --good-if "{good_if}" (anything else is bad) '
        f'or --bad-if "{bad_if}" (anything else is good)'
    )


def _distinctive(good: Reply, bad: Reply) -> str:
    """An expression true of BAD's answer and not of GOOD's: a top-level JSON key, else a word."""
    good_json, bad_json = good.json, bad.json
    if isinstance(bad_json, dict):
        for key in bad_json:
            if not isinstance(good_json, dict) or key not in good_json:
                return f"{key!r} in json"
    good_words = set(re.findall(r"[A-Za-z_]{4,}", good.text))
    for word in re.findall(r"[A-Za-z_]{4,}", bad.text):
        if word not in good_words:
            return f"{word!r} in text"
    return "text != " + repr(good.text[:40])


def doubts(run: Run, searched: Searched, verification: Verification) -> tuple[str, ...]:
    """Warnings for an answer that rests on unresolved candidates (docs/design.md, "Outcomes").

    Two things make an answer doubtful: more than :data:`DOUBT_LIMIT` of the
    candidates were unresolved, or a change is in an answer of several changes
    only because taking it away gave an unresolved answer (which counts as
    "no flip", so the change stays). Each warning names what was seen and
    suggests an expression that would decide such answers.
    """
    plan = run.plan
    suggestion = suggest_expressions(run.judge.baseline.get(Side.GOOD), run.judge.baseline.get(Side.BAD))
    basis = run.judge.oracle_description or "the oracle"
    found: list[str] = []
    judged = sum(searched.counts.values())
    unresolved = searched.counts[Outcome.UNRESOLVED]
    if judged and unresolved > DOUBT_LIMIT * judged:
        found.append(
            f"{unresolved} of {judged} candidates were unresolved (answers that were neither good nor bad by "
            f"{basis}), and the search counts those as 'no flip'; the answer may hold changes that are not "
            f"needed; {suggestion}"
        )
    answer, target = plan.mode.answer(searched.best), plan.mode.target
    roots = plan.roots(answer) if answer is not None else []
    if answer is None or target is None or len(roots) < 2:
        return tuple(found)
    steps = dict(verification.steps)
    for change in roots:
        seen = [searched.known[c] for c in [plan.space.without(answer, [change])] if c in searched.known]
        votes = steps.get(change)
        seen += list(votes.outcomes) if votes is not None else []
        if Outcome.UNRESOLVED not in seen:
            continue
        reply = f"; last answer {votes.reply.short()}" if votes is not None and votes.reply is not None else ""
        found.append(
            f"{plan.pointer(change)} is in the answer because taking it away gave "
            + ", ".join(f"{outcome} ({seen.count(outcome)} of {len(seen)} tries)" for outcome in dict.fromkeys(seen))
            + f"{reply}, not a clear {target.opposite} "
            f"by {basis}: it may not be needed; {suggestion}"
        )
    return tuple(found)
