"""A streaming Messages API that wants an undocumented billing block first in `system`.

Requests are checked in the order the real API checks them: route, API key, version
header, beta header, content type, JSON, then the body's fields (types, required keys,
extra keys, limits, at most four `cache_control` blocks), each failure a specific
`400 {"type":"error","error":{"type":"invalid_request_error","message":...}}`. A valid
request for any model but the small `claude-haiku-*` ones is then refused with a bare
`400 "Error"` unless `system` is a list whose FIRST block is a text block
`x-anthropic-billing-header: cc_version=...; cc_entrypoint=...; cch=...;`.

A good request with `"stream": true` is answered with server-sent events spread over
`STREAM_SECONDS` (the environment variable `REQBISECT_CASE_STREAM_SECONDS`, 0.3 s by
default; the benchmark uses 3 s, as a short generation takes): headers at once, the first
event after a tenth of that (time to first token), the rest evenly over the remainder. Every stream is
recorded in `STREAMS` (and, when `REQBISECT_CASE_STREAM_LOG` names a file, appended to it
as a JSON line): how many body bytes were sent before the client went away, out of how
many, and for how long the stream was open. A client that closes the connection cancels
the generation, as on the real API.
"""

import json
import os
import secrets
import threading
import time

import anyio

BILLING_PREFIX = "x-anthropic-billing-header:"
BILLING_FIELDS = {"cc_version", "cc_entrypoint", "cch"}
KNOWN_BETAS = {
    "claude-code-20250219", "interleaved-thinking-2025-05-14", "fine-grained-tool-streaming-2025-05-14",
    "prompt-caching-2024-07-31", "token-counting-2024-11-01", "context-1m-2025-08-07",
}
MAX_OUTPUT = {"claude-sonnet-4-6": 64000, "claude-haiku-4-5-20251001": 64000, "claude-opus-4-1": 32000}
BLOCK_KEYS = {"type", "text", "cache_control", "citations"}
TOP_KEYS = {
    "model", "messages", "max_tokens", "system", "tools", "tool_choice", "metadata", "stream", "temperature",
    "top_p", "top_k", "stop_sequences", "thinking", "service_tier", "container", "mcp_servers",
}

STREAM_SECONDS = float(os.environ.get("REQBISECT_CASE_STREAM_SECONDS", "0.3"))
STREAM_LOG = os.environ.get("REQBISECT_CASE_STREAM_LOG")
#: One record per stream started: {"sent", "total", "complete", "seconds"}.
STREAMS = []
_LOCK = threading.Lock()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers, raw = await read_request(scope, receive)
    status, payload = answer(scope, headers, raw)
    if status == 200 and payload.get("stream") is True:
        await stream(payload["model"], len(raw), receive, send)
        return
    if status == 200:
        payload = message(payload["model"], len(raw))
    await send_json(send, status, payload)


def answer(scope, headers, raw):
    """(200, the request body) for a good request, else (status, error body)."""
    if scope["method"] != "POST" or scope["path"] != "/v1/messages":
        return error(404, "not_found_error", "Not Found")
    key = headers.get("x-api-key")
    if not key:
        return error(401, "authentication_error", "x-api-key header is required")
    if not key.startswith("sk-ant-api03-") or len(key) < 40:
        return error(401, "authentication_error", "invalid x-api-key")
    if not headers.get("anthropic-version"):
        return error(400, "invalid_request_error", "anthropic-version: header is required")
    betas = [b.strip() for b in headers.get("anthropic-beta", "").split(",") if b.strip()]
    unknown = [b for b in betas if b not in KNOWN_BETAS]
    if unknown:
        return error(400, "invalid_request_error",
                     f"Unexpected value(s) `{', '.join(unknown)}` for the `anthropic-beta` header. "
                     "Please consult our documentation at docs.anthropic.com or try again without the header.")
    if "application/json" not in headers.get("content-type", ""):
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
    return 200, body


