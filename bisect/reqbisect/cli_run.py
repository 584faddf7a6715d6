"""``reqbisect run``: bisect two requests, print the patch, the summary and the report.

A thin shell over ``reqbisect.runner``: it turns options into
:class:`~reqbisect.options.RunOptions`, asks before unsafe requests, shows
progress, and prints what the run found (redacted where it must be).
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from reqbisect.console import (
    POSITIVE, dump_json, echo_err, expression_oracle, load_capture, new_file, plural, request_inputs, until_signal,
)
from reqbisect.errors import BaselineError, ExitCode, Inconclusive, InputError, Interrupted, ReqbisectError
from reqbisect.mode import Mode

if TYPE_CHECKING:
    from rich.live import Live

    from reqbisect._types import Document
    from reqbisect.command_oracle import CommandOracle
    from reqbisect.document import Capture
    from reqbisect.hooks import Prepare
    from reqbisect.phases import Progress
    from reqbisect.report.redact import Redactor
    from reqbisect.result import Result

__all__ = ["run_command"]


NON_IDEMPOTENT = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _progress_display(quiet: bool) -> tuple[Live | None, Callable[[Progress], None] | None]:
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.live import Live

    console = Console(stderr=True)
    live = Live(console=console, transient=True, auto_refresh=False)

    def update(p: Progress) -> None:
        live.update(refresh=True, renderable=
            f"{p.phase.value} · [bold]{p.requests}[/] sent, {p.in_flight} in flight · "
            f"[green]{p.good} good[/] [red]{p.bad} bad[/] [yellow]{p.unresolved} unresolved[/] · "
            f"difference {p.size}/{p.total} changes · {p.elapsed:.1f}s"
        )

    return live, update


def _check_redact(values: tuple[str, ...]) -> tuple[str, ...]:
    """Reject a bad ``--redact`` while parsing, before anything is sent (exit 2)."""
    from reqbisect.report.redact import check_extra

    return check_extra(values)


@request_inputs
@click.command("run", short_help="Bisect two requests: the smallest patch that flips the answer.")
@click.argument("good")
@click.argument("bad")
@click.option("--mode", type=click.Choice([mode.value for mode in Mode]), default=Mode.FIX.value, show_default=True)
@click.option("--good-if", help="Expression that holds for a good response (status, headers, text, json, elapsed).")
@click.option("--bad-if", help="Expression that holds for a bad response.")
@click.option("--target", help="Send every candidate to this origin (scheme://host:port; a path is prefixed to each path).")
@click.option("--app", help="Send to an in-process ASGI/WSGI app: module:attr or path/app.py:attr.")
@click.option("-j", "--concurrency", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Requests in flight at once.")
@click.option("--rate", type=POSITIVE, help="Requests per second at most.")
@click.option("--timeout", default=30.0, show_default=True, type=POSITIVE,
              help="Seconds per request.")
@click.option("--retries", default=2, show_default=True, type=click.IntRange(0, 10),
              help="Extra attempts after a transport error, 429 or 503.")
@click.option("--max-requests", type=click.IntRange(2),
              help="Never send more requests than this (at least twice --baseline-repeats).")
@click.option("--ignore", multiple=True, metavar="POINTER", help="Keep BAD's value under this JSON pointer.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), callback=new_file,
              help="Write the patch here.")
@click.option("--report", type=click.Path(dir_okay=False, writable=True), callback=new_file,
              help="Write a Markdown report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON on stdout.")
@click.option("--no-redact", is_flag=True, help="Do not redact secrets in the summary, report and --json.")
@click.option(
    "--redact", "redact_extra", multiple=True, metavar="NAME_OR_POINTER",
    callback=lambda ctx, param, value: _check_redact(value),
    help="Also treat this header/cookie/query/body key name, or everything under this JSON pointer, as a secret.",
)
@click.option(
    "--keep", "keep", multiple=True, metavar="NAME_OR_POINTER",
    callback=lambda ctx, param, value: _check_keep(value),
    help="Keep the value of this header/cookie/query/body key name, or under this JSON pointer, readable "
         "(values of a known secret format stay hidden).",
)
@click.option("--report-dir", type=click.Path(file_okay=False),
              help="Write report.md and the minimal requests as curl scripts and HAR files (redacted) here.")
@click.option(
    "--hook", metavar="MODULE:FUNCTION", callback=lambda ctx, param, value: _load_hook(value),
    help="Call this on every request document just before it is sent (re-sign, refresh a timestamp or nonce).",
)
@click.option(
    "--oracle-cmd", metavar="CMD", callback=lambda ctx, param, value: _check_oracle_cmd(value),
    help="Judge each response with this shell command (response JSON on stdin; exit 0 good, 125 skip, else bad).",
)
@click.option("--max-time", type=POSITIVE, help="Stop searching after this many seconds (baselines and re-verification come on top).")
@click.option("--repeat", default=1, show_default=True, type=click.IntRange(1, 15), help="Judge each candidate by N sends (majority).")
@click.option("--baseline-repeats", default=2, show_default=True, type=click.IntRange(1, 15), help="Send each baseline N times.")
@click.option("--follow-redirects", is_flag=True, help="Follow redirects instead of judging them.")
@click.option("--journal", type=click.Path(dir_okay=False), callback=new_file,
              help="Append every answered request to this file.")
@click.option("--resume", type=click.Path(dir_okay=False), help="Replay a journal: send nothing it already answered.")
@click.option("--yes", is_flag=True, help="Do not ask before sending non-idempotent requests.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def run_command(
    good: str, bad: str, mode: str, good_if: str | None, bad_if: str | None, target: str | None,
    app: str | None, concurrency: int, rate: float | None, timeout: float, retries: int,
    max_requests: int | None, ignore: tuple[str, ...], output: str | None, report: str | None,
    as_json: bool, no_redact: bool, redact_extra: tuple[str, ...], hook: Prepare | None, oracle_cmd: str | None,
    max_time: float | None, repeat: int, baseline_repeats: int, follow_redirects: bool, journal: str | None,
    resume: str | None, yes: bool, quiet: bool, keep: tuple[str, ...] = (), report_dir: str | None = None,
) -> ExitCode:
    """Find the smallest patch between GOOD and BAD that flips the server's answer."""
    from reqbisect.budget import default_limit
    from reqbisect.diff import diff
    from reqbisect.options import RunOptions
    from reqbisect.report.redact import unmatched_extra
    from reqbisect.runner import abisect
    from reqbisect.transport import load_app

    oracle = _command_oracle(oracle_cmd, good_if, bad_if) or expression_oracle(good_if, bad_if)
    if good.partition("#")[0] == bad.partition("#")[0] == "-":
        raise InputError("GOOD and BAD cannot both be read from standard input", hint="save one of them to a file")
    if report_dir:
        from reqbisect.report.files import check_report_dir

        check_report_dir(report_dir, inputs=(good, bad))
    good_capture, bad_capture = load_capture(good), load_capture(bad)
    for pointer in unmatched_extra(redact_extra, (good_capture.document, bad_capture.document)):
        echo_err(f"reqbisect: --redact {pointer}: neither GOOD nor BAD has it, so it hides nothing")
    app_object = load_app(app) if app else None
    method = {good_capture.document.get("method", "GET"), bad_capture.document.get("method", "GET")}
    if app_object is None and method & NON_IDEMPOTENT and not yes:
        n = len(diff(bad_capture.document, good_capture.document).changes)
        bound = max_requests or default_limit(n)
        max_requests = bound
        question = (
            f"This sends up to {bound} {'/'.join(sorted(method))} requests to "
            f"{target or _origin_of(good_capture.document)}. Continue?"
        )
        if not sys.stdin.isatty():
            raise InputError(
                f"{'/'.join(sorted(method))} is not idempotent and up to {bound} requests would be sent",
                hint="pass --yes to confirm (no terminal to ask on)",
            )
        if not click.confirm(question, err=True):
            raise InputError("cancelled; nothing was sent")

    live, update = _progress_display(quiet)
    options = RunOptions(
        mode=Mode(mode), target=target, concurrency=concurrency, max_requests=max_requests, max_time=max_time,
        timeout=timeout, retries=retries, rate=rate, repeat=repeat, baseline_repeats=baseline_repeats,
        follow_redirects=follow_redirects, ignore=ignore,
        journal=Path(journal) if journal else None, resume=Path(resume) if resume else None,
    )
    if max_requests is not None and not quiet:
        echo_err(f"reqbisect: sending at most {max_requests} requests")
    result: Result | None = None
    code = ExitCode.FOUND
    failure: ReqbisectError | None = None
    try:
        with live if live is not None else contextlib.nullcontext():
            result = until_signal(
                abisect, good_capture, bad_capture, options=options, oracle=oracle, app=app_object, progress=update,
                prepare=hook,
            )
    except (Inconclusive, BaselineError, Interrupted) as exc:
        result, code, failure = exc.result, exc.exit_code, exc
    redactor = _redactor(
        result, redact=not no_redact, extra=redact_extra, keep=keep, good=good_capture, bad=bad_capture
    )
    if failure is not None:
        # The message may quote a response that echoes a secret: redacted like everything else.
        echo_err(f"reqbisect: {redactor.redact_text(failure.format_message())}")
        _hint_hook(result, hook)
        if result is None:
            return code
    said = {*good_capture.warnings, *bad_capture.warnings}  # printed when they were loaded
    for warning in result.warnings:
        if warning not in said:
            echo_err(f"reqbisect: {warning}")
    _emit(
        result, as_json=as_json, output=output, report=report, redactor=redactor,
        good=good_capture.document, bad=bad_capture.document,
    )
    if report_dir:
        _write_report_dir(report_dir, result, redactor=redactor, good=good_capture.document, bad=bad_capture.document)
    return code


