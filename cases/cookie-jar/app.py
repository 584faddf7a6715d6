"""A Django REST-style endpoint with double-submit CSRF protection.

An authenticated (session cookie) POST must carry an `X-CSRFToken` header equal to the
`csrftoken` cookie; a mismatch is `403 {"detail": "CSRF verification failed"}`. A missing
session, cookie or header, and invalid payloads, get their own errors.
"""

import datetime
import json
import random
import uuid


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, cookies, raw = await read_request(scope, receive)
    status, payload = answer(scope, headers, cookies, raw)
    await send_json(send, status, payload)


def answer(scope, headers, cookies, raw):
    if scope["path"] != "/api/projects/":
        return 404, {"detail": "Not found."}
    if scope["method"] != "POST":
        return 405, {"detail": f'Method "{scope["method"]}" not allowed.'}
    if not cookies.get("sessionid"):
        return 403, {"detail": "Authentication credentials were not provided."}
    if "csrftoken" not in cookies:
        return 403, {"detail": "CSRF Failed: CSRF cookie not set."}
    if "x-csrftoken" not in headers:
        return 403, {"detail": "CSRF Failed: CSRF token missing."}
    if headers["x-csrftoken"] != cookies["csrftoken"]:
        return 403, {"detail": "CSRF verification failed"}
    content_type = headers.get("content-type", "")
    if content_type != "application/json":
        return 415, {"detail": f'Unsupported media type "{content_type}" in request.'}
    try:
        data = json.loads(raw)
    except ValueError:
        return 400, {"detail": "JSON parse error"}
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        return 400, {"name": ["This field is required."]}
    if data.get("visibility", "private") not in ("private", "team", "public"):
        return 400, {"visibility": ["Not a valid choice."]}
    return 201, {
        "id": random.randint(10_000, 99_999),
        "uuid": str(uuid.uuid4()),
        "name": data["name"],
        "visibility": data.get("visibility", "private"),
        "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }


async def read_request(scope, receive):
    headers = {}
    for name, value in scope["headers"]:
        name, value = name.decode("latin-1"), value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    cookies = {}
    for item in headers.get("cookie", "").split(";"):
        name, sep, value = item.strip().partition("=")
        if sep:
            cookies.setdefault(name, value)
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return headers, cookies, body


async def send_json(send, status, payload):
    data = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
    })
    await send({"type": "http.response.body", "body": data})
