"""A Messages API that wants an undocumented billing block in `system` for larger models.

Requests to any model but the small `claude-haiku-*` ones are refused with a bare
`400 "Error"` unless the first `system` block is a text block of the form
`x-anthropic-billing-header: cc_version=...; cc_entrypoint=...; cch=...;`.
Malformed requests get the usual, specific validation errors instead.
"""

import json
import secrets

BILLING_PREFIX = "x-anthropic-billing-header:"
BILLING_FIELDS = {"cc_version", "cc_entrypoint", "cch"}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, body = await read_request(scope, receive)
    status, payload = answer(scope, headers, body)
    await send_json(send, status, payload)


def answer(scope, headers, raw):
    if scope["method"] != "POST" or scope["path"] != "/v1/messages":
        return error(404, "not_found_error", "Not Found")
    if not headers.get("x-api-key"):
        return error(401, "authentication_error", "x-api-key header is required")
    if not headers.get("anthropic-version"):
        return error(400, "invalid_request_error", "anthropic-version: header is required")
    if "json" not in headers.get("content-type", ""):
        return error(400, "invalid_request_error", "Content-Type must be application/json")
    try:
        body = json.loads(raw)
    except ValueError:
        return error(400, "invalid_request_error", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return error(400, "invalid_request_error", "body: Input should be a valid dictionary")
    problem = validate(body)
    if problem:
        return error(400, "invalid_request_error", problem)
    if not body["model"].startswith("claude-haiku-") and not has_billing_block(body):
        return error(400, "invalid_request_error", "Error")
    return 200, {
        "id": "msg_01" + secrets.token_hex(11),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": "Hello! How can I help you today?"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 8 + len(raw) // 4, "output_tokens": 12},
    }


def validate(body):
    """The public validation: a message naming the first problem, or None."""
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if type(body.get("max_tokens")) is not int or body["max_tokens"] < 1:
        return "max_tokens: Input should be a valid integer greater than or equal to 1"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        if not isinstance(content, str) and not blocks_ok(content):
            return f"messages.{i}.content: Input should be a valid list of content blocks"
    system = body.get("system")
    if system is not None and not isinstance(system, str) and not blocks_ok(system):
        return "system: Input should be a valid string or list of text blocks"
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return "tools: Input should be a valid list"
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                return f"tools.{i}.name: Field required"
            schema = tool.get("input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                return f"tools.{i}.input_schema: Field required"
    return None


def blocks_ok(blocks):
    return isinstance(blocks, list) and all(
        isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        for b in blocks
    )


def has_billing_block(body):
    system = body.get("system")
    if not isinstance(system, list) or not system:
        return False
    text = system[0]["text"]
    if not text.startswith(BILLING_PREFIX):
        return False
    fields = {}
    for item in text[len(BILLING_PREFIX):].split(";"):
        name, _, value = item.strip().partition("=")
        if value:
            fields[name] = value
    return BILLING_FIELDS <= fields.keys()


def error(status, kind, message):
    request_id = "req_011" + secrets.token_urlsafe(18)
    return status, {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}


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
