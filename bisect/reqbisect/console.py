"""What the command's subcommands share: loading requests, writing output, options, signals.

stdout carries what a command produces (a patch, a request, the JSON result);
stderr carries progress, warnings and the human summary.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from reqbisect._types import JSONValue
from reqbisect.errors import Interrupted, ReqbisectError

if TYPE_CHECKING:
    from reqbisect.document import Capture
    from reqbisect.expressions import ExpressionOracle

T = TypeVar("T")

__all__ = [
    "POSITIVE", "dump_json", "echo_err", "expression_oracle", "load_capture", "new_file", "plural", "request_inputs",
    "until_signal", "write_request",
]


def plural(number: int, noun: str) -> str:
    """``1 round``, ``2 rounds``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def echo_err(text: str) -> None:
    click.echo(text, err=True)


def dump_json(value: JSONValue) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def load_capture(arg: str) -> Capture:
    """Load a request argument; what the loader could not represent exactly goes to stderr."""
    from reqbisect.formats import load_request

    ctx = click.get_current_context(silent=True)
    capture = load_request(arg, env=ctx.meta.get(_ENV_KEY) if ctx else None)
    for warning in capture.warnings:  # each names its source already
        echo_err(f"reqbisect: {warning}")
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


def request_inputs(command: click.Command) -> click.Command:
    """Give a command that loads requests the ``--env`` option and the list of input formats."""
    command.params.append(click.Option(
        ["--env"], metavar="FILE", expose_value=False, callback=_store_env,
        help="Postman environment whose values fill the {{variables}} of Postman collections."))
    command.epilog = _INPUTS
    return command


def write_request(text: str) -> None:
    """Write a rendered request to stdout exactly (binary bodies survive)."""
    click.echo(text.encode("utf-8", "surrogateescape"), nl=not text.endswith("\n"))


def expression_oracle(good_if: str | None, bad_if: str | None) -> ExpressionOracle | None:
    from reqbisect.expressions import Expression, ExpressionOracle

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

    def convert(self, value: float, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


POSITIVE = _Positive()


def new_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A file written during or after the run: its directory must be writable before anything is sent."""
    if value is not None:
        directory = Path(value).absolute().parent
        if not directory.is_dir():
            raise click.BadParameter(f"the directory {str(directory)!r} does not exist")
        if not os.access(directory, os.W_OK):
            raise click.BadParameter(f"the directory {str(directory)!r} is not writable")
    return value


def until_signal(function: Callable[..., Awaitable[T]], *args: object, **options: object) -> T:
    """Await ``function(*args, stop=..., **options)``; SIGINT/SIGTERM set ``stop``, a second one aborts."""
    import signal

    import anyio

    results: list[T] = []
    errors: list[ReqbisectError] = []

    async def main() -> None:
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:
                        if stop.is_set():
                            tg.cancel_scope.cancel()
                            return
                        echo_err("reqbisect: stopping; waiting for the requests in flight (again to abort)")
                        stop.set()

            tg.start_soon(watch)
            try:
                results.append(await function(*args, stop=stop, **options))
            except ReqbisectError as exc:
                errors.append(exc)
            finally:
                tg.cancel_scope.cancel()

    anyio.run(main)
    if errors:
        raise errors[0]
    if not results:
        raise Interrupted("aborted; in-flight requests were abandoned")
    return results[0]
