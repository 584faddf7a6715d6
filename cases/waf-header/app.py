"""A catalog search API behind a WAF that blocks spoofed loopback X-Forwarded-For headers.

The WAF answers 403 with an HTML block page when any hop in `x-forwarded-for` is a
loopback address (a well-known trick to pass as an internal caller). Past the WAF, the
API wants a bearer token (401) and a valid query (400).
"""

import ipaddress
import json
import secrets
import time
from urllib.parse import parse_qs

BLOCK_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Attention Required! | Edge Shield</title></head>
<body><h1>Sorry, you have been blocked</h1>
<p>This website is using a security service to protect itself from online attacks.
The action you just performed triggered the security solution.</p>
<p>Ray ID: <code>{ray}</code> &bull; {when} UTC</p></body></html>
"""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = read_headers(scope)
    if spoofs_loopback(headers.get("x-forwarded-for", "")):
        page = BLOCK_PAGE.format(ray=secrets.token_hex(8), when=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
        await respond(send, 403, page.encode(), b"text/html; charset=UTF-8")
        return
    status, payload = search(scope, headers)
    await respond(send, status, json.dumps(payload).encode(), b"application/json")


def spoofs_loopback(forwarded_for):
    for hop in forwarded_for.split(","):
        hop = hop.strip()
        if hop == "localhost":
            return True
        try:
            if ipaddress.ip_address(hop).is_loopback:
                return True
        except ValueError:
            continue
    return False


def search(scope, headers):
    if scope["method"] != "GET" or scope["path"] != "/v2/catalog/search":
        return 404, {"error": "not_found"}
    if not headers.get("authorization", "").startswith("Bearer "):
        return 401, {"error": "unauthorized", "message": "A bearer token is required."}
    query = parse_qs(scope["query_string"].decode("latin-1"))
    q = query.get("q", [""])[0].strip()
    if not q:
        return 400, {"error": "invalid_query", "message": "Parameter 'q' is required."}
    page, per_page = query.get("page", ["1"])[0], query.get("per_page", ["24"])[0]
    if not page.isdigit() or not per_page.isdigit() or not 0 < int(per_page) <= 100:
        return 400, {"error": "invalid_query", "message": "Parameters 'page' and 'per_page' must be positive integers."}
    results = [
        {"id": f"sku_{secrets.token_hex(4)}", "title": f"{q.title()} #{n}", "price": {"amount": 8999 + n * 500, "currency": "EUR"}}
        for n in range(1, 4)
    ]
    return 200, {"request_id": secrets.token_hex(12), "took_ms": int(time.perf_counter() * 1000) % 97, "page": int(page), "results": results}


def read_headers(scope):
    headers = {}
    for name, value in scope["headers"]:
        name, value = name.decode("latin-1"), value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


async def respond(send, status, body, content_type):
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
