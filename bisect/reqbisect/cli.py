"""The command line: a thin shell over the library.

stdout carries the patch (or, with ``--json``, the result object); stderr
carries progress and the human summary. Errors are mapped to exit codes in
one place, :func:`main`: 2 for bad input (one line, no traceback, nothing
sent), 1 when the baselines do not reproduce, 3 when inconclusive, 130 when
interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from reqbisect import __version__
from reqbisect.cli_json import json_command
from reqbisect.cli_log import log_command
from reqbisect.cli_run import MAX_BODY, run_command
from reqbisect.console import (
    POSITIVE, dump_json, echo_err, expression_oracle, load_capture, plural, request_inputs, write_request,
)
from reqbisect.errors import ExitCode, InputError, ReqbisectError

if TYPE_CHECKING:
    from reqbisect._types import Patch
    from reqbisect.oracle import Reply

class _Group(click.Group):
    """The one place that exits: a command's ExitCode, or the code of the error it raised."""

    def invoke(self, ctx: click.Context) -> NoReturn:
        try:
            code = super().invoke(ctx)
        except ReqbisectError as exc:
            echo_err(f"reqbisect: {exc.format_message()}")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            echo_err("reqbisect: interrupted")
            ctx.exit(ExitCode.INTERRUPTED)
        ctx.exit(code if isinstance(code, ExitCode) else ExitCode.FOUND)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reqbisect")
def cli() -> None:
    """Find the smallest difference between a good and a bad HTTP request."""


@request_inputs
@cli.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--stat", is_flag=True, help="One line per area instead of the patch.")
def diff_command(a: str, b: str, stat: bool) -> None:
    """Print the whole patch from A to B; nothing is sent."""
    from reqbisect.diff import diff

    doc_a, doc_b = load_capture(a).document, load_capture(b).document
    tree = diff(doc_a, doc_b)
    patch = tree.patch(range(len(tree.changes)))
    if not stat:
        click.echo(dump_json(patch))
        return
    areas: dict[str, dict[str, int]] = {}
    for op in patch:
        area = op["path"].split("/")[1] if op["path"].count("/") >= 1 else ""
        counts = areas.setdefault(area, {"add": 0, "remove": 0, "replace": 0})
        counts[op["op"]] = counts.get(op["op"], 0) + 1
    for area, counts in areas.items():
        parts = [f"{n} {kind}" for kind, n in counts.items() if n]
        click.echo(f"{area:<10} {', '.join(parts)}")
    click.echo(f"{plural(len(patch), 'operation')}, {plural(len(tree.changes), 'change')}")


@request_inputs
@cli.command("apply")
@click.argument("request")
@click.argument("patch_file", metavar="PATCH")
@click.option("--to", "fmt", default="json", type=click.Choice(["json", "curl", "http", "har"]), help="Output format.")
def apply_command(request: str, patch_file: str, fmt: str) -> None:
    """Print REQUEST with PATCH applied."""
    import jsonpatch

    from reqbisect.document import validate_document
    from reqbisect.formats import dump

    capture = load_capture(request)
    patch = _read_patch(patch_file)
    result = capture.document
    for index, op in enumerate(patch):
        # One operation at a time, so the message names it; never the library's text, which quotes values.
        try:
            result = jsonpatch.apply_patch(result, [op])
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise InputError(
                f"operation {index} ({op['op']} {op['path']}) does not apply to {request}: {_why_not(exc)}",
                source=patch_file, hint="was the patch made for this request?",
            ) from None
    document = validate_document(result, source=f"{request} + {patch_file}")
    write_request(dump(document, fmt, like=[capture]))


def _why_not(exc: Exception) -> str:
    """Why an operation failed, in words that quote no value of the document or the patch."""
    import jsonpatch

    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return "the value there is not the one the test expects"
    if isinstance(exc, jsonpatch.InvalidJsonPatch):
        return "it is not a valid operation (a missing value or from?)"
    if isinstance(exc, jsonpatch.JsonPointerException):
        return "its path (or from) does not exist there"
    return "the path does not exist or cannot take this operation"


def _read_patch(path: str) -> Patch:
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


@request_inputs
@cli.command("convert")
@click.argument("request")
@click.option("--to", "fmt", required=True, type=click.Choice(["json", "curl", "http", "har"]), help="Output format.")
def convert_command(request: str, fmt: str) -> None:
    """Print REQUEST in another format."""
    from reqbisect.formats import dump

    capture = load_capture(request)
    write_request(dump(capture.document, fmt, like=[capture]))


@request_inputs
@cli.command("send")
@click.argument("request")
@click.option("--good-if", help="Expression over status, headers, text, json, elapsed.")
@click.option("--bad-if", help="Expression over status, headers, text, json, elapsed.")
@click.option("--target", help="Send to this origin instead.")
@click.option("--app", help="Send to an in-process ASGI/WSGI app, module:attr.")
@click.option("--timeout", default=30.0, show_default=True, type=POSITIVE, help="Seconds.")
@MAX_BODY
def send_command(
    request: str, good_if: str | None, bad_if: str | None, target: str | None, app: str | None, timeout: float,
    max_body: int,
) -> ExitCode:
    """Send one request; print its status, a short body and its outcome."""
    import anyio

    from reqbisect.wire import to_wire
    from reqbisect.oracle import call_oracle
    from reqbisect.transport import open_transport

    oracle = expression_oracle(good_if, bad_if)
    capture = load_capture(request)

    async def go() -> Reply:
        transport = open_transport(app=app, target=target, timeout=timeout, max_body=max_body)
        try:
            return await transport.send(to_wire(capture.document, like=[capture]))
        finally:
            await transport.aclose()

    reply = anyio.run(go)
    click.echo(reply.short(400))
    if reply.body_read.value == "cut":
        click.echo(f"(body cut: only its first {max_body} bytes were read; raise --max-body to read more)")
    if oracle is not None:
        click.echo(f"outcome: {anyio.run(call_oracle, oracle, reply, capture.document)}")
        why = oracle.failure(reply)
        if why is not None:
            echo_err(f"reqbisect: {why}")
    return ExitCode.BASELINES if reply.error is not None else ExitCode.FOUND


cli.add_command(run_command)
cli.add_command(json_command)
cli.add_command(log_command)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    """Entry point of the ``reqbisect`` command."""
    cli.main(args=argv, prog_name=prog_name or "reqbisect")
