"""A shop's product API behind a bot manager that scores the order of header lines.

Browsers send their headers in a fixed order; Chrome sends ``user-agent`` before
``accept``. A script that copies a browser's headers into a dict and lets its HTTP
library send them puts the library's own ``Accept``/``Accept-Encoding`` first. The
bot manager answers such a request 403 with its block page (an incident id and a
time), whatever the headers say. A request without a user agent is refused first (400).
Past the bot manager, the API wants a session cookie (401) and a ``category`` (400).
"""

import json
import secrets
import time
from urllib.parse import parse_qs

BLOCK_PAGE = """<!DOCTYPE html>
<html><head><title>Access denied</title></head>
<body><h1>Access denied</h1><p>Your request looks automated.</p>
<p>Incident {incident} &middot; {when} UTC</p></body></html>
"""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    names = [name.decode("latin-1") for name, _ in scope["headers"]]
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    if "user-agent" not in names:
        await respond(send, 400, b'{"error": "bad_request", "message": "A User-Agent header is required."}',
                      b"application/json")
        return
    if looks_automated(names):
        page = BLOCK_PAGE.format(incident=secrets.token_hex(6), when=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
        await respond(send, 403, page.encode(), b"text/html; charset=utf-8")
        return
    status, payload = products(scope, headers)
    await respond(send, status, json.dumps(payload).encode(), b"application/json")


def looks_automated(names):
    """A browser's user-agent line comes before its accept line."""
    return "accept" in names and names.index("accept") < names.index("user-agent")


def products(scope, headers):
    if scope["method"] != "GET" or scope["path"] != "/api/v2/products":
        return 404, {"error": "not_found"}
    cookies = dict(part.strip().split("=", 1) for part in headers.get("cookie", "").split(";") if "=" in part)
    if not cookies.get("shop_session"):
        return 401, {"error": "unauthorized", "message": "Sign in to see prices."}
    category = parse_qs(scope["query_string"].decode("latin-1")).get("category", [""])[0]
    if not category:
        return 400, {"error": "invalid_query", "message": "Parameter 'category' is required."}
    items = [{"sku": "LMP-204", "name": "Brass desk lamp", "price": 89.0, "currency": cookies.get("currency", "EUR")}]
    return 200, {"request_id": secrets.token_hex(8), "category": category, "items": items}


async def respond(send, status, body, content_type):
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": body})
