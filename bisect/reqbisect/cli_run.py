"""``reqbisect run``: bisect two requests, print the patch, the summary and the report.

A thin shell over ``reqbisect.runner``: it turns options into
:class:`~reqbisect.options.RunOptions`, asks before unsafe requests, shows
progress, and prints what the run found (redacted where it must be).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reqbisect.console import (
    POSITIVE, dump_json, echo_err, expression_oracle, load_capture, new_file, plural, request_inputs, until_signal,
)
from reqbisect.errors import BaselineError, ExitCode, Inconclusive, InputError, Interrupted, ReqbisectError
from reqbisect.mode import Mode

if TYPE_CHECKING:
    from reqbisect._types import Document
    from reqbisect.command_oracle import CommandOracle
    from reqbisect.document import Capture
    from reqbisect.hooks import Prepare
    from reqbisect.outputs import Outputs
    from reqbisect.report.redact import Redactor
    from reqbisect.result import Result

__all__ = ["MAX_BODY", "run_command"]


def _statuses(ctx: click.Context, param: click.Parameter, value: str | None) -> frozenset[int]:
    """``--retry-on 500,502,504``: statuses retried besides 429 and 503."""
    if value is None:
        return frozenset()
    try:
        statuses = frozenset(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of statuses (e.g. 500,502,504)") from None
    if not all(100 <= status <= 599 for status in statuses):
        raise click.BadParameter(f"{value!r}: every status must be between 100 and 599")
    return statuses


def _size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """``--max-body``: a byte count such as ``1048576``, ``512K`` or ``1MiB`` (powers of 1024)."""
    from reqbisect.reading import parse_size

    try:
        return parse_size(value)
    except InputError:
        raise click.BadParameter(f"{value!r} is not a size (bytes, or a number with K, M or G, e.g. 64K or 1MiB)")


#: The ``--max-body SIZE`` option, shared by ``run`` and ``send``.
MAX_BODY = click.option(
    "--max-body", default="1MiB", show_default=True, metavar="SIZE", callback=_size,
    help="Read at most this much of a response body (after decompression); bodies the oracle cannot use are not read.",
)


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
              help="Extra attempts after a transport error, 429 or 503 (and --retry-on statuses).")
@click.option("--retry-on", "retry_on", metavar="STATUS,...", callback=_statuses,
              help="Also retry these statuses (e.g. 500,502,504), with the same backoff; 429 and 503 always are.")
@click.option("--max-requests", type=click.IntRange(2),
              help="Never send more requests than this (at least twice --baseline-repeats). Default for methods "
              "that are not safe against a network target: the bound the search plan needs for two culprits.")
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
@MAX_BODY
@click.option("--max-time", type=POSITIVE, help="Stop searching after this many seconds (baselines and re-verification come on top).")
@click.option("--repeat", default=1, show_default=True, type=click.IntRange(1, 15), help="Judge each candidate by N sends (majority).")
@click.option("--baseline-repeats", default=None, type=click.IntRange(1, 15), help="Send each baseline N times, all of which must agree (default: --repeat times, by majority, more only when they disagree).")
@click.option("--follow-redirects", is_flag=True, help="Follow redirects instead of judging them.")
@click.option("--journal", type=click.Path(dir_okay=False), callback=new_file,
              help="Append every answered request to this file.")
@click.option("--resume", type=click.Path(dir_okay=False), help="Replay a journal: send nothing it already answered.")
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False),
              help="Trust the certificate authorities in this PEM file for TLS (as curl's --cacert).")
@click.option("--yes", is_flag=True, help="Do not ask before sending requests whose method is not safe (POST, PUT, PATCH, DELETE).")
@click.option("--shrink", is_flag=True,
              help="Then take away what the minimal good and bad requests share (a repro for an issue).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def run_command(
    good: str, bad: str, mode: str, good_if: str | None, bad_if: str | None, target: str | None,
    app: str | None, concurrency: int, rate: float | None, timeout: float, retries: int, retry_on: frozenset[int],
    max_requests: int | None, ignore: tuple[str, ...], output: str | None, report: str | None,
    as_json: bool, no_redact: bool, redact_extra: tuple[str, ...], hook: Prepare | None, oracle_cmd: str | None,
    max_body: int, max_time: float | None, repeat: int, baseline_repeats: int | None, follow_redirects: bool,
    journal: str | None,
    resume: str | None, cacert: str | None, yes: bool, shrink: bool, quiet: bool, keep: tuple[str, ...], report_dir: str | None,
) -> ExitCode:
    """Find the smallest patch between GOOD and BAD that flips the server's answer."""
    from reqbisect.confirm import NOT_SAFE, confirm
    from reqbisect.options import RunOptions
    from reqbisect.outputs import check_outputs
    from reqbisect.progress import ProgressDisplay
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
    outputs = check_outputs({"--output": output, "--report": report}, inputs={"GOOD": good, "BAD": bad}, journal=journal)
    click.get_current_context().call_on_close(outputs.discard_unwritten)  # however the command ends
    app_object = load_app(app) if app else None
    options = RunOptions(
        mode=Mode(mode), target=target, concurrency=concurrency, max_requests=max_requests, max_time=max_time,
        timeout=timeout, retries=retries, rate=rate, repeat=repeat, baseline_repeats=baseline_repeats,
        follow_redirects=follow_redirects, ignore=ignore,
        journal=Path(journal) if journal else None, resume=Path(resume) if resume else None,
        ca_cert=Path(cacert) if cacert else None,
        max_body=max_body,
        retry_on=retry_on | frozenset({429, 503}),
        shrink=shrink,
    )
    methods = {good_capture.document.get("method", "GET"), bad_capture.document.get("method", "GET")}
    if app_object is None and methods & NOT_SAFE:
        options = confirm(options, good_capture, bad_capture, methods=methods, target=target, yes=yes)
    if options.max_requests is not None and not quiet:
        echo_err(f"reqbisect: sending at most {options.max_requests} requests")
    result: Result | None = None
    code = ExitCode.FOUND
    failure: ReqbisectError | None = None
    with ProgressDisplay(quiet=quiet) as display, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = until_signal(
                abisect, good_capture, bad_capture, options=options, oracle=oracle, app=app_object,
                progress=display.callback, prepare=hook,
            )
        except (Inconclusive, BaselineError, Interrupted) as exc:
            result, code, failure = exc.result, exc.exit_code, exc
    redactor = _redactor(
        result, redact=not no_redact, extra=redact_extra, keep=keep, good=good_capture, bad=bad_capture
    )
    if failure is not None:
        # The message may quote a response that echoes a secret: redacted like everything else.
        echo_err(f"reqbisect: {redactor.redact_text(failure.format_message())}")
        _explain_expression(result, oracle, redactor)
        _hint_hook(result, hook)
    journal_failures = [str(w.message) for w in caught if w.category.__name__ == "JournalWarning"]
    if result is None:
        return code
    said = {*good_capture.warnings, *bad_capture.warnings}  # printed when they were loaded
    for warning in result.warnings:
        if warning not in said:
            echo_err(f"reqbisect: {warning}")
    _emit(
        result, as_json=as_json, outputs=outputs, redactor=redactor, good=good_capture.document, bad=bad_capture.document
    )
    for message in journal_failures:
        echo_err(f"reqbisect: --journal: {message}; the run went on without it")
    if report_dir:
        _write_report_dir(report_dir, result, redactor=redactor, good=good_capture.document, bad=bad_capture.document)
    return ExitCode.INPUT if journal_failures and code is ExitCode.FOUND else code


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