def _redactor(
    result: Result | None, *, redact: bool, extra: tuple[str, ...], good: Capture, bad: Capture,
    keep: tuple[str, ...] = (),
) -> Redactor:
    """One numbering of secrets for a run: the same inputs always give the same placeholders."""
    from reqbisect.report.redact import Redactor

    return Redactor.for_result(
        result, enabled=redact, extra=extra, keep=keep, documents=[good.document, bad.document]
    )


def _check_keep(values: tuple[str, ...]) -> tuple[str, ...]:
    """Reject a bad ``--keep`` while parsing, before anything is sent (exit 2)."""
    from reqbisect.report.redact import check_extra

    return check_extra(values, option="--keep")


def _write_report_dir(
    directory: str, result: Result, *, redactor: Redactor, good: Document, bad: Document
) -> None:
    from reqbisect.report.files import write_report_dir

    try:
        written = write_report_dir(directory, result, redactor=redactor, good=good, bad=bad)
    except OSError as exc:
        echo_err(f"reqbisect: --report-dir {directory}: could not write the files ({exc.strerror or exc})")
        return
    echo_err(f"reqbisect: wrote {', '.join(path.name for path in written)} to {directory}")


def _hint_hook(result: Result | None, hook: Prepare | None) -> None:
    """Baselines refused as unauthorised, and no hook: the requests may need signing afresh."""
    if hook is not None or result is None or result.outcome != "baselines-failed":
        return
    statuses = {reply.status for reply in (result.baseline_good, result.baseline_bad) if reply is not None}
    said = re.findall(r"\b(?:got|answer) \(?(\d{3})\b", result.reason or "")
    if statuses & {401, 403} or {"401", "403"} & set(said):
        echo_err(
            "reqbisect: hint: if the server checks a signature, timestamp or nonce, each request must be "
            "signed as it is sent: pass --hook MODULE:FUNCTION to re-sign every request"
        )


