"""Placeholders for secrets: how they are spelled, numbered and searched for.

Rules
-----
* **Spelling.** A placeholder is ``<redacted:LABEL#N>``. LABEL is the name the
  secret was first found under, lower-cased, with anything but letters, digits
  and ``._-[]`` turned into ``_`` (or the kind of shape, such as ``jwt``); it
  never holds ``<``, ``>``, ``#`` or spaces.
* **Numbering.** N counts the distinct values of one label in the order they
  are learned, from 1. One value gets one placeholder, whatever label it is met
  under later, so a report still shows that the cookie a patch sets equals a
  header. Placeholders already present in the input are counted, so a new one
  never reuses their number.
* **Derived values.** A credential with a scheme (``Bearer abc``) is hidden as
  ``Bearer <redacted:LABEL#N>``, the placeholder of the bare credential (``abc``),
  so the scheme stays readable; a ``Basic`` one also teaches its decoded
  ``user:password`` and the password alone. They share the label.
* **Known values.** A learned value is searched for in free text in all its
  spellings: raw, JSON-escaped, percent-encoded, shell-quoted, and their
  combinations (a JSON body inside a single-quoted curl argument), matched only
  where it is not part of a longer word. Values shorter than 4 characters,
  JSON literals (``true``, ``null``...) and values the caller marks as not
  searchable get a placeholder but are never searched for: they would mangle
  ordinary words.
* **Idempotent.** A placeholder is never searched into: text is rewritten only
  between placeholders (:func:`outside_placeholders`), and :func:`truncate`
  never cuts one in two.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from urllib.parse import quote, quote_plus, unquote

from reqbisect.formats.shell import ansi_c

__all__ = [
    "PLACEHOLDER", "Placeholders", "decode_basic", "decode_placeholders", "label_of", "outside_placeholders",
    "truncate",
]

#: A placeholder as this module writes it; the label never holds ``<``, ``>``, ``#`` or spaces.
PLACEHOLDER = re.compile(r"<redacted:([^<>#\s]+)#(\d+)>")
#: A placeholder after percent-encoding (a curl command's URL, a query string).
_ENCODED_PLACEHOLDER = re.compile(
    r"%3Credacted(?:%3A|:)((?:[A-Za-z0-9._~\-\[\]]|%[0-9A-Fa-f]{2})+?)(?:%23|#)(\d+)%3E", re.IGNORECASE
)
_SCHEME = re.compile(r"(?i)(bearer|token|bot|basic|digest)\s+(\S+)")
_LITERALS = frozenset({"true", "false", "null", "none", "undefined"})
_ALNUM = re.compile(r"[A-Za-z0-9]")


def label_of(name: str) -> str:
    """The label of a placeholder for a secret found under ``name``."""
    label = re.sub(r"[^a-z0-9._\-\[\]]+", "_", name.lower()).strip("_")[:40]
    return label or "secret"


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


def outside_placeholders(text: str, rewrite: Callable[[str], str]) -> str:
    """Apply ``rewrite`` to the stretches of ``text`` between placeholders."""
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(rewrite(text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(rewrite(text[last:]))
    return "".join(parts)


def decode_placeholders(text: str) -> str:
    """``text`` with percent-encoded placeholders spelled back as ``<redacted:LABEL#N>``."""
    return _ENCODED_PLACEHOLDER.sub(lambda m: f"<redacted:{unquote(m.group(1))}#{m.group(2)}>", text)


def decode_basic(credential: str) -> str | None:
    """The ``user:password`` a Basic credential encodes, or ``None`` when it is not one."""
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if ":" in decoded else None


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


class Placeholders:
    """The placeholders handed out so far: one per secret value, numbered per label (see the module rules)."""

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._spelled: dict[str, str] = {}
        self._patterns: dict[tuple[str, ...], re.Pattern[str]] = {}

    @property
    def known(self) -> Mapping[str, str]:
        """Every secret value learned so far, mapped to its placeholder."""
        return MappingProxyType(self._placeholders)

    def of(self, value: str, label: str, *, searchable: bool = True) -> str:
        """The placeholder for ``value``, handing out the next number of ``label`` if it is new.

        Args:
            value: the secret.
            label: the name it was found under, already a label (:func:`label_of`).
            searchable: False for a value that may be an ordinary word (``theme=light``):
                it is hidden where it sits but never searched for in free text.
        """
        found = self._placeholders.get(value)
        if found is not None:
            return found
        if PLACEHOLDER.search(value):  # already hidden (``Bearer <redacted:...>`` included)
            return value
        scheme = _SCHEME.fullmatch(value.strip())
        if scheme is not None:
            # The scheme stays readable (a server that wants "Bearer ..." still gets it from a repro).
            credential = scheme.group(2)
            placeholder = f"{scheme.group(1)} {self.of(credential, label, searchable=searchable)}"
            if scheme.group(1).lower() == "basic":
                self.learn_basic(credential, label)
        else:
            number = self._counts.get(label, 0) + 1
            self._counts[label] = number
            placeholder = f"<redacted:{label}#{number}>"
        self._placeholders[value] = placeholder
        if searchable and len(value.strip()) >= 4 and value.lower() not in _LITERALS:
            for spelling in _spellings(value):
                self._spelled.setdefault(spelling, placeholder)
        return placeholder

    def learn_basic(self, credential: str, label: str) -> None:
        """Learn the ``user:password`` a Basic credential encodes, and the password alone."""
        decoded = decode_basic(credential)
        if decoded is not None:
            self.of(decoded, label)
            self.of(decoded.split(":", 1)[1], label)

    def note_existing(self, text: str) -> None:
        """Count placeholders already in ``text``, so new ones never reuse their numbers."""
        for match in PLACEHOLDER.finditer(text):
            label, number = match.group(1), int(match.group(2))
            self._counts[label] = max(self._counts.get(label, 0), number)

    def _known_pattern(self, text: str) -> re.Pattern[str] | None:
        """One pattern for the known spellings that ``text`` holds (a substring test each, then one search)."""
        present = tuple(sorted((s for s in self._spelled if s in text), key=lambda s: (-len(s), s)))
        if not present:
            return None
        pattern = self._patterns.get(present)
        if pattern is None:
            alternatives = []
            for spelling in present:
                before = r"(?<![A-Za-z0-9])" if _ALNUM.match(spelling[0]) else ""
                after = r"(?![A-Za-z0-9])" if _ALNUM.match(spelling[-1]) else ""
                alternatives.append(f"{before}{re.escape(spelling)}{after}")
            pattern = self._patterns[present] = re.compile("|".join(alternatives))
        return pattern

    def replace_known(self, text: str) -> str:
        """``text`` with every spelling of a searchable known value replaced by its placeholder.

        Call it between placeholders only (:func:`outside_placeholders`).
        """
        pattern = self._known_pattern(text) if text else None
        if pattern is None:
            return text
        return pattern.sub(lambda m: self._spelled[m.group(0)], text)

    def replace_bytes(self, data: bytes) -> bytes:
        """Bytes with the UTF-8 spelling of every known value of 4 bytes or more replaced, longest first."""
        for value, placeholder in sorted(self._placeholders.items(), key=lambda kv: -len(kv[0])):
            raw = value.encode("utf-8", "surrogatepass")
            if len(raw) >= 4:
                data = data.replace(raw, placeholder.encode("ascii"))
        return data
