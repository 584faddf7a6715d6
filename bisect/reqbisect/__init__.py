"""reqbisect: find the smallest difference between a good and a bad HTTP request.

Layout (imports point inward)::

    cli                     the command line, a thin shell over the library
    runner, transport       sending candidates: concurrency, retries, cache, apps
    report/                 patch summaries, Markdown, curl repros, redaction
    formats/                HAR, curl, raw HTTP and native JSON, in and out
    search/                 the pure search core (ddmin, dd), no I/O
    diff, document, oracle  the change tree, the request model, the judge

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
    "bisect_documents": "reqbisect.runner",
    "abisect_documents": "reqbisect.runner",
    "Result": "reqbisect.result",
    "Stats": "reqbisect.result",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:
    from reqbisect.diff import diff
    from reqbisect.errors import BaselineError, Inconclusive, InputError, Interrupted, ReqbisectError
    from reqbisect.formats import load_request
    from reqbisect.outcome import Outcome
    from reqbisect.result import Result, Stats
    from reqbisect.runner import abisect, abisect_documents, bisect, bisect_documents


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reqbisect' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
