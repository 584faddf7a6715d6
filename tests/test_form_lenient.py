"""Urlencoded form bodies that are not valid percent-encoding (``discount=50%``).

Pages that build a body by string concatenation send a bare ``%``. Such a value stays a
field of its own, kept as written: the diff names the field, and the request goes out
with the capture's bytes, as a real server on 127.0.0.1 receives them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import reqbisect
from reqbisect.diff import diff
from tests.conftest import serve

FORM = "application/x-www-form-urlencoded"


def capture(body: str) -> Any:
    return reqbisect.load_request(f"curl -X POST http://127.0.0.1:1/order -H 'content-type: {FORM}' --data-raw '{body}'")


def test_a_bare_percent_keeps_the_fields_apart() -> None:
    doc = capture("discount=50%&name=a%20b&bad=%E9%zz&latin=%E9").document
    assert doc["body"] == {"discount": "50%", "name": "a b", "bad": "%E9%zz", "latin": "%E9"}


def test_the_diff_names_the_field_with_the_bare_percent() -> None:
    good, bad = capture("discount=50%&name=a&n=1"), capture("discount=40%&name=a&n=1")
    tree = diff(bad.document, good.document)
    assert [c.summary for c in tree.changes] == ['replace /body/discount: "40%" -> "50%"']


async def shop(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = (await receive()).get("body", b"")
    good = b"discount=50%&" in body
    await send({"type": "http.response.start", "status": 200 if good else 400,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok" if good else b"no discount"})


def test_fix_mode_sends_the_raw_field_byte_for_byte(tmp_path: Path) -> None:
    with serve(shop) as served:
        for name, body in (("good", "discount=50%&name=a&n=1"), ("bad", "discount=40%&name=b&n=1&x=%zz")):
            (tmp_path / f"{name}.curl").write_text(
                f"curl {served.url}/order -H 'content-type: {FORM}' --data-raw '{body}'\n")
        result = reqbisect.bisect(tmp_path / "good.curl", tmp_path / "bad.curl")
        bodies = {body for _, _, _, body in served.counter.received}
    assert result.patch == [{"op": "replace", "path": "/body/discount", "value": "50%"}]
    assert b"discount=40%&name=b&n=1&x=%zz" in bodies  # BAD as captured
    assert b"discount=50%&name=b&n=1&x=%zz" in bodies  # the answer, with every other field as written
    assert not any(b"%25" in body for body in bodies)
