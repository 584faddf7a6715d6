"""Finding secrets in requests, patches, responses and text, and hiding them.

Summaries, reports and ``--json`` get pasted into bug trackers and CI logs, so
every secret in them is replaced by a placeholder such as
``<redacted:x-api-key#1>``. The patch on stdout and ``-o`` keep the real values
(DESIGN.md, "Safety"): those are for the user's own machine.

Rules
-----
* **By name.** A value is secret when it sits under a secret name: any cookie;
  a header or query parameter whose name is secret; anything in the body under
  a key whose name is secret, at any depth (all of ``{"auth": {...}}``). A name is secret when one of its
  words (split at punctuation and camelCase) is ``auth``, ``password``,
  ``session``, ``sid``, ``cookie``, ``signature``, ``csrf``... or ends in
  ``token`` or ``secret``, or when it spells ``apikey``, ``accesskey``,
  ``privatekey``, ``clientsecret``, ``sessionid``... So ``x-api-key``,
  ``authorization``, ``authenticity_token``, ``user[password]`` and
  ``PHPSESSID`` are secret; ``max_tokens`` (plural) and ``token_type`` or
  ``session_count`` (a last word that names a property of a secret, not the
  secret) are not. ``--redact NAME`` adds names; ``--redact /json/pointer``
  marks everything under that pointer.
* **By shape**, in every string and in free text: ``Bearer``/``Basic``
  credentials, JWTs, PEM private keys, passwords in URLs, and keys with a
  known vendor prefix (``sk-ant-``, ``sk-``, ``ghp_``, ``xoxb-``, ``AKIA``,
  ``AIza``, ...), plus ``name=value``, ``name: value`` and ``"name": "value"``
  pairs whose name is secret.
* **Known values.** Once a secret is learned, every occurrence of its value in
  any string or text is replaced too, as are its JSON-, URL- and
  shell-escaped spellings (a curl command quotes it; a query string encodes
  it).
* **Stable placeholders.** ``<redacted:LABEL#N>``: LABEL is the name the
  secret was first found under, lower-cased (or the kind of shape), N counts
  the distinct values of that label in the order they were learned. Within a
  document headers are learned first, then cookies, query and body, so a key
  sent both as ``x-api-key`` and ``?api_key=`` is named after its header. One
  value gets one placeholder everywhere: documents, patches, bodies, text;
  so a report still shows that the cookie a patch sets equals a header.
* **Idempotent.** A placeholder is never redacted again, nor searched into,
  so redacting twice changes nothing more.

Theory of operation: learn first, then redact. :meth:`Redactor.for_result`
learns the minimal requests (the base of the patch first, so the value the
patch replaces is ``#1``), the original documents, the patch and the replies;
every ``redact_*`` method then learns what it is given before rewriting it, so
a body echoing a key found in a header later in the same document is caught.

Deliberately not done: object keys are never rewritten (patch paths point
through them); a secret shorter than 4 characters, and a cookie value that
does not look random (``theme=light``), is hidden where it sits but not
searched for in free text, where it would mangle ordinary words; binary
bodies are only searched for the exact bytes of known secrets.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, unquote

from reqbisect._types import JSONValue, Patch
from reqbisect.errors import InputError
from reqbisect.formats.shell import ansi_c
from reqbisect.oracle import Reply
from reqbisect.pointer import format_pointer, parse_pointer, resolve
from reqbisect.secret_names import is_secret_name

if TYPE_CHECKING:
    from reqbisect.result import Result

__all__ = ["PLACEHOLDER", "Redactor", "check_extra", "is_secret_name", "truncate", "unmatched_extra"]

#: A placeholder as this module writes it; the label never holds ``<``, ``>``, ``#`` or spaces.
PLACEHOLDER = re.compile(r"<redacted:([^<>#\s]+)#(\d+)>")
#: A placeholder after percent-encoding (a curl command's URL, a query string).
_ENCODED_PLACEHOLDER = re.compile(
    r"%3Credacted(?:%3A|:)((?:[A-Za-z0-9._~\-\[\]]|%[0-9A-Fa-f]{2})+?)(?:%23|#)(\d+)%3E", re.IGNORECASE
)

# -- names: see reqbisect.secret_names -----------------------------------------------------


def check_extra(values: Iterable[str]) -> tuple[str, ...]:
    """Validate ``--redact`` values: names, or JSON pointers starting with ``/``.

    Raises:
        InputError: an empty name or the empty pointer ``/``.
    """
    checked = []
    for value in values:
        if not value.strip() or value == "/":
            raise InputError(
                "not a name or a JSON pointer",
                source="--redact",
                expected="a name such as x-session or a JSON pointer such as /body/auth",
                got=repr(value),
            )
        checked.append(value)
    return tuple(checked)


def unmatched_extra(values: Iterable[str], documents: Iterable[JSONValue]) -> list[str]:
    """The ``--redact`` pointers that lead nowhere in any of ``documents`` (most likely a typo)."""
    documents = list(documents)
    return [
        value for value in values
        if value.startswith("/") and not any(resolve(doc, value)[0] for doc in documents)
    ]


# -- shapes ----------------------------------------------------------------------------

#: (label, pattern, group): the group of each match that is the secret (0: all of it).
_SHAPES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("private-key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), 0),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), 0),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{16,}"), 0),
    ("openai-key", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), 0),
    ("stripe-key", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"), 0),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"), 0),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), 0),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), 0),
    ("aws-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 0),
    ("google-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), 0),
    ("google-token", re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), 0),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}"), 0),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}"), 0),
    ("sendgrid-key", re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), 0),
    ("bearer", re.compile(r"\bBearer\s+([A-Za-z0-9._~+/-]{8,}=*)", re.IGNORECASE), 1),
    ("url-password", re.compile(r"(?<=://)[^:@/\s<>]+:([^@/\s<>]+)@"), 1),
)
_BASIC = re.compile(r"\bBasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])", re.IGNORECASE)
_SCHEME = re.compile(r"(?i)(bearer|token|bot|basic|digest)\s+(\S+)")
_NAME = r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,63}"
_PAIR = re.compile(
    rf"(?<![A-Za-z0-9_.\-\[\]<])(?P<name>{_NAME})\s*[:=]\s*"
    r"(?=(?P<value>(?:(?:Bearer|Basic|Token|Digest)\s+)?[^\s\"'&;,<>]+)(?=[\s\"'&;,<>]|$)(?!\s*<redacted:))"
)
_JSON_PAIR = re.compile(r'"(?P<name>[^"\\]{1,64})"\s*:\s*"(?P<value>(?:[^"\\]|\\.)+)"')
_LEARN_FIRST = {"headers": 0, "cookies": 1, "query": 2, "body": 3}
_LITERALS = frozenset({"true", "false", "null", "none", "undefined"})
_ALNUM = re.compile(r"[A-Za-z0-9]")


def _label_of(name: str) -> str:
    label = re.sub(r"[^a-z0-9._\-\[\]]+", "_", name.lower()).strip("_")[:40]
    return label or "secret"


def _looks_random(value: str) -> bool:
    """A cookie value worth searching for in free text: long, and not a word."""
    if len(value) < 8 or any(c.isspace() for c in value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return (has_digit and has_alpha) or len(value) >= 20


def _spellings(value: str) -> set[str]:
    """The ways a value shows up in text: raw, JSON-escaped, percent-encoded, shell-quoted,
    and their combinations (a JSON body inside a single-quoted curl argument)."""
    spelled = {value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]}
    spelled |= {
        encoded
        for s in spelled
        for encoded in (quote(s, safe="", errors="surrogatepass"), quote(s, errors="surrogatepass"),
                        quote_plus(s, errors="surrogatepass"))
    }
    spelled |= {
        quoted for s in spelled for quoted in (s.replace("'", "'\\''"), s.replace("'", "'\"'\"'"), ansi_c(s))
    }
    return {s for s in spelled if s}


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, never inside a placeholder.

    Redact first, then cut: cutting first could split a secret so that its shape
    no longer matches and half of it is shown. Cutting through a placeholder
    would leave a fragment that a second redaction pass might misread.
    """
    if len(text) <= limit:
        return text
    cut = limit
    for match in PLACEHOLDER.finditer(text, max(0, limit - 64), limit + 64):
        if match.start() < limit < match.end():
            cut = match.start()
    return text[:cut]


