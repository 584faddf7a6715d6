"""The command line: a thin shell over the library.

stdout carries the patch (or, with ``--json``, the result object); stderr
carries progress and the human summary. Errors are mapped to exit codes in
one place, :func:`main`: 2 for bad input (one line, no traceback, nothing
sent), 1 when the baselines do not reproduce, 3 when inconclusive, 130 when
interrupted.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from reqbisect import __version__
from reqbisect.errors import BaselineError, Inconclusive, InputError, Interrupted, ReqbisectError

NON_IDEMPOTENT = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _count(number: int, noun: str) -> str:
    """``1 round``, ``2 rounds``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


def _dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _load(arg: str) -> Any:
    """Load a request argument; what the loader could not represent exactly goes to stderr."""
    from reqbisect.formats import load_request

    ctx = click.get_current_context(silent=True)
    capture = load_request(arg, env=ctx.meta.get(_ENV_KEY) if ctx else None)
    for warning in capture.warnings:  # each names its source already
        _echo_err(f"reqbisect: {warning}")
    return capture


# -- what every command that loads requests shares: --env and the list of input formats --

_ENV_KEY = "reqbisect.postman_env"
_INPUTS = (
    "Requests are files (or - for standard input): HAR (file.har#N or file.har#URL-PART), curl commands "
    "(.curl .sh .txt; bash, cmd or PowerShell quoting), raw HTTP (.http), the JSON request document (.json), "
    "PowerShell Invoke-WebRequest/Invoke-RestMethod scripts (.ps1), fetch() calls from Chrome or Firefox (.js), "
    "and Postman collections v2.1 (file.postman_collection.json#Folder/Request or #N, with --env FILE). "
    "The format is sniffed from the content when the extension says nothing."
)