def validate(body):
    """The public validation, in the API's order: a message naming the first problem, or None."""
    for key in body:
        if key not in TOP_KEYS:
            return f"{key}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if "max_tokens" not in body:
        return "max_tokens: Field required"
    if type(body["max_tokens"]) is not int or body["max_tokens"] < 1:
        return "max_tokens: Input should be a valid integer greater than or equal to 1"
    messages = body.get("messages")
    if not isinstance(messages, list):
        return "messages: Field required"
    if not messages:
        return "messages: at least one message is required"
    for i, item in enumerate(messages):
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = item.get("content")
        if not isinstance(content, str):
            problem = blocks_problem(content, f"messages.{i}.content")
            if problem:
                return problem
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        problem = blocks_problem(system, "system")
        if problem:
            return problem
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
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict) or not isinstance(metadata.get("user_id", ""), str)):
        return "metadata.user_id: Input should be a valid string"
    if "stream" in body and type(body["stream"]) is not bool:
        return "stream: Input should be a valid boolean"
    temperature = body.get("temperature", 1)
    if type(temperature) not in (int, float) or not 0 <= temperature <= 1:
        return "temperature: Input should be less than or equal to 1"
    limit = MAX_OUTPUT.get(body["model"])
    if limit is None:
        return f"model: {body['model']}"
    if body["max_tokens"] > limit:
        return (f"max_tokens: {body['max_tokens']} > {limit}, which is the maximum allowed number of "
                f"output tokens for {body['model']}")
    cached = count_cache_control(body)
    if cached > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {cached}."
    return None


def blocks_problem(blocks, where):
    if not isinstance(blocks, list):
        return f"{where}: Input should be a valid list"
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            return f"{where}.{i}: Input should be a valid dictionary"
        if "type" not in block:
            return f"{where}.{i}.type: Field required"
        if block["type"] != "text":
            return f"{where}.{i}.type: Input should be 'text'"
        if not isinstance(block.get("text"), str):
            return f"{where}.{i}.text: Field required"
        if not block["text"]:
            return f"{where}: text content blocks must be non-empty"
        for key in block:
            if key not in BLOCK_KEYS:
                return f"{where}.{i}.{key}: Extra inputs are not permitted"
        cache = block.get("cache_control")
        if cache is not None and (not isinstance(cache, dict) or cache.get("type") != "ephemeral"):
            return f"{where}.{i}.cache_control.type: Input should be 'ephemeral'"
    return None


def count_cache_control(value):
    if isinstance(value, dict):
        return ("cache_control" in value) + sum(count_cache_control(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_cache_control(v) for v in value)
    return 0


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
    return status, {"type": "error", "error": {"type": kind, "message": message},
                    "request_id": "req_011" + secrets.token_urlsafe(18)}


def message(model, size):
    return {
        "id": "msg_01" + secrets.token_hex(11), "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "I'll read CHANGES.md first to see what went into 4.2."}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 8 + size // 4, "output_tokens": 14},
    }


def events(model, size):
    """The server-sent events of one generation, as the API words them."""
    start = message(model, size)
    text = start.pop("content")[0]["text"]
    start.update(content=[], stop_reason=None, usage={"input_tokens": start["usage"]["input_tokens"], "output_tokens": 1})
    out = [("message_start", {"type": "message_start", "message": start}),
           ("content_block_start", {"type": "content_block_start", "index": 0,
                                    "content_block": {"type": "text", "text": ""}}),
           ("ping", {"type": "ping"})]
    words = text.split(" ")
    for n, word in enumerate(words):
        piece = word if n == 0 else " " + word
        out.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": piece}}))
    out += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": len(words)}}),
            ("message_stop", {"type": "message_stop"})]
    return [f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode() for name, data in out]


async def stream(model, size, receive, send):
    """Stream one generation over STREAM_SECONDS; stop when the client goes away, and record it."""
    chunks = events(model, size)
    record = {"sent": 0, "total": sum(map(len, chunks)), "complete": False, "seconds": 0.0}
    started = time.monotonic()
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
        (b"request-id", ("req_011" + secrets.token_urlsafe(18)).encode()),
    ]})
    first, pause = STREAM_SECONDS / 10, STREAM_SECONDS * 0.9 / len(chunks)
    try:
        async with anyio.create_task_group() as tg:

            async def watch():
                while (await receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()  # the client left: the generation is cancelled

            tg.start_soon(watch)
            await anyio.sleep(first)  # time to first token
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                record["sent"] += len(chunk)
                await anyio.sleep(pause)
            record["complete"] = True
            await send({"type": "http.response.body", "body": b""})
            tg.cancel_scope.cancel()
    finally:
        record["seconds"] = round(time.monotonic() - started, 3)
        with _LOCK:
            STREAMS.append(record)
            if STREAM_LOG:
                with open(STREAM_LOG, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")


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
