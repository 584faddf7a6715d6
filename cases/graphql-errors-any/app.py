"""The GraphQL API of ``cases/graphql-errors`` (one app, two scenarios)."""

import runpy
import pathlib

app = runpy.run_path(str(pathlib.Path(__file__).resolve().parent.parent / "graphql-errors" / "app.py"))["app"]
