"""An outdoor shop's stock API behind a CDN whose firewall blocks browsers that speak HTTP/1.x.

Every browser of the last years reaches this CDN over HTTP/2. The shop's firewall has a
custom rule that blocks what claims to be a browser but arrives over HTTP/1.0 or 1.1,
the mark of a script that copied a browser's headers (its partners' HTTP/1.1 API
clients send their own user agents and pass)::

    (http.request.version in {"HTTP/1.0" "HTTP/1.1"} and http.user_agent contains "Mozilla/")

A blocked request gets the CDN's block page (``403``, a Ray ID and the client's
address). Past the firewall, the shop's Django REST framework view answers with its
own errors: an ``Accept`` without JSON gets ``406``, a request without a session
``403``, an unknown product ``404``.

Served by hypercorn over TLS, offering ``h2`` and ``http/1.1`` by ALPN (the app reads the
version the client chose from ``scope["http_version"]``); an app called in-process has no
version to choose. ``tests/servers.py`` starts it with a ``trustme`` certificate.
"""

import json
import secrets
import time
from urllib.parse import parse_qs

BLOCK_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head><title>Attention Required! | Cloudflare</title><meta charset="UTF-8" /></head>
<body>
<div id="cf-wrapper"><div id="cf-error-details" class="cf-error-details-wrapper">
<h1 data-translate="block_headline">Sorry, you have been blocked</h1>
<h2 class="cf-subheadline">You are unable to access trailhead-outfitters.example</h2>
<p>This website is using a security service to protect itself from online attacks. The action you just
performed triggered the security solution.</p>
<div class="cf-error-footer"><p>Cloudflare Ray ID: <strong class="font-semibold">{ray}</strong> &bull;
Your IP: <span id="cf-footer-ip">{ip}</span> &bull; Performance &amp; security by Cloudflare</p></div>
</div></div>
</body>
</html>
"""

STOCK = {
    "TRL-4471": {"name": "Ridgeline 45 L backpack", "stores": {"berlin-mitte": 3, "hamburg-altona": 0, "munich-sendling": 7}},
}


async def tls_app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    if scope["http_version"] in ("1.0", "1.1") and "Mozilla/" in headers.get("user-agent", ""):
        ray = f"{secrets.randbelow(9) + 1}{secrets.token_hex(7)}-FRA"
        page = BLOCK_PAGE.format(ray=ray, ip=(scope.get("client") or ("127.0.0.1",))[0])
        await respond(send, 403, page.encode(), b"text/html; charset=UTF-8", [(b"cf-ray", ray.encode())])
        return
    status, payload = stock(scope, headers)
    await respond(send, status, json.dumps(payload).encode(), b"application/json",
                  [(b"vary", b"Accept, Cookie"), (b"allow", b"GET, HEAD, OPTIONS")])


def stock(scope, headers):
    """The Django REST framework view, with its standard error details."""
    if "application/json" not in headers.get("accept", "") and "*/*" not in headers.get("accept", ""):
        return 406, {"detail": "Could not satisfy the request Accept header."}
    cookies = dict(part.strip().split("=", 1) for part in headers.get("cookie", "").split(";") if "=" in part)
    if not cookies.get("sessionid"):
        return 403, {"detail": "Authentication credentials were not provided."}
    prefix = "/api/v2/stock/"
    sku = scope["path"][len(prefix):] if scope["path"].startswith(prefix) else ""
    if sku not in STOCK:
        return 404, {"detail": "Not found."}
    item = STOCK[sku]
    query = parse_qs(scope["query_string"].decode("latin-1"))
    stores = query.get("store", list(item["stores"]))
    return 200, {
        "sku": sku, "name": item["name"],
        "availability": [{"store": s, "in_stock": item["stores"].get(s, 0)} for s in stores],
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**6:06d}Z",
        "request_id": secrets.token_hex(8),
    }


async def respond(send, status, body, content_type, extra):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), *extra]})
    await send({"type": "http.response.body", "body": body})