def _store_env(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        from reqbisect.formats.postman import load_environment

        ctx.meta[_ENV_KEY] = load_environment(value)


def _request_inputs(command: click.Command) -> click.Command:
    """Give a command that loads requests the ``--env`` option and the list of input formats."""
    command.params.append(click.Option(
        ["--env"], metavar="FILE", expose_value=False, callback=_store_env,
        help="Postman environment whose values fill the {{variables}} of Postman collections."))
    command.epilog = _INPUTS
    return command


def _write(text: str) -> None:
    """Write a rendered request to stdout exactly (binary bodies survive)."""
    click.echo(text.encode("utf-8", "surrogateescape"), nl=not text.endswith("\n"))


class _Group(click.Group):
    """Maps reqbisect's errors to exit codes, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReqbisectError as exc:
            _echo_err(f"reqbisect: {exc.format_message()}")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            _echo_err("reqbisect: interrupted")
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reqbisect")
def cli() -> None:
    """Find the smallest difference between a good and a bad HTTP request."""


@_request_inputs
@cli.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--stat", is_flag=True, help="One line per area instead of the patch.")
def diff_command(a: str, b: str, stat: bool) -> None:
    """Print the whole patch from A to B; nothing is sent."""
    from reqbisect.diff import diff

    doc_a, doc_b = _load(a).document, _load(b).document
    tree = diff(doc_a, doc_b)
    patch = tree.patch(range(len(tree.changes)))
    if not stat:
        click.echo(_dump_json(patch))
        return
    areas: dict[str, dict[str, int]] = {}
    for op in patch:
        area = op["path"].split("/")[1] if op["path"].count("/") >= 1 else ""
        counts = areas.setdefault(area, {"add": 0, "remove": 0, "replace": 0})
        counts[op["op"]] = counts.get(op["op"], 0) + 1
    for area, counts in areas.items():
        parts = [f"{n} {kind}" for kind, n in counts.items() if n]
        click.echo(f"{area:<10} {', '.join(parts)}")
    click.echo(f"{_count(len(patch), 'operation')}, {_count(len(tree.changes), 'change')}")


@_request_inputs
@cli.command("apply")
@click.argument("request")
@click.argument("patch_file", metavar="PATCH")
@click.option("--to", "fmt", default="json", type=click.Choice(["json", "curl", "http", "har"]), help="Output format.")
def apply_command(request: str, patch_file: str, fmt: str) -> None:
    """Print REQUEST with PATCH applied."""
    import jsonpatch

    from reqbisect.document import validate_document
    from reqbisect.formats import dump

    capture = _load(request)
    patch = _read_patch(patch_file)
    try:
        result = jsonpatch.apply_patch(capture.document, patch)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise InputError(f"the patch does not apply: {exc}", source=patch_file) from None
    document = validate_document(result, source=f"{request} + {patch_file}")
    _write(dump(document, fmt, like=[capture]))


def _read_patch(path: str) -> list[Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the patch: {exc.strerror}", source=path) from None
    try:
        patch = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(exc.msg, source=path, location=f"line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(patch, list) or not all(isinstance(op, dict) and "op" in op and "path" in op for op in patch):
        raise InputError("not an RFC 6902 patch", source=path, expected="a JSON array of operations with op and path")
    return patch


@_request_inputs
@cli.command("convert")
@click.argument("request")
@click.option("--to", "fmt", required=True, type=click.Choice(["json", "curl", "http", "har"]), help="Output format.")
def convert_command(request: str, fmt: str) -> None:
    """Print REQUEST in another format."""
    from reqbisect.formats import dump

    capture = _load(request)
    _write(dump(capture.document, fmt, like=[capture]))


def _expressions(good_if: str | None, bad_if: str | None) -> Any:
    from reqbisect.oracle import Expression, ExpressionOracle

    if good_if is None and bad_if is None:
        return None
    return ExpressionOracle(
        good_if=Expression.parse(good_if, option="--good-if") if good_if is not None else None,
        bad_if=Expression.parse(bad_if, option="--bad-if") if bad_if is not None else None,
    )


class _Positive(click.FloatRange):
    """A finite number above zero (``FloatRange`` alone lets ``nan`` through)."""

    def __init__(self) -> None:
        super().__init__(min=0, min_open=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


POSITIVE = _Positive()


def _new_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A file written during or after the run: its directory must be writable before anything is sent."""
    if value is not None:
        directory = Path(value).absolute().parent
        if not directory.is_dir():
            raise click.BadParameter(f"the directory {str(directory)!r} does not exist")
        if not os.access(directory, os.W_OK):
            raise click.BadParameter(f"the directory {str(directory)!r} is not writable")
    return value


@_request_inputs
@cli.command("send")
@click.argument("request")
@click.option("--good-if", help="Expression over status, headers, text, json, elapsed.")
@click.option("--bad-if", help="Expression over status, headers, text, json, elapsed.")
@click.option("--target", help="Send to this origin instead.")
@click.option("--app", help="Send to an in-process ASGI/WSGI app, module:attr.")
@click.option("--timeout", default=30.0, show_default=True, type=POSITIVE, help="Seconds.")
def send_command(request: str, good_if: str | None, bad_if: str | None, target: str | None, app: str | None, timeout: float) -> None:
    """Send one request; print its status, a short body and its outcome."""
    import anyio

    from reqbisect.document import to_wire
    from reqbisect.oracle import call_oracle
    from reqbisect.transport import open_transport

    oracle = _expressions(good_if, bad_if)
    capture = _load(request)

    async def go() -> Any:
        transport = open_transport(app=app, target=target, timeout=timeout)
        try:
            return await transport.send(to_wire(capture.document, like=[capture]))
        finally:
            await transport.aclose()

    reply = anyio.run(go)
    click.echo(reply.short(400))
    if oracle is not None:
        click.echo(f"outcome: {anyio.run(call_oracle, oracle, reply, capture.document)}")
    if reply.error is not None:
        sys.exit(1)


def _progress_display(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.live import Live

    console = Console(stderr=True)
    live = Live(console=console, transient=True, auto_refresh=False)

    def update(p: Any) -> None:
        live.update(refresh=True, renderable=
            f"[bold]{p.requests}[/] sent, {p.in_flight} in flight · "
            f"[green]{p.good} good[/] [red]{p.bad} bad[/] [yellow]{p.unresolved} unresolved[/] · "
            f"difference {p.size}/{p.total} changes · {p.elapsed:.1f}s"
        )

    return live, update


def _check_redact(values: tuple[str, ...]) -> tuple[str, ...]:
    """Reject a bad ``--redact`` while parsing, before anything is sent (exit 2)."""
    from reqbisect.report.redact import check_extra

    return check_extra(values)


@_request_inputs
@cli.command("run", short_help="Bisect two requests: the smallest patch that flips the answer.")
@click.argument("good")
@click.argument("bad")
@click.option("--mode", type=click.Choice(["fix", "break", "isolate"]), default="fix", show_default=True)
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
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), callback=_new_file,
              help="Write the patch here.")
@click.option("--report", type=click.Path(dir_okay=False, writable=True), callback=_new_file,
              help="Write a Markdown report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON on stdout.")