def _load_hook(spec: str | None) -> Prepare | None:
    """Import ``--hook`` while parsing, before anything is sent (exit 2)."""
    from reqbisect.hooks import load_hook

    return load_hook(spec) if spec else None


def _check_oracle_cmd(command: str | None) -> str | None:
    from reqbisect.command_oracle import check_command

    if command is not None:
        check_command(command, option="--oracle-cmd")
    return command


def _command_oracle(command: str | None, good_if: str | None, bad_if: str | None) -> CommandOracle | None:
    from reqbisect.command_oracle import CommandOracle

    if command is None:
        return None
    if good_if is not None or bad_if is not None:
        raise InputError("use either --oracle-cmd or --good-if/--bad-if, not both", source="--oracle-cmd")
    return CommandOracle(command)


def _origin_of(document: Document) -> str:
    from reqbisect.document import origin

    return origin(document)


def _emit(
    result: Result,
    *,
    as_json: bool,
    output: str | None,
    report: str | None,
    redactor: Redactor,
    good: Document | None = None,
    bad: Document | None = None,
) -> None:
    """Print the patch (real values: it is for the user's machine), the JSON and the report,
    then the human summary on stderr. One redactor serves the summary, ``--json`` and the
    report, so a secret gets the same placeholder in all three; ``good``/``bad`` are the
    original documents, whose secrets it learns too."""
    from reqbisect.report.json import result_to_json
    from reqbisect.report.markdown import render_markdown
    from reqbisect.report.patch import describe_finding
    if result.outcome != "baselines-failed":
        patch_text = dump_json(result.patch)
        if output:
            Path(output).write_text(patch_text + "\n", encoding="utf-8")
        if not as_json:
            click.echo(patch_text)
    if as_json:
        click.echo(dump_json(result_to_json(result, redactor=redactor, good=good, bad=bad)))
    if report:
        Path(report).write_text(render_markdown(result, redactor=redactor, good=good, bad=bad), encoding="utf-8")
    if result.outcome == "baselines-failed":
        return
    s = result.stats
    status = "minimal difference" if result.outcome == "found" else "best so far (not proven minimal)"
    echo_err(f"{status}: {describe_finding(result, good=good, bad=bad, redactor=redactor, limit=8)}")
    if result.other_fixes:
        from reqbisect.report.patch import describe_patch, patch_base

        others = "; ".join(describe_patch(p, patch_base(result), redactor=redactor, limit=3) for p in result.other_fixes)
        echo_err(f"also seen to fix it alone: {others}; the failure needs them together (--mode break finds all)")
    echo_err(
        f"{plural(result.changes, 'change')}; {plural(s.requests, 'request')} ({s.cache_hits} cached, "
        f"{s.unresolved} unresolved), {plural(s.rounds, 'round')}, {s.seconds:.1f}s; "
        f"verified: {'yes' if result.verified else 'no'}"
    )
