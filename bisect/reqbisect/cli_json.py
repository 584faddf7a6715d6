"""``reqbisect json``: bisect two JSON documents with a test command, as git bisect run does."""

from __future__ import annotations

import sys
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from reqbisect.console import POSITIVE, dump_json, echo_err, new_file, plural, until_signal
from reqbisect.errors import BaselineError, ExitCode, Inconclusive, InputError, Interrupted
from reqbisect.mode import Mode

if TYPE_CHECKING:
    from reqbisect._types import JSONObject, JSONValue
    from reqbisect.result import Result

__all__ = ["json_command"]


@click.command("json", short_help="Bisect two JSON documents with a test command.")
@click.argument("good")
@click.argument("bad")
@click.option(
    "--test", "test_command", required=True, metavar="CMD",
    help="Shell command judging a candidate; {} is replaced by its file (without {}: on stdin). "
    "Exit 0 good, 125 cannot tell, 1..127 bad.",
)
@click.option("--mode", type=click.Choice([mode.value for mode in Mode]), default=Mode.FIX.value, show_default=True)
@click.option("-j", "--concurrency", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Test runs at once (only if runs cannot disturb each other: no shared port, file or database).")
@click.option("--max-requests", type=click.IntRange(2), help="Never run the test more often than this.")
@click.option("--timeout", type=POSITIVE,
              help="Seconds a test run may take; a slower one counts as unresolved.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), callback=new_file,
              help="Write the patch here.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
def json_command(
    good: str, bad: str, test_command: str, mode: str, concurrency: int, max_requests: int | None,
    timeout: float | None, output: str | None, as_json: bool, quiet: bool,
) -> ExitCode:
    """Find the smallest patch between two JSON documents (GOOD passes the test, BAD fails it).

    No HTTP at all: each candidate document is written in the style of its input file
    (indentation, spacing, escaping) and judged by the exit status of CMD, as with
    git bisect run. Example: reqbisect json old.json new.json --test './check {}'
    """
    import tempfile

    from reqbisect.command_oracle import CommandTest, check_command
    from reqbisect.diff import diff
    from reqbisect.documents import abisect_documents

    from reqbisect.outputs import check_outputs
    from reqbisect.progress import ProgressDisplay

    check_command(test_command, option="--test")
    good_doc, good_text = _read_json(good)
    bad_doc, bad_text = _read_json(bad)
    outputs = check_outputs({"--output": output}, inputs={"GOOD": good, "BAD": bad})
    click.get_current_context().call_on_close(outputs.discard_unwritten)  # however the command ends
    if not diff(good_doc, bad_doc).changes:
        raise BaselineError("the two documents are equal; there is nothing to bisect")
    base, base_text = Mode(mode).base.pick((good, good_text), (bad, bad_text))
    name = Path(base).name if base != "-" else "candidate.json"
    code = ExitCode.FOUND
    with tempfile.TemporaryDirectory(prefix="reqbisect-") as folder:
        test = CommandTest(
            test_command, Path(folder), name=name, dump=_json_style_of(base_text), timeout=timeout
        )
        try:
            with ProgressDisplay(quiet=quiet, noun="test run") as display:
                result = until_signal(
                    abisect_documents, good_doc, bad_doc, test, mode=mode, concurrency=concurrency,
                    max_requests=max_requests, progress=display.callback,
                )
        except BaselineError as exc:
            slow = f"; {plural(test.tally.timed_out, 'test run')} timed out after {timeout:g}s" if timeout else ""
            raise BaselineError(
                exc.message + (slow if test.tally.timed_out else ""), source="--test",
                hint="raise --timeout, or make the test faster" if test.tally.timed_out
                else "the command must exit 0 for GOOD and 1..127 (not 125) for BAD",
            ) from None
        except (Inconclusive, Interrupted) as exc:
            result, code = exc.result, exc.exit_code
            echo_err(f"reqbisect: {exc.format_message()}")
            if result is None:
                return code
    if test.tally.timed_out and timeout:
        echo_err(
            f"reqbisect: {plural(test.tally.timed_out, 'test run')} timed out after {timeout:g}s (--timeout) "
            "and counted as unresolved"
        )
    patch_text = dump_json(result.patch)
    click.echo(dump_json(_documents_result_json(result)) if as_json else patch_text)
    status = "minimal difference" if result.outcome == "found" else "best so far (not proven minimal)"
    ops = [f"{op['op']} {op['path']}" for op in result.patch]
    shown = ", ".join(ops[:8]) + (f", and {len(ops) - 8} more" if len(ops) > 8 else "")
    s = result.stats
    echo_err(f"{status}: {shown or 'no operations'}")
    echo_err(
        f"{plural(result.changes, 'change')}; {plural(s.requests, 'test run')} ({s.cache_hits} cached, "
        f"{s.unresolved} unresolved), {plural(s.rounds, 'round')}, {s.seconds:.1f}s"
    )
    outputs.write("--output", patch_text + "\n")
    return code


def _read_json(arg: str) -> tuple[JSONValue, str]:
    """A JSON file (or ``-``): the parsed value and the text (for its style)."""
    from reqbisect.formats.native import parse_json

    try:
        text = sys.stdin.read() if arg == "-" else Path(arg).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=arg) from None
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=arg, location=f"byte {exc.start}") from None
    return parse_json(text, source=arg), text


def _json_style_of(text: str) -> Callable[[JSONValue], str]:
    """A serialiser that writes JSON the way ``text`` is written."""
    from reqbisect.wire import json_style

    return json_style(text).dump


def _documents_result_json(result: Result) -> JSONObject:
    """``json --json``: the keys of ``run --json`` that apply to plain documents."""
    from dataclasses import asdict

    from reqbisect.report.json import SCHEMA_VERSION

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
