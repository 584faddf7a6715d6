"""The framework cases over a real socket: the FastAPI app served by uvicorn on 127.0.0.1.

``tests/test_cases.py`` runs every case in-process; this runs one of the framework
cases the way a user would meet it, through a real HTTP server, in both modes and
with no ``--good-if``/``--bad-if``.
"""

from __future__ import annotations

import pytest

from reqbisect import abisect

from .conftest import case_expected, case_file, load_case_app, serve

pytestmark = pytest.mark.network


@pytest.mark.parametrize("mode", ["fix", "break"])
async def test_fastapi_case_over_uvicorn_finds_the_expected_patch(mode: str) -> None:
    name = "fastapi-validation"
    expected = case_expected(name)
    patch = expected["patch"] if mode == "fix" else expected["modes"]["break"]["patch"]
    with serve(load_case_app(name)) as server:
        result = await abisect(case_file(name, "good"), case_file(name, "bad"), target=server.url, mode=mode)
        assert result.patch == patch
        assert result.outcome == "found" and result.verified and result.minimal
        assert result.oracle == "status 201 vs 422" and result.warnings == ()
        assert all(target == "/v1/orders" for _, target, _, _ in server.counter.received)
        assert len(server.counter.received) == result.stats.requests


def test_every_framework_case_has_both_variants_and_both_modes() -> None:
    for base in ("fastapi-validation", "graphql-errors"):
        for name in (base, f"{base}-any"):
            expected = case_expected(name)
            assert expected["patch"] and expected["modes"]["break"]["patch"], name
            assert "hook" not in expected, name