#: Words of an answer refusing a request for its signature, timestamp or nonce.
_SIGNING = re.compile(r"signature|signed|hmac|timestamp|nonce|replay|expired|clock skew|too old", re.IGNORECASE)


def _hint_hook(result: Result | None, hook: Prepare | None) -> None:
    """Baselines refused for a signature, timestamp or nonce, and no hook: each request must be signed afresh."""
    if hook is not None or result is None or result.outcome != "baselines-failed":
        return
    replies = [reply for reply in (result.baseline_good, result.baseline_bad) if reply is not None]
    if any(reply.status in (400, 401, 403) and _SIGNING.search(reply.text[:4096]) for reply in replies):
        echo_err(
            "reqbisect: hint: the server's answer mentions a signature, timestamp or nonce; if each request "
            "must be signed as it is sent, pass --hook MODULE:FUNCTION to re-sign every request"
        )


def _explain_expression(result: Result | None, oracle: object, redactor: Redactor) -> None:
    """A --good-if/--bad-if that raised on a baseline answer: say so, with the expression and the answer."""
    from reqbisect.expressions import ExpressionOracle

    if result is None or not isinstance(oracle, ExpressionOracle):
        return
    for name, reply in (("GOOD", result.baseline_good), ("BAD", result.baseline_bad)):
        why = oracle.failure(reply) if reply is not None else None
        if why is not None:
            echo_err(f"reqbisect: {name}'s answer: {redactor.redact_text(why)}")


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


