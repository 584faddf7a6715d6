"""The public API is exactly ``reqbisect.__all__``: pinned here, documented, visible to type checkers."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import reqbisect

from .conftest import ROOT

PUBLIC = [
    "BaselineError",
    "CommandOracle",
    "CommandTest",
    "Inconclusive",
    "InputError",
    "Interrupted",
    "Outcome",
    "Progress",
    "Reply",
    "ReqbisectError",
    "Result",
    "Stats",
    "abisect",
    "abisect_documents",
    "bisect",
    "bisect_documents",
    "diff",
    "load_request",
    "pin_body",
    "__version__",
]


def test_all_is_pinned() -> None:
    assert reqbisect.__all__ == PUBLIC


def test_every_export_resolves_to_a_documented_object_of_the_package() -> None:
    for name in reqbisect.__all__:
        value = getattr(reqbisect, name)
        if name == "__version__":
            assert isinstance(value, str)
            continue
        assert value.__module__.startswith("reqbisect."), name
        assert value.__name__ == name
        assert inspect.getdoc(value), f"{name} has no docstring"


def test_dir_lists_the_public_api() -> None:
    assert dir(reqbisect) == sorted(reqbisect.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        reqbisect.bisekt  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "bisekt" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_diff_is_the_function_even_after_its_module_is_imported() -> None:
    code = "import reqbisect.diff, reqbisect.runner, reqbisect; print(callable(reqbisect.diff) and reqbisect.diff.__name__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "diff"


def test_type_checkers_see_every_export_where_it_lives() -> None:
    """Each lazy export has an explicit re-export for type checkers, from the same module."""
    tree = ast.parse((ROOT / "bisect" / "reqbisect" / "__init__.py").read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reqbisect"):
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name} is not re-exported (write 'as {alias.name}')"
                seen[alias.name] = node.module
    exports = reqbisect._EXPORTS  # type: ignore[attr-defined]
    assert seen == exports


def test_importing_the_package_imports_no_http_or_event_loop() -> None:
    code = (
        "import sys, reqbisect\n"
        "print(','.join(m for m in ('httpx', 'anyio', 'reqbisect.runner') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == ""
