"""A partner's order-webhook receiver that checks an HMAC-SHA256 signature on every delivery.

Every delivery carries `x-webhook-timestamp` and `x-webhook-signature: sha256=<hex>`, the
HMAC-SHA256 (with the secret both sides share) of `<timestamp>.` followed by the raw body
bytes, exactly as received. A missing signature gets 401 `missing_signature`, a wrong one
401 `bad_signature`. Only then is the payload read: the event type must be known, and the
order amount must be an integer number of cents (422 `invalid_payload` otherwise).

A real receiver also rejects timestamps older than a few minutes (replay protection).
This one only requires the timestamp to be signed, so that the case stays deterministic:
the signature check alone is what every changed request trips over.
"""

import hashlib
import hmac
import json
import secrets

SECRET = b"whsec_5Ft2cQ9zXo7LrV3kPq8N"
EVENT_TYPES = {"order.paid", "order.refunded", "order.cancelled"}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, raw = await read_request(scope, receive)
    status, payload = answer(scope, headers, raw)
    await send_json(send, status, payload)


def answer(scope, headers, raw):
    if scope["method"] != "POST" or scope["path"] != "/hooks/orders":
        return error(404, "not_found", "Unknown endpoint.")
    timestamp, given = headers.get("x-webhook-timestamp"), headers.get("x-webhook-signature")
    if not timestamp or not given:
        return error(401, "missing_signature", "x-webhook-timestamp and x-webhook-signature are required.")
    if not timestamp.isdigit():
        return error(400, "invalid_timestamp", "x-webhook-timestamp must be a Unix time in seconds.")
    expected = "sha256=" + hmac.new(SECRET, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        return error(401, "bad_signature", "The signature does not match the payload.")
    try:
        event = json.loads(raw)
    except ValueError:
        return error(400, "invalid_json", "The body must be a JSON object.")
    if not isinstance(event, dict) or event.get("type") not in EVENT_TYPES:
        return error(422, "unsupported_event", "Unknown event type.")
    order = (event.get("data") or {}).get("order")
    if not isinstance(order, dict) or not isinstance(order.get("id"), str):
        return error(422, "invalid_payload", "data.order with an id is required.")
    amount = order.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        return error(422, "invalid_payload", "data.order.amount must be an integer number of cents.")
    return 200, {"received": True, "delivery": f"dlv_{secrets.token_hex(8)}", "order": order["id"]}


def error(status, code, message):
    return status, {"error": code, "message": message}


async def read_request(scope, receive):
    headers = {}
    for name, value in scope["headers"]:
        name, value = name.decode("latin-1"), value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return headers, body


async def send_json(send, status, payload):
    data = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
    })
    await send({"type": "http.response.body", "body": data})
