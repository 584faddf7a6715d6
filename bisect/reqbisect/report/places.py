"""Which places of a request document may hold a secret, and how sure that is.

A place is a JSON Pointer's tokens (``("headers", "x-api-key")``). :class:`Places`
answers for one run's ``--redact`` and ``--keep`` values (the rules are in
:mod:`reqbisect.report.redact`): a place is secret by name (:data:`NAMED`), is a
cookie (:data:`COOKIE`, hidden where it sits), is a credential position
(:data:`POSITION`, secret only when the value looks like a credential), or is
none of these. Answers are remembered per place: a large body asks about the
same few names thousands of times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reqbisect._types import JSONValue
from reqbisect.errors import InputError
from reqbisect.pointer import parse_pointer, resolve
from reqbisect.report.placeholders import label_of
from reqbisect.report.shapes import looks_like_credential
from reqbisect.secret_names import is_credential_position, is_secret_name

__all__ = ["COOKIE", "NAMED", "POSITION", "Places", "check_extra", "unmatched_extra"]

#: How sure a place is to hold a secret: by name, a cookie, or only if the value looks like one.
NAMED, COOKIE, POSITION = 2, 1, 0


def check_extra(values: Iterable[str], *, option: str = "--redact") -> tuple[str, ...]:
    """Validate ``--redact`` (or ``--keep``) values: names, or JSON pointers starting with ``/``.

    Raises:
        InputError: an empty name or the empty pointer ``/``.
    """
    checked = []
    for value in values:
        if not value.strip() or value == "/":
            raise InputError(
                "not a name or a JSON pointer",
                source=option,
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


def _under(tokens: Sequence[str], pointer: Sequence[str]) -> bool:
    """Whether ``tokens`` lie at or below ``pointer`` (header names compare without case)."""
    return len(tokens) >= len(pointer) and all(
        a == b or (pointer[0] == "headers" and a.lower() == b.lower()) for a, b in zip(pointer, tokens)
    )


class Places:
    """Where secrets are, for the given ``--redact`` (``extra``) and ``--keep`` values."""

    def __init__(self, *, extra: Iterable[str] = (), keep: Iterable[str] = ()) -> None:
        extra, keep = check_extra(extra), check_extra(keep, option="--keep")
        self._names = frozenset(value.lower() for value in extra if not value.startswith("/"))
        self._pointers = tuple(parse_pointer(value) for value in extra if value.startswith("/"))
        self._keep_names = frozenset(value.lower() for value in keep if not value.startswith("/"))
        self._keep_pointers = tuple(parse_pointer(value) for value in keep if value.startswith("/"))
        self._classified: dict[tuple[str, ...], tuple[str, int] | None] = {}

    def secret_name(self, name: str) -> bool:
        """Whether ``name`` holds a secret whatever its value (a credential name, or named by ``--redact``)."""
        return name.lower() in self._names or is_secret_name(name)

    def secret_pair(self, name: str, value: str) -> bool:
        """Whether ``name=value`` in free text hides a secret (a pair's name is never kept)."""
        return self.secret_name(name) or (is_credential_position(name) and looks_like_credential(value))

    def _kept(self, tokens: Sequence[str]) -> bool:
        named = tokens[1:2] if tokens[:1] in (("headers",), ("query",), ("cookies",)) else tokens
        return any(_under(tokens, pointer) for pointer in self._keep_pointers) or any(
            token.lower() in self._keep_names for token in named
        )

    def classify(self, tokens: Sequence[str]) -> tuple[str, int] | None:
        """(label, how sure) when the value at ``tokens`` may be secret: by name, as a cookie, or by position."""
        key = tuple(tokens)
        if key not in self._classified:
            self._classified[key] = self._classify_anew(key)
        return self._classified[key]

    def _classify_anew(self, tokens: tuple[str, ...]) -> tuple[str, int] | None:
        for pointer in self._pointers:
            if _under(tokens, pointer):
                named = [t for t in pointer if not t.isdigit()]
                return label_of(named[-1] if named else "secret"), NAMED
        if not tokens or self._kept(tokens):
            return None
        area = tokens[0]
        if area in ("headers", "query", "cookies"):
            if len(tokens) < 2:
                return None
            if self.secret_name(tokens[1]):
                return label_of(tokens[1]), NAMED
            if area == "cookies":
                return label_of(tokens[1]), COOKIE
            return (label_of(tokens[1]), POSITION) if is_credential_position(tokens[1]) else None
        if area in ("method", "url", "body_base64") and len(tokens) == 1:
            return None
        for token in reversed(tokens):
            if not token.isdigit() and self.secret_name(token):
                return label_of(token), NAMED
        last = next((t for t in reversed(tokens) if not t.isdigit()), "")
        return (label_of(last), POSITION) if is_credential_position(last) else None

    def label(self, tokens: Sequence[str]) -> str:
        """The placeholder label for the place (``secret`` where no name says more)."""
        found = self.classify(tokens)
        return found[0] if found is not None else "secret"
