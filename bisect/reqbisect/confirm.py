"""Before sending methods that are not safe to a real server: say how many requests, and ask.

POST, PUT, PATCH and DELETE may change state on the server (RFC 9110, section
9.2.1); every candidate is a different request. The bound stated is the search
plan's (``budget.plan_bound``), and it becomes the run's budget, so the run never
sends more than it said.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from reqbisect.budget import plan_bound
from reqbisect.console import echo_err, plural
from reqbisect.document import Capture, origin
from reqbisect.errors import InputError
from reqbisect.options import RunOptions
from reqbisect.plan import make_plan

__all__ = ["NOT_SAFE", "confirm"]

#: Methods that are not *safe* (RFC 9110, section 9.2.1): the server may change state for each one.
#: PUT and DELETE are idempotent (section 9.2.2), yet each candidate is a different request.
NOT_SAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})



def confirm(
    options: RunOptions, good: Capture, bad: Capture, *, methods: set[str], target: str | None, yes: bool
) -> RunOptions:
    """Methods that are not safe, to a real server: state the bound (it becomes the budget) and ask."""
    names = "/".join(sorted(methods & NOT_SAFE))
    if options.max_requests is None:
        plan = make_plan(options.mode, good.document, bad.document, options.ignore)
        bound = plan_bound(
            plan.space, concurrency=options.concurrency, repeat=options.repeat,
            baseline_repeats=options.baseline_sends // 2, singles=options.mode.target is not None,
        )
        options = replace(options, max_requests=max(bound.total, options.baseline_sends))
        why = (
            f"what the search plan over these {plural(plan.space.size, 'change')} needs when up to {bound.causes} "
            "of them matter; the run never sends more"
        )
    else:
        why = "--max-requests"
    limit = options.max_requests
    meaning = (
        f"{names} is not a safe method: each request may change state on the server "
        f"(create, update or delete something), and every candidate is a different request"
    )
    if yes:
        return options
    where = target or origin(good.document)
    if not sys.stdin.isatty():
        raise InputError(
            f"{meaning}; up to {limit} requests would be sent to {where} ({why})",
            hint="pass --yes to confirm (there is no terminal to ask on)",
        )
    echo_err(f"reqbisect: {meaning}.")
    if not click.confirm(
        f"Send up to {limit} {names} requests to {where} ({why})?", err=True
    ):
        raise InputError("cancelled; nothing was sent")
    return options
