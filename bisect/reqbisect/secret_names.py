"""Which header, cookie, query and body key names hold secrets or credentials.

A name is split into words (``x-api-key`` -> x, api, key; ``accessToken`` ->
access, token). It holds a secret when a word is a secret word (``auth``,
``password``, ``session``, ...) or ends like one (``..._token``), when its
letters spell a known compound (``apikey``, ``clientsecret``), or when its last
word is ``key`` and the word before does not say what it keys (``idempotency``,
``cache``, ...). A last word that describes rather than holds (``token_type``,
``session_count``) makes it not a secret. Redaction (``report/redact.py``) and
input messages both ask here, so a value is never shown where it would be hidden.

Precision: a name is only a secret when its words say *credential*. A bare ``key``
(``{"project": {"key": "WID"}}``) or a name ending in ``key`` whose other words do
not name a credential (``x-tenant-key``) is a *credential position*
(:func:`is_credential_position`): its value is hidden only when it looks like a
credential (redaction decides that from the value's shape). A few known headers use
a secret word for a flag, not a credential (``x-atlassian-token: no-check``): they
are credential positions too, never secret by name alone.

A redirect to another origin asks a broader question (:func:`is_credential_header`):
the same words, and a few that only a header name uses for a credential (``hmac``,
``cert``, ``access``), anywhere in the name, even inside another word. Hiding a
harmless value in a report costs the reader something; dropping a harmless header
from a cross-origin hop costs little, and leaking a credential there costs a lot.
"""

from __future__ import annotations

import functools
import re

__all__ = ["is_credential_header", "is_credential_position", "is_secret_name"]

_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SECRET_WORDS = frozenset({
    "auth", "authorization", "pwd", "pass", "passwd", "password", "passphrase", "sid", "session",
    "secret", "cookie", "signature", "sig", "jwt", "bearer", "credential", "credentials", "csrf",
    "xsrf", "otp", "apikey", "authentication", "passcode", "totp", "mfa",
})
# "key" as the last word names a secret (x-tenant-key, license_key) unless one of these says what it keys.
_NOT_SECRET_KEYS = frozenset({
    "idempotency", "cache", "sort", "partition", "primary", "foreign", "dedup", "dedupe", "deduplication",
    "routing", "lookup", "object", "map", "hash", "public", "row", "range", "group",
})
# Headers whose name holds a secret word but whose value is a documented flag (Atlassian's XSRF opt-out).
_FLAG_HEADERS = frozenset({"x-atlassian-token"})
_SECRET_SUFFIXES = ("token", "secret", "password", "passwd", "sessid", "sessionid", "signature", "apikey", "cookie")
_SECRET_SPELLINGS = (
    "apikey", "accesskey", "secretkey", "privatekey", "subscriptionkey", "signingkey", "masterkey",
    "licensekey", "clientsecret", "password", "passwd", "sessionid", "sessid", "authorization", "credential",
)
# A last word that makes the name describe a secret rather than hold it: token_type, session_count.
_PROPERTY_WORDS = frozenset({
    "count", "counts", "type", "types", "kind", "limit", "limits", "length", "len", "size", "ttl",
    "expiry", "expires", "expiration", "exp", "in", "at", "url", "uri", "endpoint", "usage", "hint",
    "name", "format", "budget", "used", "remaining", "reset", "required", "enabled", "mode", "policy",
    "method", "scheme", "version",
})

# Stems a header name holds a credential by, anywhere in it: every secret word and suffix, and
# a few more that only a header uses that way (x-hmac, x-client-cert, x-access).
_CREDENTIAL_STEMS = tuple(sorted(_SECRET_WORDS | set(_SECRET_SUFFIXES) | {"key", "hmac", "cert", "access"}))


def _words(name: str) -> list[str]:
    return [word.lower() for part in _SPLIT.split(name) for word in _CAMEL.findall(part)]


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a header, cookie, query or body key name holds a secret (see the module rules)."""
    words = _words(name)
    if not words or words[-1] in _PROPERTY_WORDS or name.lower() in _FLAG_HEADERS:
        return False
    if any(word in _SECRET_WORDS or word.endswith(_SECRET_SUFFIXES) for word in words):
        return True
    compact = "".join(words)
    return any(spelling in compact for spelling in _SECRET_SPELLINGS)


@functools.lru_cache(maxsize=4096)
def is_credential_position(name: str) -> bool:
    """Whether a value under ``name`` is a credential when it looks like one (see the module rules).

    True for every secret name, for ``key`` and names ending in ``key`` that do not say
    what they key (``x-tenant-key``; not ``idempotency-key``), and for the flag headers.
    """
    if is_secret_name(name) or name.lower() in _FLAG_HEADERS:
        return True
    words = _words(name)
    return bool(words) and words[-1] == "key" and (len(words) == 1 or words[-2] not in _NOT_SECRET_KEYS)


def is_credential_header(name: str) -> bool:
    """Whether a header must not follow a redirect to another origin.

    Broader than :func:`is_secret_name` on purpose (see the module docstring): a
    stem anywhere in the name is enough, so ``x-client-cert``, ``x-hmac``,
    ``x-access`` and ``token_type`` are dropped as well; ``content-type``,
    ``accept`` and ``user-agent`` are kept. Every secret name is a credential header.
    """
    lowered = name.lower()
    return any(stem in lowered for stem in _CREDENTIAL_STEMS)
