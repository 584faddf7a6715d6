"""Re-sign each candidate the way the sender does, just before reqbisect sends it.

Use: `reqbisect run good.json bad.json --app app.py:app --hook hook.py:sign`.

The signature covers the exact body bytes, so the hook first pins the body
(`reqbisect.hooks.pin_body`): the candidate's JSON body is rendered once and sent
as exactly those bytes, and the signature is computed over them. Serialising the
body here with `json.dumps` instead would sign bytes that may not be the ones sent.
"""

import hashlib
import hmac

from reqbisect.hooks import pin_body

SECRET = b"whsec_5Ft2cQ9zXo7LrV3kPq8N"  # the secret shared with the receiver


def signature(timestamp, body):
    """`sha256=<hex>`: HMAC-SHA256 of `<timestamp>.` followed by the body bytes."""
    return "sha256=" + hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(document):
    timestamp = (document.get("headers") or {}).get("x-webhook-timestamp")
    if timestamp is None:
        return document
    pinned, body = pin_body(document)
    pinned["headers"] = {**pinned["headers"], "x-webhook-signature": signature(timestamp, body)}
    return pinned
