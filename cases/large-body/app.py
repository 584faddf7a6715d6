"""A project-configuration API with an admission policy: no service may run as root.

`PUT /v1/projects/<project>/config` takes the whole configuration. A body that does not
have the expected shape gets `400 schema_validation_failed` naming the field; a well-formed
one with any service whose `security.run_as_root` is true gets a bare
`422 policy_denied` ("Configuration rejected by admission policy").
"""

import datetime
import json
import secrets


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, raw = await read_request(scope, receive)
    status, payload = answer(scope, headers, raw)
    await send_json(send, status, payload)


def answer(scope, headers, raw):
    parts = scope["path"].strip("/").split("/")
    if scope["method"] != "PUT" or len(parts) != 4 or parts[:2] != ["v1", "projects"] or parts[3] != "config":
        return error(404, "not_found", "No such resource.")
    if not headers.get("authorization", "").startswith("Bearer "):
        return error(401, "unauthenticated", "A bearer token is required.")
    if headers.get("content-type") != "application/json":
        return error(415, "unsupported_media_type", "Send the configuration as application/json.")
    try:
        body = json.loads(raw)
    except ValueError:
        return error(400, "invalid_json", "The body is not valid JSON.")
    problem = schema_problem(body)
    if problem:
        return error(400, "schema_validation_failed", f"Invalid configuration at {problem}.")
    if any(service["security"].get("run_as_root") is True for service in body["services"]):
        return error(422, "policy_denied", "Configuration rejected by admission policy.")
    return 200, {
        "project": parts[2],
        "revision": body.get("revision", 0) + 1,
        "etag": secrets.token_hex(16),
        "applied_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "services": len(body["services"]),
    }


def schema_problem(body):
    """A JSON pointer to the first field that does not fit the schema, or None."""
    if not isinstance(body, dict) or body.get("apiVersion") != "config/v3":
        return "/apiVersion"
    for key in ("settings", "feature_flags"):
        if not isinstance(body.get(key), dict):
            return f"/{key}"
    if not all(isinstance(value, bool) for value in body["feature_flags"].values()):
        return "/feature_flags"
    for key in ("services", "routes"):
        if not isinstance(body.get(key), list):
            return f"/{key}"
    for i, service in enumerate(body["services"]):
        if not isinstance(service, dict):
            return f"/services/{i}"
        for key, kind in (("name", str), ("image", str), ("replicas", int), ("env", dict), ("security", dict)):
            if not isinstance(service.get(key), kind):
                return f"/services/{i}/{key}"
    for i, route in enumerate(body["routes"]):
        if not isinstance(route, dict) or not isinstance(route.get("path"), str) or not isinstance(route.get("service"), str):
            return f"/routes/{i}"
    return None


def error(status, code, message):
    return status, {"error": {"code": code, "message": message}, "request_id": secrets.token_hex(8)}


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
