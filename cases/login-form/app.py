"""A Rails/Devise-style sign-in form that rejects posts without a CSRF token.

`POST /users/sign_in` (urlencoded form) must carry the hidden `authenticity_token` field
that the sign-in page embeds (64 bytes, url-safe base64); without it the answer is
`422 "Can't verify CSRF token authenticity."`. Missing credentials get 400, wrong ones
401, another content type 415.
"""

import base64
import binascii
import datetime
import json
import secrets
from urllib.parse import parse_qs

USERS = {"dana@example.com": ("correct horse battery staple", 4812)}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, raw = await read_request(scope, receive)
    status, payload = answer(scope, headers, raw)
    extra = [(b"set-cookie", f"_app_session={secrets.token_urlsafe(24)}; path=/; HttpOnly".encode())] if status == 200 else []
    await send_json(send, status, payload, extra)


def answer(scope, headers, raw):
    if scope["method"] != "POST" or scope["path"] != "/users/sign_in":
        return 404, {"status": 404, "error": "Not Found"}
    if headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
        return 415, {"status": 415, "error": "Unsupported Media Type"}
    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    if not token_ok(form.get("authenticity_token", [])):
        return 422, {"status": 422, "error": "Unprocessable Entity", "message": "Can't verify CSRF token authenticity."}
    email, password = form.get("user[email]", [""])[-1], form.get("user[password]", [""])[-1]
    if not email or not password:
        return 400, {"status": 400, "error": "Bad Request", "message": "param is missing or the value is empty: user"}
    if USERS.get(email, (None,))[0] != password:
        return 401, {"error": "Invalid Email or password."}
    return 200, {
        "id": USERS[email][1],
        "email": email,
        "remember_me": form.get("user[remember_me]", ["0"])[-1] == "1",
        "signed_in_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "session_token": secrets.token_hex(16),
    }


def token_ok(values):
    if len(values) != 1:
        return False
    try:
        return len(base64.urlsafe_b64decode(values[0].encode())) == 64
    except (binascii.Error, ValueError):
        return False


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


async def send_json(send, status, payload, extra_headers=()):
    data = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(data)).encode()), *extra_headers],
    })
    await send({"type": "http.response.body", "body": data})
