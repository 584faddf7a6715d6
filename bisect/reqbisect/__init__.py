"""reqbisect: find the smallest difference between a good and a bad HTTP request.

Layout (imports point inward; docs/design.md says more)::

    cli, cli_run, cli_json, console   the command line, a thin shell over the library
    runner, documents       two requests / any two JSON documents -> Result
    pipeline, phases,       one run: baselines -> search -> verification -> conclusion
      verification, conclusion
    options, mode, budget   run settings; what each mode means; the request budget
    judge, plan, driver     documents to votes; a mode's search space; candidates in flight
    sender, transport       retries, pacing, cache; httpx, ASGI and WSGI
    journal                 answered requests on disk, and their replay
    hooks, command_oracle   per-candidate hooks; shell commands as oracles and tests
    report/                 patch summaries, Markdown, JSON, redaction
    formats/                HAR, curl, raw HTTP and native JSON, in and out
    search/                 the pure search core (ddmin, dd), no I/O
    diff, edits, align, tokens   the change tree: walk, apply/render, array alignment, string tokens
    document, wire, codecs, bodies   the request model, exact wire bytes, body codecs
    oracle, outcome, pointer         the judge of replies; verdicts; JSON Pointers
    signature, error_shapes   what an answer says, echoes and volatile values masked; known error shapes
    secret_names            which names hold secrets (for redaction, messages and redirects)

The public API::

    bisect, abisect                       two requests -> Result (sync / async)
    bisect_documents, abisect_documents   any two JSON documents and a test -> Result
    load_request, diff                    a capture -> Capture; two documents -> ChangeTree
    Result, Stats, Progress               what a run found, what it cost, how it goes
    Outcome, Reply                        an oracle's verdict, and what it judges
    CommandOracle, CommandTest, pin_body  shell commands as judges; bytes a hook can sign
    ReqbisectError and subclasses         InputError, BaselineError, Inconclusive, Interrupted

Names are imported lazily so that ``import reqbisect.search`` stays free of
HTTP and event-loop imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Outcome": "reqbisect.outcome",
    "ReqbisectError": "reqbisect.errors",
    "InputError": "reqbisect.errors",
    "BaselineError": "reqbisect.errors",
    "Inconclusive": "reqbisect.errors",
    "Interrupted": "reqbisect.errors",
    "diff": "reqbisect.diff",
    "load_request": "reqbisect.formats",
    "bisect": "reqbisect.runner",
    "abisect": "reqbisect.runner",
    "bisect_documents": "reqbisect.documents",
    "abisect_documents": "reqbisect.documents",
    "Result": "reqbisect.result",
    "Stats": "reqbisect.result",
    "Progress": "reqbisect.phases",
    "Reply": "reqbisect.oracle",
    "CommandOracle": "reqbisect.command_oracle",
    "CommandTest": "reqbisect.command_oracle",
    "pin_body": "reqbisect.hooks",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

# Importing the submodule reqbisect.diff binds it as this package's attribute "diff",
# which would hide the function of that name; importing it here (it is pure and stdlib
# only) and binding the function afterwards makes reqbisect.diff the function for good.
from reqbisect.diff import diff as diff  # noqa: E402

if TYPE_CHECKING:
    # What type checkers see (the "as" re-exports them); at run time __getattr__ imports on first use.
    from reqbisect.command_oracle import CommandOracle as CommandOracle
    from reqbisect.command_oracle import CommandTest as CommandTest
    from reqbisect.errors import BaselineError as BaselineError
    from reqbisect.errors import Inconclusive as Inconclusive
    from reqbisect.errors import InputError as InputError
    from reqbisect.errors import Interrupted as Interrupted
    from reqbisect.errors import ReqbisectError as ReqbisectError
    from reqbisect.formats import load_request as load_request
    from reqbisect.hooks import pin_body as pin_body
    from reqbisect.oracle import Reply as Reply
    from reqbisect.outcome import Outcome as Outcome
    from reqbisect.result import Result as Result
    from reqbisect.result import Stats as Stats
    from reqbisect.phases import Progress as Progress
    from reqbisect.runner import abisect as abisect
    from reqbisect.documents import abisect_documents as abisect_documents
    from reqbisect.runner import bisect as bisect
    from reqbisect.documents import bisect_documents as bisect_documents
else:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'reqbisect' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return __all__