def _emit(
    result: Result,
    *,
    as_json: bool,
    redactor: Redactor,
    outputs: Outputs | None = None,
    output: str | None = None,
    report: str | None = None,
    good: Document | None = None,
    bad: Document | None = None,
) -> None:
    """Print the patch (real values: it is for the user's machine) and the JSON, write the
    files, then the human summary on stderr. One redactor serves the summary, ``--json`` and
    the report, so a secret gets the same placeholder in all three; ``good``/``bad`` are the
    original documents, whose secrets it learns too. stdout comes first: a file that
    cannot be written (:class:`~reqbisect.outputs.OutputError`) never loses the result."""
    from reqbisect.report.json import result_to_json
    from reqbisect.report.markdown import render_markdown
    from reqbisect.report.patch import describe_finding

    if outputs is None:  # files not checked by the command (a library caller of this function)
        from reqbisect.outputs import check_outputs

        outputs = check_outputs({"--output": output, "--report": report}, inputs={})
    patch_text = dump_json(result.patch)
    if result.outcome != "baselines-failed" and not as_json:
        click.echo(patch_text)
    if as_json:
        click.echo(dump_json(result_to_json(result, redactor=redactor, good=good, bad=bad)))
    if result.outcome != "baselines-failed":
        s = result.stats
        status = "minimal difference" if result.outcome == "found" else "best so far (not proven minimal)"
        echo_err(f"{status}: {describe_finding(result, good=good, bad=bad, redactor=redactor, limit=8)}")
        if result.other_fixes:
            from reqbisect.report.patch import describe_patch, patch_base

            others = "; ".join(
                describe_patch(p, patch_base(result), redactor=redactor, limit=3) for p in result.other_fixes
            )
            echo_err(f"also seen to fix it alone: {others}; the failure needs them together (--mode break finds all)")
        if result.other_fixes:
            from reqbisect.report.patch import describe_patch, patch_base

            others = "; ".join(
                describe_patch(p, patch_base(result), redactor=redactor, limit=3) for p in result.other_fixes
            )
            echo_err(f"also seen to fix it alone: {others}; the failure needs them together (--mode break finds all)")
        echo_err(
            f"{plural(result.changes, 'change')}; {plural(s.requests, 'request')} ({s.cache_hits} cached, "
            f"{s.unresolved} unresolved), {plural(s.rounds, 'round')}, {s.seconds:.1f}s; "
            f"verified: {'yes' if result.verified else 'no'}"
        )
        if result.oracle:
            minimal = "1-minimal under unresolved-counts-as-no-flip" if result.minimal else "not proven 1-minimal"
            echo_err(f"oracle: {redactor.redact_text(result.oracle)}; {minimal}")
        if result.shrink is not None:
            echo_err(f"shrunk: {result.shrink.summary()}")
        outputs.write("--output", patch_text + "\n")
    outputs.write("--report", render_markdown(result, redactor=redactor, good=good, bad=bad))
