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
import sys
from pathlib import Path
from typing import Any

import click

from reqbisect import __version__
from reqbisect.errors import BaselineError, Inconclusive, InputError, Interrupted, ReqbisectError

NON_IDEMPOTENT = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


def _dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _load(arg: str) -> Any:
    from reqbisect.formats import load_request

    return load_request(arg)


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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reqbisect")
def cli() -> None:
    """Find the smallest difference between a good and a bad HTTP request."""


@cli.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--stat", is_flag=True, help="One line per area instead of the patch.")
def diff_command(a: str, b: str, stat: bool) -> None:
    """Print the whole patch from request A to request B (nothing is sent)."""
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
    click.echo(f"{len(patch)} operations, {len(tree.changes)} changes")


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
    click.echo(dump(document, fmt, like=[capture]).rstrip("\n"))


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


@cli.command("convert")
@click.argument("request")
@click.option("--to", "fmt", required=True, type=click.Choice(["json", "curl", "http", "har"]), help="Output format.")
def convert_command(request: str, fmt: str) -> None:
    """Print REQUEST in another format."""
    from reqbisect.formats import dump

    capture = _load(request)
    click.echo(dump(capture.document, fmt, like=[capture]).rstrip("\n"))


def _expressions(good_if: str | None, bad_if: str | None) -> Any:
    from reqbisect.oracle import Expression, ExpressionOracle

    if good_if is None and bad_if is None:
        return None
    return ExpressionOracle(
        good_if=Expression.parse(good_if, option="--good-if") if good_if is not None else None,
        bad_if=Expression.parse(bad_if, option="--bad-if") if bad_if is not None else None,
    )


@cli.command("send")
@click.argument("request")
@click.option("--good-if", help="Expression over status, headers, text, json, elapsed.")
@click.option("--bad-if", help="Expression over status, headers, text, json, elapsed.")
@click.option("--target", help="Send to this origin instead.")
@click.option("--app", help="Send to an in-process ASGI/WSGI app, module:attr.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds.")
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
    live = Live(console=console, transient=True, refresh_per_second=8)

    def update(p: Any) -> None:
        live.update(
            f"[bold]{p.requests}[/] sent, {p.in_flight} in flight · "
            f"[green]{p.good} good[/] [red]{p.bad} bad[/] [yellow]{p.unresolved} unresolved[/] · "
            f"difference {p.size}/{p.total} changes · {p.elapsed:.1f}s"
        )

    return live, update


@cli.command("run")
@click.argument("good")
@click.argument("bad")
@click.option("--mode", type=click.Choice(["fix", "break", "isolate"]), default="fix", show_default=True)
@click.option("--good-if", help="Expression that holds for a good response (status, headers, text, json, elapsed).")
@click.option("--bad-if", help="Expression that holds for a bad response.")
@click.option("--target", help="Send every candidate to this origin (scheme://host:port).")
@click.option("--app", help="Send to an in-process ASGI/WSGI app: module:attr or path/app.py:attr.")
@click.option("-j", "--concurrency", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="Requests per second at most.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--retries", default=2, show_default=True, type=click.IntRange(0, 10))
@click.option("--max-requests", type=click.IntRange(2), help="Never send more requests than this.")
@click.option("--ignore", multiple=True, metavar="POINTER", help="Keep BAD's value under this JSON pointer.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the patch here.")
@click.option("--report", type=click.Path(dir_okay=False, writable=True), help="Write a Markdown report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON on stdout.")
@click.option("--no-redact", is_flag=True, help="Do not redact secrets in the summary, report and --json.")
@click.option("--yes", is_flag=True, help="Do not ask before sending non-idempotent requests.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def run_command(
    good: str, bad: str, mode: str, good_if: str | None, bad_if: str | None, target: str | None,
    app: str | None, concurrency: int, rate: float | None, timeout: float, retries: int,
    max_requests: int | None, ignore: tuple[str, ...], output: str | None, report: str | None,
    as_json: bool, no_redact: bool, yes: bool, quiet: bool,
) -> None:
    """Find the smallest patch between GOOD and BAD that flips the server's answer."""
    from reqbisect.diff import diff
    from reqbisect.runner import bisect
    from reqbisect.transport import load_app

    oracle = _expressions(good_if, bad_if)
    good_capture, bad_capture = _load(good), _load(bad)
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
    )
    result = None
    code = 0
    try:
        if live is not None:
            with live:
                result = bisect(good_capture, bad_capture, **options)
        else:
            result = bisect(good_capture, bad_capture, **options)
    except (Inconclusive, BaselineError, Interrupted) as exc:
        result, code = exc.result, exc.exit_code
        _echo_err(f"reqbisect: {exc.format_message()}")
        if result is None:
            sys.exit(code)
    _emit(result, as_json=as_json, output=output, report=report, redact=not no_redact)
    sys.exit(code)


def _default_bound(changes: int) -> int:
    """A request budget that the search stays within for ``changes`` changes."""
    return 4 + 4 * max(1, changes) * max(1, math.ceil(math.log2(changes + 1)))


def _origin_of(document: Any) -> str:
    from reqbisect.document import origin

    return origin(document)


def _emit(result: Any, *, as_json: bool, output: str | None, report: str | None, redact: bool) -> None:
    from reqbisect.report.patch import describe_patch, describe_reply

    if result.outcome != "baselines-failed":
        patch_text = _dump_json(result.patch)
        if output:
            Path(output).write_text(patch_text + "\n", encoding="utf-8")
        if not as_json:
            click.echo(patch_text)
    if as_json:
        click.echo(_dump_json(result.to_json(redact=redact)))
    if report:
        Path(report).write_text(result.to_markdown(redact=redact), encoding="utf-8")
    if result.outcome == "baselines-failed":
        return
    base = result.minimal_bad if result.mode != "break" else result.minimal_good
    words = describe_patch(result.patch, base)
    flip = f'turns {describe_reply(result.baseline_bad)} into {describe_reply(result.baseline_good)}'
    if result.mode == "break":
        flip = f'turns {describe_reply(result.baseline_good)} into {describe_reply(result.baseline_bad)}'
    s = result.stats
    status = "minimal difference" if result.outcome == "found" else "best so far (not proven minimal)"
    _echo_err(f"{status}: {words} {flip}")
    _echo_err(
        f"{result.changes} changes; {s.requests} requests ({s.cache_hits} cached, {s.unresolved} unresolved), "
        f"{s.rounds} rounds, {s.seconds:.1f}s; verified: {'yes' if result.verified else 'no'}"
    )


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    """Entry point of the ``reqbisect`` command."""
    cli.main(args=argv, prog_name=prog_name or "reqbisect")
