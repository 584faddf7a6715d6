"""The shop's GraphQL API (``shop.py``), loaded as a registered module as strawberry needs."""

import importlib.util
import pathlib
import sys

_NAME = "_case_graphql_errors_shop"

if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, pathlib.Path(__file__).resolve().parent / "shop.py")
    assert _spec is not None and _spec.loader is not None
    sys.modules[_NAME] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_NAME])

app = sys.modules[_NAME].app