@click.option("--no-redact", is_flag=True, help="Do not redact secrets in the summary, report and --json.")
@click.option(
    "--redact", "redact_extra", multiple=True, metavar="NAME_OR_POINTER",
    callback=lambda ctx, param, value: _check_redact(value),
    help="Also treat this header/cookie/query/body key name, or everything under this JSON pointer, as a secret.",
)
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
@click.option("--journal", type=click.Path(dir_okay=False), callback=_new_file,
              help="Append every answered request to this file.")
@click.option("--resume", type=click.Path(dir_okay=False), help="Replay a journal: send nothing it already answered.")
@click.option("--yes", is_flag=True, help="Do not ask before sending non-idempotent requests.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def run_command(
    good: str, bad: str, mode: str, good_if: str | None, bad_if: str | None, target: str | None,
    app: str | None, concurrency: int, rate: float | None, timeout: float, retries: int,
    max_requests: int | None, ignore: tuple[str, ...], output: str | None, report: str | None,
    as_json: bool, no_redact: bool, redact_extra: tuple[str, ...], hook: Any, oracle_cmd: str | None,
    max_time: float | None, repeat: int, baseline_repeats: int, follow_redirects: bool, journal: str | None,
    resume: str | None, yes: bool, quiet: bool,
) -> None:
    """Find the smallest patch between GOOD and BAD that flips the server's answer."""
    from reqbisect.diff import diff
    from reqbisect.report.redact import unmatched_extra
    from reqbisect.runner import abisect
    from reqbisect.transport import load_app

    oracle = _command_oracle(oracle_cmd, good_if, bad_if) or _expressions(good_if, bad_if)
    if good.partition("#")[0] == bad.partition("#")[0] == "-":
        raise InputError("GOOD and BAD cannot both be read from standard input", hint="save one of them to a file")
    good_capture, bad_capture = _load(good), _load(bad)
    for pointer in unmatched_extra(redact_extra, (good_capture.document, bad_capture.document)):
        _echo_err(f"reqbisect: --redact {pointer}: neither GOOD nor BAD has it, so it hides nothing")
    app_object = load_app(app) if app else None
    method = {good_capture.document.get("method", "GET"), bad_capture.document.get("method", "GET")}
    if app_object is None and method & NON_IDEMPOTENT and not yes:
        n = len(diff(bad_capture.document, good_capture.document).changes)
        bound = max_requests or _default_bound(n)
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
    options: dict[str, Any] = dict(
        mode=mode, oracle=oracle, app=app_object, target=target, concurrency=concurrency, rate=rate,
        timeout=timeout, retries=retries, max_requests=max_requests, ignore=ignore, progress=update,
        prepare=hook, max_time=max_time, repeat=repeat, baseline_repeats=baseline_repeats,
        follow_redirects=follow_redirects, journal=journal, resume=resume,
    )
    if max_requests is not None and not quiet:
        _echo_err(f"reqbisect: sending at most {max_requests} requests")
    result = None
    code = 0
    failure: ReqbisectError | None = None
    try:
        if live is not None:
            with live:
                result = _until_signal(abisect, good_capture, bad_capture, **options)
        else:
            result = _until_signal(abisect, good_capture, bad_capture, **options)
    except (Inconclusive, BaselineError, Interrupted) as exc:
        result, code, failure = exc.result, exc.exit_code, exc
    redactor = _redactor(result, redact=not no_redact, extra=redact_extra, good=good_capture, bad=bad_capture)
    if failure is not None:
        # The message may quote a response that echoes a secret: redacted like everything else.
        _echo_err(f"reqbisect: {redactor.redact_text(failure.format_message())}")
        _hint_hook(result, hook)
        if result is None:
            sys.exit(code)
    said = {*good_capture.warnings, *bad_capture.warnings}  # printed when they were loaded
    for warning in result.warnings:
        if warning not in said:
            _echo_err(f"reqbisect: {warning}")
    _emit(
        result, as_json=as_json, output=output, report=report, redactor=redactor,
        good=good_capture.document, bad=bad_capture.document,
    )
    sys.exit(code)


def _redactor(result: Any, *, redact: bool, extra: tuple[str, ...], good: Any, bad: Any) -> Any:
    """One numbering of secrets for a run: the same inputs always give the same placeholders."""
    from reqbisect.report.redact import Redactor

    return Redactor.for_result(result, enabled=redact, extra=extra, documents=[good.document, bad.document])


