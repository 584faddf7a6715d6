"""The conclusion phase: the records of the run become a Result, or the error that carries one.

The answer is ``found`` only when the search reached its end, its answer is
1-minimal, the verification confirmed it, and fewer than
:data:`UNRESOLVED_LIMIT` of the candidates were unresolved; otherwise the
Result says why, and comes inside :class:`~reqbisect.errors.Inconclusive` (or
:class:`~reqbisect.errors.Interrupted` when the run was stopped).
"""

from __future__ import annotations

from reqbisect._types import Patch
from reqbisect.errors import Inconclusive, Interrupted
from reqbisect.mode import Mode, Side
from reqbisect.outcome import Outcome
from reqbisect.phases import Baselines, Run, Searched
from reqbisect.result import Result, Stats
from reqbisect.search import State
from reqbisect.search.alternatives import other_single_changes
from reqbisect.verification import Verification

__all__ = ["UNRESOLVED_LIMIT", "conclude", "failed_baselines", "other_fixes", "stats"]

#: More unresolved candidates than this share of those judged make a run inconclusive.
UNRESOLVED_LIMIT = 0.8


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


def conclude(run: Run, baselines: Baselines, searched: Searched, verification: Verification) -> Result:
    """The Result of the run.

    Raises:
        Interrupted: the run was stopped; ``.result`` is the best so far, not re-verified.
        Inconclusive: the answer is not proven; ``.result`` says why.
    """
    plan, best = run.plan, searched.best
    found = dict(
        patch=plan.patch(best), minimal_good=plan.apply(best.good), minimal_bad=plan.apply(best.bad),
        stats=stats(run, searched, verification),
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
    if judged >= 4 and unresolved > UNRESOLVED_LIMIT * judged:
        reason = (
            f"{unresolved} of {judged} candidates were unresolved, so the answer says little; "
            "if the server checks a signature, timestamp or nonce, re-sign each candidate with a hook "
            "(--hook / prepare=), or say what good and bad look like with --good-if/--bad-if"
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
        reply_good=verification.reply_good,
        reply_bad=verification.reply_bad,
        other_fixes=other_fixes(run, searched),
        **found,
    )
    if reason is not None:
        raise Inconclusive(reason, result=result)
    return result
