"""One run, as four phases: baselines -> search -> verification -> conclusion (shrink before it with ``--shrink``).

::

    GOOD, BAD ──> Plan (mode, change tree, search space)      reqbisect.plan
                    │
     Judge ───────> │  baselines      GOOD good? BAD bad? learn the oracle
     (requests or   │  search         the core proposes, the driver sends,   reqbisect.search,
      documents)    │                 outcomes go back in proposal order     reqbisect.driver
                    │  verification   the answer, sent again
                    │  shrink         (--shrink) what the pair shares, taken away   reqbisect.shrink
                    v  conclusion     Result, or Inconclusive / Interrupted
                  Result

Each phase is a function (``reqbisect.phases``, ``reqbisect.verification``,
``reqbisect.conclusion``) that takes the :class:`~reqbisect.phases.Run`
and the records of the phases before it, and returns a frozen record of its
own. :func:`run` is the only place that calls them, for ``bisect`` and
``bisect_documents`` alike: the two differ only in their judge.
"""

from __future__ import annotations

from reqbisect.conclusion import conclude, failed_baselines
from reqbisect.errors import BaselineError
from reqbisect.mode import Side
from reqbisect.phases import Phase, Run, establish_baselines, search
from reqbisect.result import Result
from reqbisect.search import State
from reqbisect.shrink import shrink
from reqbisect.verification import verify

__all__ = ["run"]


def _not_the_document(context: Run) -> str:
    """When GOOD's capture got another answer than GOOD sent from here: say what cannot be reproduced."""
    got = context.judge.baseline.get(Side.GOOD)
    if context.answered is None or got is None or got.status in (None, context.answered):
        return ""
    return (
        f"; GOOD's capture says its client got {context.answered}, sent from here it gets {got.status}: "
        "the same method, URL, query, headers, cookies, body, HTTP version and header order and spelling "
        "answer otherwise, so the difference is in what this client cannot reproduce (the other client's "
        "TLS handshake and HTTP/2 settings) or in the server's state (an expired session, a used nonce)"
    )


async def run(context: Run) -> Result:
    """Baselines, search, verification, (shrink,) conclusion: the whole run (see the module docstring).

    Raises:
        BaselineError: the baselines do not reproduce (``.result`` says what came back).
        Inconclusive: the answer is not proven; ``.result`` is the best so far.
        Interrupted: ``stop`` was set; ``.result`` is the best so far.
    """
    context.report(Phase.BASELINES)
    try:
        baselines = await establish_baselines(context)
    except BaselineError as exc:
        exc.message += _not_the_document(context)
        exc.result = failed_baselines(context, exc.message)
        raise
    context.report(Phase.SEARCH)
    searched = await search(context, baselines)
    context.report(Phase.VERIFICATION, size=context.plan.mode.size(searched.best))
    verification = await verify(context, searched)
    shrunk = None
    if context.options.shrink and verification.verified and searched.state is State.DONE and searched.halt is None:
        shrunk = await shrink(context, searched)
    context.report(Phase.CONCLUSION, size=context.plan.mode.size(searched.best))
    return conclude(context, baselines, searched, verification, shrunk)
