"""``reqbisect log JOURNAL``: what a run tried, in order, in words (like ``git bisect log``).

A journal holds no values (``reqbisect.journal``): each line names the
changes its request applied by kind and JSON Pointer, its outcome, status and
times. This command only reads and prints them, so it can never show a
secret the journal does not hold. Journals written before the changes were
recorded still list every request, with "changes not recorded".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from reqbisect.console import plural

__all__ = ["log_command"]

#: Why a request was sent, in words.
_ROLES = {
    "baseline-good": "GOOD (baseline)",
    "baseline-bad": "BAD (baseline)",
    "candidate": "candidate",
    "verify": "re-check",
}


def _changes(data: dict[str, Any], *, base: str, full: bool, shown: int) -> str:
    changes = data.get("changes")
    if not isinstance(changes, list):
        return "changes not recorded (an older journal)"
    if not changes:
        return f"{base} unchanged"
    names = [str(change) for change in changes]
    listed = names if full or len(names) <= shown else names[:shown] + [f"and {len(names) - shown} more"]
    return f"{base} + {plural(len(names), 'change')}: {', '.join(listed)}"


@click.command("log", short_help="Show what a run tried, from its --journal file.")
@click.argument("journal", type=click.Path(dir_okay=False))
@click.option("--full", is_flag=True, help="List every change of each request (default: the first few).")
def log_command(journal: str, full: bool) -> None:
    """Print every request a --journal recorded, in order: why it was sent, the changes it
    applied (names only: a journal holds no values), its outcome, status and timing."""
    from reqbisect.journal import read_lines

    header, entries = read_lines(Path(journal))
    mode = str(header.get("mode", "fix"))
    base = "BAD" if mode == "fix" else "GOOD"
    started = header.get("started")
    when = (
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started)) if isinstance(started, (int, float)) else "unknown"
    )
    click.echo(f"journal {journal}: mode {mode}, started {when}; changes are applied to {base}")
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    sent = 0
    for number, (_, data) in enumerate(entries, start=1):
        # The same first send again is the same bytes answered from the run's cache (repeats
        # and re-checks are always sent afresh, reqbisect.judge).
        key = str(data.get("key", ""))
        again = first.setdefault(key, number) if key.endswith("#0") and data.get("role") != "verify" else number
        cached = f" [same request as {again}: answered from the cache, not sent again]" if again != number else ""
        sent += again == number
        outcome = str(data.get("outcome", "?"))
        counts[outcome] = counts.get(outcome, 0) + 1
        at = data.get("t")
        offset = f"+{at - started:.2f}s" if isinstance(at, (int, float)) and isinstance(started, (int, float)) else "?"
        elapsed = data.get("elapsed")
        took = f", took {elapsed * 1000:.0f} ms" if isinstance(elapsed, (int, float)) else ""
        status = data.get("status")
        answer = f"status {status}" if status is not None else "no status"
        role = _ROLES.get(str(data.get("role", "candidate")), str(data.get("role")))
        click.echo(
            f"{number:>4}. {offset:>9}  {role}: {outcome} ({answer}{took}); "
            f"{_changes(data, base=base, full=full, shown=6)}{cached}"
        )
    total = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    repeated = len(entries) - sent
    click.echo(
        f"{plural(sent, 'request')} sent and answered"
        + (f", {repeated} more answered from the cache" if repeated else "")
        + (f"; outcomes: {total}" if total else "")
    )
