"""The order API of ``cases/fastapi-validation`` (one app, two scenarios)."""

import runpy
import pathlib

app = runpy.run_path(str(pathlib.Path(__file__).resolve().parent.parent / "fastapi-validation" / "app.py"))["app"]
