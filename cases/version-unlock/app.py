"""A document-extraction API whose newest model needs a newer API version AND a schema.

`extract-large-2` exists only from API version 2024-10-01 (older versions answer
400 `unsupported`), and as a structured-output model it needs a `response_format`
JSON schema, a parameter that older versions do not know at all. So the version header
and the body field only work together; either alone fails with another error.
"""

import json
import secrets
import time

VERSIONS = {
    "2023-06-01": {"extract-small-1"},
    "2024-02-15": {"extract-small-1", "extract-large-1"},
    "2024-10-01": {"extract-small-1", "extract-large-1", "extract-large-2"},
}
RESPONSE_FORMAT_SINCE = "2024-10-01"
NEEDS_SCHEMA = {"extract-large-2"}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, raw = await read_request(scope, receive)
    status, payload = answer(scope, headers, raw)
    await send_json(send, status, payload)


def answer(scope, headers, raw):
    if scope["method"] != "POST" or scope["path"] != "/v1/extractions":
        return error(404, "not_found", "Unknown endpoint.")
    if not headers.get("authorization", "").startswith("Bearer "):
        return error(401, "unauthorized", "Missing bearer token.")
    version = headers.get("x-api-version")
    if version is None:
        return error(400, "missing_version", "The x-api-version header is required.")
    if version not in VERSIONS:
        return error(400, "invalid_version", "Unknown API version in x-api-version.")
    try:
        body = json.loads(raw)
    except ValueError:
        return error(400, "invalid_json", "The request body must be a JSON object.")
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return error(400, "invalid_request", "Field 'model' is required.")
    source = body.get("input")
    if not isinstance(source, dict) or source.get("type") != "url" or not isinstance(source.get("url"), str):
        return error(400, "invalid_request", "Field 'input' must be an object with type 'url' and a 'url'.")
    if "response_format" in body and version < RESPONSE_FORMAT_SINCE:
        return error(400, "unknown_parameter", "Unrecognized request argument: response_format.")
    if body["model"] not in VERSIONS[version]:
        return error(400, "unsupported", "The requested model is not supported in this API version.")
    if body["model"] in NEEDS_SCHEMA and "response_format" not in body:
        return error(400, "missing_parameter", "This model requires 'response_format'.")
    if "response_format" in body and not schema_ok(body["response_format"]):
        return error(400, "invalid_response_format", "response_format must be a json_schema with a name and an object schema.")
    return 200, {
        "id": "ext_" + secrets.token_hex(10),
        "created": int(time.time()),
        "model": body["model"],
        "status": "completed",
        "output": {"invoice_number": "INV-20931", "total": 1290.5, "currency": "EUR"},
    }


def schema_ok(response_format):
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return False
    spec = response_format.get("json_schema")
    return (
        isinstance(spec, dict)
        and isinstance(spec.get("name"), str)
        and isinstance(spec.get("schema"), dict)
        and spec["schema"].get("type") == "object"
    )


def error(status, code, message):
    return status, {"error": {"code": code, "message": message}, "request_id": "req_" + secrets.token_hex(8)}


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
