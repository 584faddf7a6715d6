"""Finding secrets in requests, patches, responses and text, and hiding them.

Summaries, reports and ``--json`` get pasted into bug trackers and CI logs, so
every secret in them is replaced by a placeholder such as
``<redacted:x-api-key#1>``. The patch on stdout and ``-o`` keep the real values
(docs/design.md, "Safety"): those are for the user's own machine.

Rules
-----
* **By name.** A value is secret when it sits under a secret name: any cookie;
  a header or query parameter whose name is secret; anything in the body under
  a key whose name is secret, at any depth (all of ``{"auth": {...}}``). Which
  names are secret is :mod:`reqbisect.secret_names`' rule (``x-api-key``,
  ``authorization``, ``PHPSESSID`` are; ``max_tokens``, ``token_type`` are not).
  ``--redact NAME`` adds names; ``--redact /json/pointer`` marks everything
  under that pointer.
* **Credential positions.** Under a name that only *may* hold a credential
  (``key``, ``x-tenant-key``, ``x-atlassian-token``: see
  :func:`~reqbisect.secret_names.is_credential_position`) a value is secret only
  when it looks like one (:func:`~.shapes.looks_like_credential`), so
  ``{"project": {"key": "WID"}}`` and ``"key": "WID-50"`` stay readable.
* **Keep.** ``--keep NAME`` and ``--keep /json/pointer`` exempt a place from the
  name and position rules; ``--redact`` wins where both match, and values of a
  known secret format (a JWT, ``sk-ant-...``) or already learned as secrets
  elsewhere are still replaced there.
* **By shape**, in every string and in free text: see :mod:`.shapes`.
* **Known values.** Once a secret is learned, every occurrence of its value in
  any string or text is replaced too, in all its spellings: see
  :mod:`.placeholders`, which also says how placeholders are numbered.
* **Learning order.** Within a document headers are learned first, then
  cookies, query and body, so a key sent both as ``x-api-key`` and
  ``?api_key=`` is named after its header. One value gets one placeholder
  everywhere: documents, patches, bodies, text.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reqbisect._types import JSONValue, Patch
from reqbisect.mode import Mode
from reqbisect.oracle import Reply
from reqbisect.pointer import format_pointer, parse_pointer
from reqbisect.report.places import COOKIE, POSITION, Places, check_extra, unmatched_extra
from reqbisect.report.placeholders import (
    PLACEHOLDER,
    Placeholders,
    decode_placeholders,
    outside_placeholders,
)
from reqbisect.report.shapes import looks_like_credential, redact_shapes

if TYPE_CHECKING:
    from reqbisect.result import Result

__all__ = ["Redactor", "check_extra", "unmatched_extra"]

_LEARN_FIRST = {"headers": 0, "cookies": 1, "query": 2, "body": 3}
#: Texts at least this long have their redaction remembered (until a new secret is learned).
_CACHE_FROM = 256


def _looks_random(value: str) -> bool:
    """A cookie value worth searching for in free text: long, and not a word."""
    if len(value) < 8 or any(c.isspace() for c in value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return (has_digit and has_alpha) or len(value) >= 20


class Redactor:
    """Replaces secrets with stable placeholders in documents, patches, replies and text.

    Args:
        enabled: False (``--no-redact``) makes every ``redact_*`` method return its
            input unchanged; :meth:`is_secret` still answers.
        extra: more secret names (``x-session``) and JSON pointers (``/body/auth``),
            as given to ``--redact``.
        keep: names and JSON pointers whose values stay readable (``--keep``; see the rules).
    """

    def __init__(self, *, enabled: bool = True, extra: Iterable[str] = (), keep: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self._places = Places(extra=extra, keep=keep)
        self._placeholders = Placeholders()
        self._scanned: dict[str, tuple[int, str]] = {}
        self._redacted: dict[str, tuple[int, str]] = {}

    @classmethod
    def for_result(
        cls,
        result: Result | None,
        *,
        enabled: bool = True,
        extra: Iterable[str] = (),
        keep: Iterable[str] = (),
        documents: Iterable[JSONValue] = (),
    ) -> Redactor:
        """A redactor that knows every secret of ``result``, numbered in a fixed order.

        The patch's base request is learned first, then the other minimal request,
        ``documents`` (the original GOOD and BAD, when the caller has them), the patch
        and the replies, so the same result always gets the same placeholders.
        Without a result (a run that failed before it had one) only ``documents`` are learned.
        """
        redactor = cls(enabled=enabled, extra=extra, keep=keep)
        if result is None:
            for document in documents:
                redactor.learn(document)
            return redactor
        first, second = Mode(result.mode).patch_ends(result.minimal_good, result.minimal_bad)
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
        return self._placeholders.known

    def _secret_at(self, tokens: Sequence[str], value: str) -> tuple[str, bool] | None:
        """(label, searchable) when ``value`` at ``tokens`` is to be hidden."""
        found = self._places.classify(tokens)
        if found is None or not value.strip() or PLACEHOLDER.fullmatch(value):
            return None
        label, sure = found
        if sure == POSITION and not looks_like_credential(value):
            return None
        return label, sure != COOKIE or _looks_random(value)

    def is_secret(self, where: str | Sequence[str]) -> bool:
        """Whether the value at a JSON pointer (or its tokens) is secret by name or by ``--redact``."""
        tokens = parse_pointer(where) if isinstance(where, str) else tuple(where)
        found = self._places.classify(tokens)
        return found is not None and found[1] != POSITION

    # -- learning ----------------------------------------------------------------------

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
            self._placeholders.note_existing(value)
            secret = self._secret_at(tokens, value)
            if secret is not None:
                self._placeholders.of(value, secret[0], searchable=secret[1])
            elif not PLACEHOLDER.fullmatch(value):
                self._scan(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.is_secret(tokens):
                self._placeholders.of(json.dumps(value), self._places.label(tokens))

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
            secret = self._secret_at(tokens, value)
            if secret is None:
                return self.redact_text(value)
            return self._placeholders.of(value, secret[0], searchable=secret[1])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.is_secret(tokens):
                return self._placeholders.of(json.dumps(value), self._places.label(tokens))
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
        return self._placeholders.replace_bytes(data) if self.enabled else data

    def _scan(self, text: str) -> str:
        # Reports redact the same long bodies several times; a text's answer holds until a secret is learned.
        generation = len(self._placeholders.known)
        cached = self._scanned.get(text)
        if cached is not None and cached[0] == generation:
            return cached[1]
        scanned = redact_shapes(text, self._placeholders, is_secret=self._places.secret_pair)
        self._scanned[text] = (len(self._placeholders.known), scanned)
        return scanned

    def _replace_known(self, text: str) -> str:
        return outside_placeholders(text, self._placeholders.replace_known)

    def redact_text(self, text: str) -> str:
        """Free text (a curl command, a body, a message) with every secret replaced.

        Replaces the known secret values in all their spellings, then secrets by
        shape and ``name=value`` pairs with a secret name (learning those), then
        known values once more for the ones just learned. Percent-encoded
        placeholders are decoded back to their readable form.
        """
        if not self.enabled or not text:
            return text
        cached = self._redacted.get(text)
        if cached is not None and cached[0] == len(self._placeholders.known):
            return cached[1]
        original = text
        text = decode_placeholders(text)
        self._placeholders.note_existing(text)
        text = self._replace_known(text)
        text = self._replace_known(self._scan(text))
        if len(original) >= _CACHE_FROM:
            self._redacted[original] = (len(self._placeholders.known), text)
        return text

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
