"""Finding secrets in free text by their shape, where no name says they are secret.

Rules
-----
* **Known formats.** ``Bearer`` credentials, JWTs, PEM private keys, the
  password in a URL (``https://user:PASSWORD@host``), and keys with a known
  vendor prefix (``sk-ant-``, ``sk-``, ``ghp_``, ``xoxb-``, ``AKIA``, ``AIza``...).
  The placeholder is labelled by the kind (``jwt``, ``aws-key``); only the
  secret part of a match is replaced (``Bearer <redacted:bearer#1>``).
* **Basic credentials** count only when their base64 decodes to UTF-8 text
  holding a ``:``, so ``Basic realm`` in prose stays; the decoded
  ``user:password`` and the password alone are learned as well.
* **Named pairs.** ``"name": "value"``, ``name=value`` and ``name: value``
  where the name is secret for that value (the caller says which are): the
  value is replaced, labelled by the name.
* **Credential-looking values** (:func:`looks_like_credential`): a known format,
  or a long high-entropy string (16 characters or more, no spaces, two kinds of
  characters, about 3 bits of entropy per character: an AWS secret key, a random
  token). Only asked about values in credential positions (``key``,
  ``x-atlassian-token``), so ``WID-50`` and ``no-check`` stay readable. A value already a placeholder is left
  alone, and a pair's value is only looked ahead at, so a non-secret pair
  (``https://host/?api_key=...``) never hides the pairs inside its value.

Every value found is learned by the given :class:`Placeholders`, so it is then
searched for everywhere else as a known value. Shapes are matched only between
placeholders, so redacting twice changes nothing more.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable

from reqbisect.report.placeholders import PLACEHOLDER, Placeholders, decode_basic, label_of, outside_placeholders

__all__ = ["looks_like_credential", "redact_shapes"]

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
_NAME = r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,63}"
_PAIR = re.compile(
    rf"(?<![A-Za-z0-9_.\-\[\]<])(?P<name>{_NAME})\s*[:=]\s*"
    r"(?=(?P<value>(?:(?:Bearer|Basic|Token|Digest)\s+)?[^\s\"'&;,<>]+)(?=[\s\"'&;,<>]|$)(?!\s*<redacted:))"
)
_JSON_PAIR = re.compile(r'"(?P<name>[^"\\]{1,64})"\s*:\s*"(?P<value>(?:[^"\\]|\\.)+)"')


def looks_like_credential(value: str) -> bool:
    """Whether ``value`` has the shape of a credential: a known format, or long and random."""
    value = value.strip()
    basic = _BASIC.search(value)
    if any(pattern.search(value) for _, pattern, _ in _SHAPES) or (
        basic is not None and decode_basic(basic.group(1)) is not None
    ):
        return True
    if len(value) < 16 or any(c.isspace() for c in value):
        return False
    kinds = sum(any(test(c) for c in value) for test in (str.islower, str.isupper, str.isdigit))
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return kinds >= 2 and entropy >= 3.0


def redact_shapes(text: str, placeholders: Placeholders, *, is_secret: Callable[[str, str], bool]) -> str:
    """``text`` with named pairs, then known formats and Basic credentials, replaced (see the module rules).

    Args:
        text: free text, possibly holding placeholders already.
        placeholders: hands out the placeholders and learns every value found.
        is_secret: whether a pair's value is secret under its name (name, value).
    """
    text = _replace_pairs(text, placeholders, is_secret)
    return outside_placeholders(text, lambda stretch: _replace_formats(stretch, placeholders))


#: Literals each format's matches hold (lower-cased), so that long text is only searched for formats it may hold.
_HINTS = {
    "private-key": ("-----begin",), "jwt": ("eyj",), "anthropic-key": ("sk-ant-",), "openai-key": ("sk-",),
    "stripe-key": ("k_live_", "k_test_"), "github-token": ("gh", "github_pat_"), "gitlab-token": ("glpat-",),
    "slack-token": ("xox",), "aws-key": ("akia", "asia"), "google-key": ("aiza",), "google-token": ("ya29.",),
    "huggingface-token": ("hf_",), "npm-token": ("npm_",), "sendgrid-key": ("sg.",), "bearer": ("bearer",),
    "url-password": ("://",),
}


def _replace_formats(text: str, placeholders: Placeholders) -> str:
    lowered = text.lower()
    for label, pattern, group in _SHAPES:
        if not any(hint in lowered for hint in _HINTS[label]):
            continue
        def one(match: re.Match[str], label: str = label, group: int = group) -> str:
            secret = match.group(group)
            start, end = match.start(group) - match.start(), match.end(group) - match.start()
            whole = match.group(0)
            return whole[:start] + placeholders.of(secret, label) + whole[end:]

        text = pattern.sub(one, text)

    def basic(match: re.Match[str]) -> str:
        credential = match.group(1)
        if decode_basic(credential) is None:
            return match.group(0)
        placeholder = placeholders.of(credential, "basic")
        placeholders.learn_basic(credential, "basic")
        return match.group(0).replace(credential, placeholder)

    return _BASIC.sub(basic, text) if "basic" in lowered else text


def _replace_pairs(text: str, placeholders: Placeholders, is_secret: Callable[[str, str], bool]) -> str:
    """Secret ``"name": "value"``, ``name=value`` and ``name: value`` pairs.

    Runs over the whole text rather than between placeholders, so that
    ``Authorization: Bearer <redacted:...>`` is seen as already hidden instead
    of taking ``Bearer`` for the secret.
    """
    def json_pair(match: re.Match[str]) -> str:
        name, escaped = match.group("name"), match.group("value")
        if PLACEHOLDER.fullmatch(escaped):
            return match.group(0)
        try:
            value = json.loads(f'"{escaped}"')
        except ValueError:
            value = escaped
        if not is_secret(name, value):
            return match.group(0)
        start = match.start("value") - match.start()
        return match.group(0)[:start] + placeholders.of(value, label_of(name)) + '"'

    text = _JSON_PAIR.sub(json_pair, text)
    parts, last = [], 0
    for match in _PAIR.finditer(text):
        if match.start() < last or not is_secret(match.group("name"), match.group("value")):
            continue
        parts.append(text[last : match.start("value")])
        parts.append(placeholders.of(match.group("value"), label_of(match.group("name"))))
        last = match.end("value")
    parts.append(text[last:])
    return "".join(parts)
