"""``--good-if``/``--bad-if``: Python expressions over an answer that say what counts as good or bad.

An expression names ``status``, ``headers``, ``text``, ``json`` and ``elapsed``, and a
few safe builtins; one that names neither ``text`` nor ``json`` lets the transport
close an answer at its headers (docs/design.md, "Reading answers").
"""

from __future__ import annotations

import ast
import builtins
import functools
from dataclasses import dataclass, field
from typing import Any

from reqbisect._types import Document
from reqbisect.errors import InputError
from reqbisect.oracle import Reply
from reqbisect.outcome import Outcome

__all__ = ["Expression", "ExpressionOracle"]

_NAMES = ("status", "headers", "text", "json", "elapsed")
_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in ("len", "int", "float", "str", "bool", "any", "all", "min", "max", "abs", "isinstance", "dict", "list")
}


@dataclass(frozen=True, slots=True)
class Expression:
    """A Python expression over ``status``, ``headers``, ``text``, ``json`` and ``elapsed``."""

    source: str
    option: str
    code: Any = field(repr=False, compare=False)

    @classmethod
    def parse(cls, source: str, *, option: str) -> Expression:
        """Compile and check ``source``; raise :class:`InputError` naming ``option``.

        Raises:
            InputError: a syntax error, or a name that is not available.
        """
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            column = (exc.offset or 1)
            raise InputError(
                f"invalid expression: {exc.msg}", source=option, location=f"column {column}"
            ) from None
        bound = {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
        allowed = set(_NAMES) | set(_BUILTINS) | bound
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in allowed:
                raise InputError(
                    f"name {node.id!r} is not defined",
                    source=option,
                    hint="available: " + ", ".join(_NAMES),
                )
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                raise InputError(f"attribute {node.attr!r} is not available", source=option)
        return cls(source, option, compile(tree, option, "eval"))

    @property
    def reads_body(self) -> bool:
        """Whether the expression names ``text`` or ``json`` (else the body is never read for it)."""
        return bool(_body_names(self.source))

    def holds(self, reply: Reply) -> bool | None:
        """True or False, or None when the expression fails on this reply (:meth:`failure` says why)."""
        try:
            return self._evaluate(reply)
        except Exception:  # the user's expression on an unexpected body
            return None

    def failure(self, reply: Reply) -> str | None:
        """Why the expression fails on ``reply``, with the expression and the answer; None when it does not."""
        try:
            self._evaluate(reply)
        except Exception as exc:
            detail = f"{type(exc).__name__} {exc}" if str(exc) else type(exc).__name__
            return f"{self.option} {self.source!r} failed with {detail} on {reply.short()}"
        return None

    def _evaluate(self, reply: Reply) -> bool:
        names = {
            "status": reply.status,
            "headers": {key.lower(): value for key, value in reply.headers},
            "text": reply.text,
            "json": reply.json,
            "elapsed": reply.elapsed,
        }
        return bool(eval(self.code, {"__builtins__": _BUILTINS}, names))  # noqa: S307


@functools.lru_cache(maxsize=64)
def _body_names(source: str) -> frozenset[str]:
    names = {node.id for node in ast.walk(ast.parse(source, mode="eval")) if isinstance(node, ast.Name)}
    return frozenset(names & {"text", "json"})


@dataclass(frozen=True, slots=True)
class ExpressionOracle:
    """``--good-if`` and/or ``--bad-if``: the one given decides, the other is its negation."""

    good_if: Expression | None
    bad_if: Expression | None

    def reads_body(self, status: int, headers: tuple[tuple[str, str], ...]) -> bool:
        """Whether either expression names the body (``text`` or ``json``)."""
        return any(expression.reads_body for expression in (self.good_if, self.bad_if) if expression is not None)

    @property
    def description(self) -> str:
        """How it tells good from bad, in words (``describe_oracle``)."""
        return " and ".join(f"{e.option} {e.source}" for e in (self.good_if, self.bad_if) if e is not None)

    def failure(self, reply: Reply) -> str | None:
        """Why an expression fails on ``reply`` (None when both evaluate), for messages."""
        for expression in (self.good_if, self.bad_if):
            why = expression.failure(reply) if expression is not None and reply.error is None else None
            if why is not None:
                return why
        return None

    def __call__(self, reply: Reply, document: Document) -> Outcome:
        if reply.error is not None:
            return Outcome.UNRESOLVED
        good = self.good_if.holds(reply) if self.good_if else None
        bad = self.bad_if.holds(reply) if self.bad_if else None
        if self.good_if and self.bad_if:
            if good and not bad:
                return Outcome.GOOD
            if bad and not good:
                return Outcome.BAD
            return Outcome.UNRESOLVED
        decided = good if self.good_if else (None if bad is None else not bad)
        if decided is None:
            return Outcome.UNRESOLVED
        return Outcome.GOOD if decided else Outcome.BAD
