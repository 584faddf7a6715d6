"""A freight partner's shipment API whose authentication filter compares header names exactly.

HTTP says header names are case-insensitive, and the servlet API's ``getHeader`` honours
that; this filter instead walks ``getHeaderNames()`` and compares each with
``"X-API-Key".equals(name)``, the spelling of the partner's documentation. curl sends a
name as typed, so the documented command works; Go's ``net/http`` canonicalises every
name it sends (``X-Api-Key``), so a Go integration's key is never seen and the answer
is Spring Boot's default error body with ``401``. The partner id is read the same way,
first (``400`` without it); past the filter the API wants JSON in ``Accept`` (``406``)
and a shipment ``status`` (``400``).

Served by the standard library's ``http.server`` (it keeps each name as spelled): an
ASGI app would see every name lower-cased. ``tests/servers.py`` starts it.
"""

import http.server
import json
import secrets
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

PATH = "/api/v1/shipments"
KEYS = {"nwf_live_4kT9qZ2mX7vB1cR8wL5yH3jD": "ACME-0042"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache-Coyote/1.1"
    sys_version = ""

    def do_GET(self):  # noqa: N802 (the standard library's name)
        exact = {}  # the filter's view: names as spelled, first line wins
        for name, value in self.headers.items():
            exact.setdefault(name, value)
        url = urlsplit(self.path)
        if url.path != PATH:
            return self.error(404, "Not Found", url.path)
        partner = exact.get("X-Partner-Id")
        if not partner:
            return self.error(400, "Bad Request", url.path, "Missing X-Partner-Id header")
        key = exact.get("X-API-Key")
        if key is None:
            return self.error(401, "Unauthorized", url.path, "API key missing")
        if KEYS.get(key) != partner:
            return self.error(403, "Forbidden", url.path, "API key not valid for this partner")
        if "application/json" not in self.headers.get("accept", "") and "*/*" not in self.headers.get("accept", ""):
            return self.error(406, "Not Acceptable", url.path)
        query = parse_qs(url.query)
        status = query.get("status", [""])[0]
        if status not in ("booked", "in_transit", "delivered"):
            return self.error(400, "Bad Request", url.path, "Parameter 'status' must be booked, in_transit or delivered")
        shipments = [
            {"id": "NWF-7731904", "status": status, "origin": "DEHAM", "destination": "NLRTM", "pallets": 12,
             "eta": "2026-12-05T14:00:00Z"},
            {"id": "NWF-7731955", "status": status, "origin": "DEHAM", "destination": "BEANR", "pallets": 4,
             "eta": "2026-12-06T09:30:00Z"},
        ]
        self.reply(200, {"partner": partner, "requestId": secrets.token_hex(8), "generatedAt": now(),
                         "since": query.get("since", [None])[0], "shipments": shipments})

    def error(self, status, error, path, message=None):
        """Spring Boot's default error body (``message`` only where the service sets one)."""
        body = {"timestamp": now(), "status": status, "error": error}
        if message:
            body["message"] = message
        body["path"] = path
        self.reply(status, body)

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", secrets.token_hex(8))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
