"""The package's modules import each other without a cycle.

Imports point inward (``cli -> runner/report/formats -> search/diff/document/oracle``),
so the graph of who imports whom must be acyclic. Every ``import`` and ``from ... import``
of a ``reqbisect`` module counts, inside functions too, since a deferred import only
hides a cycle until someone calls the function. Imports under ``if TYPE_CHECKING:`` do
not count: they never run. Neither do the lazy exports of ``reqbisect/__init__.py``,
which name modules as strings.

How names resolve: ``import a.b`` and ``from a.b import c`` are edges to ``a.b``, except
that ``from a.b import c`` is an edge to ``a.b.c`` when that is a module. Relative imports
resolve against the importing module's package. A package's ``__init__`` is the module
named after the package. Importing ``a.b.c`` also runs ``a/b/__init__.py``, but that is
not counted: a package that imports its own submodules would otherwise always cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

from .conftest import ROOT

SOURCE = ROOT / "bisect"


def _module_names(source: Path, package: str) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    names = {}
    for path in sorted((source / package).rglob("*.py")):
        parts = path.relative_to(source).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run, at any depth, skipping ``if TYPE_CHECKING:`` bodies."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
        return
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.stmt] | Iterator[ast.AST] = node.orelse
    else:
        children = ast.iter_child_nodes(node)
    for child in children:
        yield from _imports(child)


def import_graph(source: Path = SOURCE, package: str = "reqbisect") -> dict[str, set[str]]:
    """Module name -> the modules of ``package`` (found under ``source``) it imports."""
    modules = _module_names(source, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        home = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = home.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that starts and ends at the same module, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found is not None:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found is not None:
                return found
    return None


def test_find_cycle_reports_a_cycle_and_accepts_a_tree() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_graph_counts_what_runs_and_resolves_relative_and_package_imports(tmp_path: Path) -> None:
    files = {
        "__init__.py": "import importlib\nfrom .a import run\ndef __getattr__(name):\n"
                       "    return importlib.import_module('pkg.b')\n",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n"
                "else:\n    import pkg.c\ndef run():\n    from . import sub\n",
        "b.py": "import os\nfrom pkg.sub.d import D\n",
        "c.py": "",
        "sub/__init__.py": "from .. import c\n",
        "sub/d.py": "from ..c import C\nfrom .. import b as same\n",
    }
    for name, text in files.items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_text(text, encoding="utf-8")
    assert import_graph(tmp_path, "pkg") == {
        "pkg": {"pkg.a"},  # the lazy __getattr__ names its module as a string: no edge
        "pkg.a": {"pkg.c", "pkg.sub"},  # the else of TYPE_CHECKING and the import in a function count
        "pkg.b": {"pkg.sub.d"},
        "pkg.c": set(),
        "pkg.sub": {"pkg.c"},
        "pkg.sub.d": {"pkg.c", "pkg.b"},
    }


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


#: Modules stay readable in one sitting (h11, httpcore: a few hundred lines each).
MAX_LINES = 400


def test_no_module_is_longer_than_400_lines() -> None:
    package = ROOT / "bisect" / "reqbisect"
    long = {
        str(path.relative_to(package)): n
        for path in package.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by job: {long}"