def _until_signal(function: Any, *args: Any, **options: Any) -> Any:
    """Await ``function(*args, stop=..., **options)``; SIGINT/SIGTERM set ``stop``, a second one aborts."""
    import signal

    import anyio

    outcome: dict[str, Any] = {}

    async def main() -> None:
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:
                        if stop.is_set():
                            tg.cancel_scope.cancel()
                            return
                        _echo_err("reqbisect: stopping; waiting for the requests in flight (again to abort)")
                        stop.set()

            tg.start_soon(watch)
            try:
                outcome["result"] = await function(*args, stop=stop, **options)
            except ReqbisectError as exc:
                outcome["error"] = exc
            finally:
                tg.cancel_scope.cancel()

    anyio.run(main)
    if "error" in outcome:
        raise outcome["error"]
    if "result" not in outcome:
        raise Interrupted("aborted; in-flight requests were abandoned")
    return outcome["result"]


def _hint_hook(result: Any, hook: Any) -> None:
    """Baselines refused as unauthorised, and no hook: the requests may need signing afresh."""
    if hook is not None or result is None or result.outcome != "baselines-failed":
        return
    statuses = {reply.status for reply in (result.baseline_good, result.baseline_bad) if reply is not None}
    said = re.findall(r"\b(?:got|answer) \(?(\d{3})\b", result.reason or "")
    if statuses & {401, 403} or {"401", "403"} & set(said):
        _echo_err(
            "reqbisect: hint: if the server checks a signature, timestamp or nonce, each request must be "
            "signed as it is sent: pass --hook MODULE:FUNCTION to re-sign every request"
        )


def _load_hook(spec: str | None) -> Any:
    """Import ``--hook`` while parsing, before anything is sent (exit 2)."""
    from reqbisect.hooks import load_hook

    return load_hook(spec) if spec else None


def _check_oracle_cmd(command: str | None) -> str | None:
    from reqbisect.command_oracle import check_command

    if command is not None:
        check_command(command, option="--oracle-cmd")
    return command


def _command_oracle(command: str | None, good_if: str | None, bad_if: str | None) -> Any:
    from reqbisect.command_oracle import CommandOracle

    if command is None:
        return None
    if good_if is not None or bad_if is not None:
        raise InputError("use either --oracle-cmd or --good-if/--bad-if, not both", source="--oracle-cmd")
    return CommandOracle(command)


def _default_bound(changes: int) -> int:
    """A request budget that the search stays within for ``changes`` changes."""
    return 4 + 4 * max(1, changes) * max(1, math.ceil(math.log2(changes + 1)))


def _origin_of(document: Any) -> str:
    from reqbisect.document import origin

    return origin(document)


def _emit(
    result: Any,
    *,
    as_json: bool,
    output: str | None,
    report: str | None,
    redactor: Any,
    good: Any = None,
    bad: Any = None,
) -> None:
    """Print the patch (real values: it is for the user's machine), the JSON and the report,
    then the human summary on stderr. One redactor serves the summary, ``--json`` and the
    report, so a secret gets the same placeholder in all three; ``good``/``bad`` are the
    original documents, whose secrets it learns too."""
    from reqbisect.report.json import result_to_json
    from reqbisect.report.markdown import render_markdown
    from reqbisect.report.patch import describe_finding
    if result.outcome != "baselines-failed":
        patch_text = _dump_json(result.patch)
        if output:
            Path(output).write_text(patch_text + "\n", encoding="utf-8")
        if not as_json:
            click.echo(patch_text)
    if as_json:
        click.echo(_dump_json(result_to_json(result, redactor=redactor, good=good, bad=bad)))
    if report:
        Path(report).write_text(render_markdown(result, redactor=redactor, good=good, bad=bad), encoding="utf-8")
    if result.outcome == "baselines-failed":
        return
    s = result.stats
    status = "minimal difference" if result.outcome == "found" else "best so far (not proven minimal)"
    _echo_err(f"{status}: {describe_finding(result, good=good, bad=bad, redactor=redactor, limit=8)}")
    _echo_err(
        f"{_count(result.changes, 'change')}; {_count(s.requests, 'request')} ({s.cache_hits} cached, "
        f"{s.unresolved} unresolved), {_count(s.rounds, 'round')}, {s.seconds:.1f}s; "
        f"verified: {'yes' if result.verified else 'no'}"
    )


