"""A chat "runs" API that cannot process images with a non-standard media type.

Every image block's `source.media_type` must be one of image/jpeg, image/png, image/gif
or image/webp; anything else (such as the common misspelling "image/jpg") gets a bare
`400 "Could not process image"` that names neither the message nor the block. Malformed
messages get validation errors that say where the problem is.
"""

import base64
import binascii
import json
import secrets
import time

MEDIA_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, raw = await read_request(scope, receive)
    status, payload = answer(scope, headers, raw)
    await send_json(send, status, payload)


def answer(scope, headers, raw):
    if scope["method"] != "POST" or not scope["path"].startswith("/v1/threads/") or not scope["path"].endswith("/runs"):
        return error(404, "not_found_error", "Not Found")
    if not headers.get("authorization", "").startswith("Bearer "):
        return error(401, "authentication_error", "Missing bearer token")
    try:
        body = json.loads(raw)
    except ValueError:
        return error(400, "invalid_request_error", "Body is not valid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return error(400, "invalid_request_error", "model: Field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return error(400, "invalid_request_error", "messages: at least one message is required")
    images = []
    for i, message in enumerate(messages):
        problem, found = check_message(message, f"messages.{i}")
        if problem:
            return error(400, "invalid_request_error", problem)
        images += found
    if any(source["media_type"] not in MEDIA_TYPES for source in images):
        return error(400, "invalid_request_error", "Could not process image")
    return 200, {
        "id": "run_" + secrets.token_hex(12),
        "created_at": time.time(),
        "status": "completed",
        "output": [{"type": "text", "text": "The receipt total is 42.80 EUR; it is within policy."}],
        "usage": {"input_tokens": len(raw) // 4, "output_tokens": 17},
    }


def check_message(message, where):
    """(problem or None, image sources) for one message."""
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        return f"{where}.role: Input should be 'user' or 'assistant'", []
    content = message.get("content")
    if isinstance(content, str):
        return None, []
    if not isinstance(content, list) or not content:
        return f"{where}.content: Input should be a non-empty list", []
    sources = []
    for j, block in enumerate(content):
        at = f"{where}.content.{j}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            continue
        if kind != "image":
            return f"{at}: Input should be a valid text or image block", []
        if message["role"] != "user":
            return f"{at}: Image blocks are only allowed in user messages", []
        source = block.get("source")
        if not isinstance(source, dict) or source.get("type") != "base64" or not isinstance(source.get("media_type"), str):
            return f"{at}.source: Field required", []
        try:
            base64.b64decode(source.get("data", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            return f"{at}.source.data: Invalid base64 data", []
        sources.append(source)
    return None, sources


def error(status, kind, message):
    return status, {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_" + secrets.token_hex(10)}


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
