"""Per-candidate hooks: a function applied to every request document just before it is sent.

Some servers reject any request that was not freshly made by its client: the body
carries an HMAC signature, a timestamp must be recent, a nonce must be new. Every
candidate reqbisect builds changes the request, so every one of them would fail that
check and be judged unresolved. A *hook* (``prepare=`` in the library, ``--hook
module:function`` on the command line) repairs each candidate on its way out: it is
given the candidate document and returns the document to send, sync or async.

A hook runs for the baselines, every candidate and the verification requests alike.
It must be deterministic in what matters to the server, or the search sees a flaky
server. It sees and returns request documents (docs/design.md, "The request document"),
never bytes; :func:`pin_body` is how a hook gets hold of the exact body bytes that
will be sent, which is what a signature has to cover.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Union

from reqbisect._types import Document
from reqbisect.wire import to_wire

__all__ = ["Prepare", "load_hook", "pin_body"]

#: A hook: candidate document -> the document to send, sync or async.
Prepare = Callable[[Document], Union[Document, Awaitable[Document]]]


def load_hook(spec: str, *, option: str = "--hook") -> Prepare:
    """Import a hook given as ``module:function`` or ``path/to/file.py:function``.

    Args:
        spec: where the hook lives, as for ``--app``.
        option: the option named in error messages.

    Returns:
        The callable.

    Raises:
        InputError: the module or function cannot be found, or is not callable.
    """
    from reqbisect.transport import load_app

    hook = load_app(
        spec, option=option, example="hooks:sign or path/hook.py:sign",
        thing="function taking and returning a request document",
    )
    prepare: Prepare = hook
    return prepare


def pin_body(document: Document) -> tuple[Document, bytes]:
    """Fix a document's body to exact bytes, and return those bytes.

    reqbisect rebuilds a changed body in the style of the capture it came from
    (JSON spacing and escaping, form encoding; docs/design.md, "Fidelity"), so bytes a
    hook serialises on its own may differ from the bytes that go out. A hook that
    signs the body pins it first: the body is rendered once and stored as
    ``body_base64``, which is sent exactly as it is.

    Args:
        document: a request document.

    Returns:
        ``(pinned, body)``: a new document whose body is ``body_base64``, and the
        body bytes as they go on the wire (after any ``content-encoding``). A
        document whose body is already ``body_base64``, or that has none, is
        returned as it is.
    """
    if "body" not in document:
        return document, to_wire(document).body
    wire = to_wire(_without_coding(document))
    pinned = {key: value for key, value in document.items() if key != "body"}
    pinned["body_base64"] = base64.b64encode(wire.body).decode("ascii")
    content_type = next((value for name, value in wire.headers if name.lower() == "content-type"), None)
    if content_type is not None and "content-type" in (document.get("headers") or {}):
        # A rebuilt multipart body names its boundary in the header.
        pinned["headers"] = {**document["headers"], "content-type": content_type}
    return pinned, to_wire(pinned).body


def _without_coding(document: Document) -> Document:
    """The document without ``content-encoding``, so that its body renders uncompressed."""
    headers = {name: value for name, value in (document.get("headers") or {}).items() if name != "content-encoding"}
    return {**document, "headers": headers}