@cli.command("json", short_help="Bisect two JSON documents with a test command.")
@click.argument("good")
@click.argument("bad")
@click.option(
    "--test", "test_command", required=True, metavar="CMD",
    help="Shell command judging a candidate; {} is replaced by its file (without {}: on stdin). "
    "Exit 0 good, 125 cannot tell, 1..127 bad.",
)
@click.option("--mode", type=click.Choice(["fix", "break", "isolate"]), default="fix", show_default=True)
@click.option("-j", "--concurrency", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Test runs at once (only if runs cannot disturb each other: no shared port, file or database).")
@click.option("--max-requests", type=click.IntRange(2), help="Never run the test more often than this.")
@click.option("--timeout", type=POSITIVE,
              help="Seconds a test run may take; a slower one counts as unresolved.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), callback=_new_file,
              help="Write the patch here.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON on stdout.")
def json_command(
    good: str, bad: str, test_command: str, mode: str, concurrency: int, max_requests: int | None,
    timeout: float | None, output: str | None, as_json: bool,
) -> None:
    """Find the smallest patch between two JSON documents (GOOD passes the test, BAD fails it).

    No HTTP at all: each candidate document is written in the style of its input file
    (indentation, spacing, escaping) and judged by the exit status of CMD, as with
    git bisect run. Example: reqbisect json old.json new.json --test './check {}'
    """
    import tempfile

    from reqbisect.command_oracle import CommandTest, check_command
    from reqbisect.diff import diff
    from reqbisect.documents import abisect_documents

    check_command(test_command, option="--test")
    good_doc, good_text = _read_json(good)
    bad_doc, bad_text = _read_json(bad)
    if not diff(good_doc, bad_doc).changes:
        raise BaselineError("the two documents are equal; there is nothing to bisect")
    base, base_text = (bad, bad_text) if mode == "fix" else (good, good_text)
    name = Path(base).name if base != "-" else "candidate.json"
    code = 0
    with tempfile.TemporaryDirectory(prefix="reqbisect-") as folder:
        test = CommandTest(
            test_command, Path(folder), name=name, dump=_json_style_of(base_text), timeout=timeout
        )
        try:
            result = _until_signal(
                abisect_documents, good_doc, bad_doc, test, mode=mode, concurrency=concurrency,
                max_requests=max_requests,
            )
        except BaselineError as exc:
            raise BaselineError(
                exc.message, source="--test", hint="the command must exit 0 for GOOD and 1..127 (not 125) for BAD"
            ) from None
        except (Inconclusive, Interrupted) as exc:
            result, code = exc.result, exc.exit_code
            _echo_err(f"reqbisect: {exc.format_message()}")
            if result is None:
                sys.exit(code)
    patch_text = _dump_json(result.patch)
    if output:
        Path(output).write_text(patch_text + "\n", encoding="utf-8")
    click.echo(_dump_json(_documents_result_json(result)) if as_json else patch_text)
    status = "minimal difference" if result.outcome == "found" else "best so far (not proven minimal)"
    ops = [f"{op['op']} {op['path']}" for op in result.patch]
    shown = ", ".join(ops[:8]) + (f", and {len(ops) - 8} more" if len(ops) > 8 else "")
    s = result.stats
    _echo_err(f"{status}: {shown or 'no operations'}")
    _echo_err(
        f"{_count(result.changes, 'change')}; {_count(s.requests, 'test run')} ({s.cache_hits} cached, "
        f"{s.unresolved} unresolved), {_count(s.rounds, 'round')}, {s.seconds:.1f}s"
    )
    sys.exit(code)


def _read_json(arg: str) -> tuple[Any, str]:
    """A JSON file (or ``-``): the parsed value and the text (for its style)."""
    from reqbisect.formats.native import parse_json

    try:
        text = sys.stdin.read() if arg == "-" else Path(arg).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=arg) from None
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=arg, location=f"byte {exc.start}") from None
    return parse_json(text, source=arg), text


def _json_style_of(text: str) -> Any:
    """A serialiser that writes JSON the way ``text`` is written."""
    from reqbisect.document import _json_style

    return _json_style(text).dump


def _documents_result_json(result: Any) -> dict[str, Any]:
    """``json --json``: the keys of ``run --json`` that apply to plain documents."""
    from dataclasses import asdict

    from reqbisect.result import SCHEMA_VERSION

    return {
        "schema_version": SCHEMA_VERSION,
        "mode": result.mode,
        "outcome": result.outcome,
        "patch": result.patch,
        "minimal_good": result.minimal_good,
        "minimal_bad": result.minimal_bad,
        "stats": asdict(result.stats),
        "verified": result.verified,
        "minimal": result.minimal,
        "reason": result.reason,
    }


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    """Entry point of the ``reqbisect`` command."""
    cli.main(args=argv, prog_name=prog_name or "reqbisect")