def _outside_placeholders(text: str, rewrite: Callable[[str], str]) -> str:
    """Apply ``rewrite`` to the stretches of ``text`` between placeholders."""
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(rewrite(text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(rewrite(text[last:]))
    return "".join(parts)


class Redactor:
    """Replaces secrets with stable placeholders in documents, patches, replies and text.

    Args:
        enabled: False (``--no-redact``) makes every ``redact_*`` method return its
            input unchanged; :meth:`is_secret` still answers.
        extra: more secret names (``x-session``) and JSON pointers (``/body/auth``),
            as given to ``--redact``.
    """

    def __init__(self, *, enabled: bool = True, extra: Iterable[str] = ()) -> None:
        self.enabled = enabled
        extra = check_extra(extra)
        self._names = frozenset(value.lower() for value in extra if not value.startswith("/"))
        self._pointers = tuple(parse_pointer(value) for value in extra if value.startswith("/"))
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._spelled: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    @classmethod
    def for_result(
        cls,
        result: Result | None,
        *,
        enabled: bool = True,
        extra: Iterable[str] = (),
        documents: Iterable[JSONValue] = (),
    ) -> Redactor:
        """A redactor that knows every secret of ``result``, numbered in a fixed order.

        The patch's base request is learned first, then the other minimal request,
        ``documents`` (the original GOOD and BAD, when the caller has them), the patch
        and the replies, so the same result always gets the same placeholders.
        Without a result (a run that failed before it had one) only ``documents`` are learned.
        """
        redactor = cls(enabled=enabled, extra=extra)
        if result is None:
            for document in documents:
                redactor.learn(document)
            return redactor
        first, second = (
            (result.minimal_good, result.minimal_bad) if result.mode == "break"
            else (result.minimal_bad, result.minimal_good)
        )
        for document in (first, second, *documents):
            if document is not None:
                redactor.learn(document)
        redactor.learn_patch(result.patch)
        for reply in (result.baseline_good, result.baseline_bad, result.reply_good, result.reply_bad):
            if reply is not None:
                redactor.redact_reply(reply)
        return redactor

    # -- what is secret ----------------------------------------------------------------

    @property
    def known(self) -> Mapping[str, str]:
        """Every secret value learned so far, mapped to its placeholder."""
        return MappingProxyType(self._placeholders)

    def _secret(self, name: str) -> bool:
        return name.lower() in self._names or is_secret_name(name)

    def _classify(self, tokens: Sequence[str]) -> tuple[str, bool] | None:
        """(label, strong) when the value at ``tokens`` is secret; strong unless merely a cookie."""
        for pointer in self._pointers:
            if len(tokens) >= len(pointer) and all(
                a == b or (pointer[0] == "headers" and a.lower() == b.lower())
                for a, b in zip(pointer, tokens)
            ):
                named = [t for t in pointer if not t.isdigit()]
                return _label_of(named[-1] if named else "secret"), True
        if not tokens:
            return None
        area = tokens[0]
        if area in ("headers", "query", "cookies"):
            if len(tokens) < 2:
                return None
            if self._secret(tokens[1]):
                return _label_of(tokens[1]), True
            return (_label_of(tokens[1]), False) if area == "cookies" else None
        if area in ("method", "url", "body_base64") and len(tokens) == 1:
            return None
        for token in reversed(tokens):
            if not token.isdigit() and self._secret(token):
                return _label_of(token), True
        return None

    def is_secret(self, where: str | Sequence[str]) -> bool:
        """Whether the value at a JSON pointer (or its tokens) is secret by name or by ``--redact``."""
        tokens = parse_pointer(where) if isinstance(where, str) else tuple(where)
        return self._classify(tokens) is not None

    # -- learning ----------------------------------------------------------------------

    def _placeholder(self, value: str, label: str, *, searchable: bool = True) -> str:
        found = self._placeholders.get(value)
        if found is not None:
            return found
        number = self._counts.get(label, 0) + 1
        self._counts[label] = number
        placeholder = self._placeholders[value] = f"<redacted:{label}#{number}>"
        if searchable and len(value.strip()) >= 4 and value.lower() not in _LITERALS:
            for spelling in _spellings(value):
                self._spelled.setdefault(spelling, placeholder)
            self._pattern = None
        scheme = _SCHEME.fullmatch(value.strip())
        if scheme is not None:
            credential = scheme.group(2)
            self._placeholder(credential, label, searchable=searchable)
            if scheme.group(1).lower() == "basic":
                self._learn_basic(credential, label)
        return placeholder

    def _learn_basic(self, credential: str, label: str) -> None:
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return
        if ":" in decoded:
            self._placeholder(decoded, label)
            self._placeholder(decoded.split(":", 1)[1], label)

    def _note_existing(self, text: str) -> None:
        """Count placeholders already in the input, so new ones never reuse their numbers."""
        for match in PLACEHOLDER.finditer(text):
            label, number = match.group(1), int(match.group(2))
            self._counts[label] = max(self._counts.get(label, 0), number)

    def _learn_leaf(self, value: Any, tokens: Sequence[str]) -> None:
        if isinstance(value, dict):
            items = list(value.items())
            if not tokens:
                # Headers first: a secret sent both as x-api-key and ?api_key= reads best by its header name.
                items.sort(key=lambda item: _LEARN_FIRST.get(str(item[0]), len(_LEARN_FIRST)))
            for key, item in items:
                self._learn_leaf(item, (*tokens, str(key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._learn_leaf(item, (*tokens, str(index)))
        elif isinstance(value, str):
            self._note_existing(value)
            secret = self._classify(tokens)
            if secret is not None and value.strip() and not PLACEHOLDER.fullmatch(value):
                label, strong = secret
                self._placeholder(value, label, searchable=strong or _looks_random(value))
            elif secret is None:
                self._scan(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            secret = self._classify(tokens)
            if secret is not None:
                self._placeholder(json.dumps(value), secret[0])

    def learn(self, document: JSONValue, pointer: str = "") -> None:
        """Learn the secrets of a document (or any JSON value found at ``pointer``)."""
        if self.enabled:
            self._learn_leaf(document, parse_pointer(pointer))

    def learn_patch(self, patch: Patch) -> None:
        """Learn the secrets that the values of a patch's operations hold."""
        for op in patch:
            if "value" in op:
                self.learn(op["value"], str(op.get("path", "")))

    # -- rewriting ---------------------------------------------------------------------

    def _redact_leaf(self, value: Any, tokens: Sequence[str]) -> Any:
        if isinstance(value, dict):
            return {key: self._redact_leaf(item, (*tokens, str(key))) for key, item in value.items()}
        if isinstance(value, list):
            return [self._redact_leaf(item, (*tokens, str(index))) for index, item in enumerate(value)]
        if isinstance(value, str):
            if tokens == ("body_base64",) or (tokens[:1] == ("body",) and tokens[-1] == "content_base64"):
                return self._redact_base64(value)  # a whole binary body, or one multipart part
            secret = self._classify(tokens)
            if secret is None:
                return self.redact_text(value)
            if not value.strip() or PLACEHOLDER.fullmatch(value):
                return value
            label, strong = secret
            return self._placeholder(value, label, searchable=strong or _looks_random(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            secret = self._classify(tokens)
            if secret is not None:
                return self._placeholder(json.dumps(value), secret[0])
        return value

    def redact_value(self, value: Any, pointer: str = "") -> Any:
        """A copy of ``value`` (found at ``pointer`` in a request document) with its secrets replaced."""
        if not self.enabled:
            return value
        self.learn(value, pointer)
        return self._redact_leaf(value, parse_pointer(pointer))

    def redact_document(self, document: Any) -> Any:
        """A copy of a request document (or any JSON value) with every secret replaced."""
        return self.redact_value(document)

    def redact_patch(self, patch: Patch) -> Patch:
        """A copy of an RFC 6902 patch whose ``value`` members have their secrets replaced."""
        if not self.enabled:
            return patch
        self.learn_patch(patch)
        out = []
        for op in patch:
            op = dict(op)
            if "value" in op:
                op["value"] = self._redact_leaf(op["value"], parse_pointer(str(op.get("path", ""))))
            out.append(op)
        return out

    def _redact_base64(self, value: str) -> str:
        try:
            data = base64.b64decode(value, validate=True)
        except binascii.Error:
            return value
        redacted = self.redact_bytes(data)
        return value if redacted == data else base64.b64encode(redacted).decode("ascii")

    def redact_bytes(self, data: bytes) -> bytes:
        """Bytes with the UTF-8 spelling of every known secret replaced (binary bodies)."""
        if not self.enabled:
            return data
        for value, placeholder in sorted(self._placeholders.items(), key=lambda kv: -len(kv[0])):
            raw = value.encode("utf-8", "surrogatepass")
            if len(raw) >= 4:
                data = data.replace(raw, placeholder.encode("ascii"))
        return data

    def _known_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._spelled:
            alternatives = []
            for spelling in sorted(self._spelled, key=lambda s: (-len(s), s)):
                before = r"(?<![A-Za-z0-9])" if _ALNUM.match(spelling[0]) else ""
                after = r"(?![A-Za-z0-9])" if _ALNUM.match(spelling[-1]) else ""
                alternatives.append(f"{before}{re.escape(spelling)}{after}")
            self._pattern = re.compile("|".join(alternatives))
        return self._pattern

    def _replace_known(self, text: str) -> str:
        pattern = self._known_pattern()
        if pattern is None or not text:
            return text
        return pattern.sub(lambda m: self._spelled[m.group(0)], text)

    def _replace_shapes(self, text: str) -> str:
        for label, pattern, group in _SHAPES:
            def one(match: re.Match[str], label: str = label, group: int = group) -> str:
                secret = match.group(group)
                start, end = match.start(group) - match.start(), match.end(group) - match.start()
                whole = match.group(0)
                return whole[:start] + self._placeholder(secret, label) + whole[end:]

            text = pattern.sub(one, text)
        return _BASIC.sub(self._replace_basic, text)

    def _replace_basic(self, match: re.Match[str]) -> str:
        credential = match.group(1)
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return match.group(0)
        if ":" not in decoded:
            return match.group(0)
        placeholder = self._placeholder(credential, "basic")
        self._learn_basic(credential, "basic")
        return match.group(0).replace(credential, placeholder)

    def _replace_pairs(self, text: str) -> str:
        """Secret ``"name": "value"``, ``name=value`` and ``name: value`` pairs.

        Runs over the whole text rather than between placeholders, so that
        ``Authorization: Bearer <redacted:...>`` is seen as already hidden instead
        of taking ``Bearer`` for the secret. A pair's value is only looked ahead
        at, so a non-secret pair (``https://host/?api_key=...``) never hides the
        pairs inside its value.
        """
        def json_pair(match: re.Match[str]) -> str:
            name, escaped = match.group("name"), match.group("value")
            if not self._secret(name) or PLACEHOLDER.fullmatch(escaped):
                return match.group(0)
            try:
                value = json.loads(f'"{escaped}"')
            except ValueError:
                value = escaped
            start = match.start("value") - match.start()
            return match.group(0)[:start] + self._placeholder(value, _label_of(name)) + '"'

        text = _JSON_PAIR.sub(json_pair, text)
        parts, last = [], 0
        for match in _PAIR.finditer(text):
            if match.start() < last or not self._secret(match.group("name")):
                continue
            parts.append(text[last : match.start("value")])
            parts.append(self._placeholder(match.group("value"), _label_of(match.group("name"))))
            last = match.end("value")
        parts.append(text[last:])
        return "".join(parts)

    def _scan(self, text: str) -> str:
        text = self._replace_pairs(text)
        return _outside_placeholders(text, self._replace_shapes)

    def redact_text(self, text: str) -> str:
        """Free text (a curl command, a body, a message) with every secret replaced.

        Replaces the known secret values in all their spellings, then secrets by
        shape and ``name=value`` pairs with a secret name (learning those), then
        known values once more for the ones just learned. Percent-encoded
        placeholders are decoded back to their readable form.
        """
        if not self.enabled or not text:
            return text
        text = _ENCODED_PLACEHOLDER.sub(lambda m: f"<redacted:{unquote(m.group(1))}#{m.group(2)}>", text)
        self._note_existing(text)
        text = _outside_placeholders(text, self._replace_known)
        text = self._scan(text)
        return _outside_placeholders(text, self._replace_known)

    def redact_reply(self, reply: Reply) -> Reply:
        """A reply whose headers, body and error message have their secrets replaced.

        A JSON body is redacted by key names as a request body is (a login answer's
        ``access_token``), and written again only when something changed.
        """
        if not self.enabled:
            return reply
        headers = tuple(
            (name, self.redact_value(value, format_pointer(("headers", name.lower()))))
            for name, value in reply.headers
        )
        body = reply.body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            body = self.redact_bytes(body)
        else:
            data = reply.json
            if data is not None or text.strip() == "null":
                redacted = self.redact_value(data, "/body")
                if redacted != data:
                    body = json.dumps(redacted, ensure_ascii=False).encode("utf-8")
            else:
                body = self.redact_text(text).encode("utf-8")
        error = self.redact_text(reply.error) if reply.error is not None else None
        return replace(reply, headers=headers, body=body, error=error)
