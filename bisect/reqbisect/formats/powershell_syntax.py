"""PowerShell values for :mod:`.powershell`: what a "Copy as PowerShell" script writes.

:class:`Reader` is a cursor over a script that reads, without running anything:
``"..."`` strings (backtick escapes, ``""``, ``$([char]N)`` with N a UTF-16 code unit,
``$name`` of a string the script assigned), ``'...'`` strings (``''``), here-strings
``@"..."@`` and ``@'...'@``, hashtables ``@{ k = v; ... }``,
``[System.Text.Encoding]::UTF8.GetBytes(...)``, ``New-Object`` (or ``[T]::new``) of a
WebRequestSession or a System.Net.Cookie, ``$name`` references (resolved where used),
numbers, and bare words in argument mode. Anything else is an error with line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reqbisect.errors import InputError
from reqbisect.formats.fetch import usv_string

__all__ = ["NAME", "Cookie", "Hash", "Reader", "Session", "Var"]

_ESCAPES = dict(zip("0abefnrtv", "\0\a\b\x1b\x0c\n\r\t\v"))
#: A variable name, with an optional scope (``$env:X``, ``$global:y``).
NAME = re.compile(r"[A-Za-z_][\w]*(?::[A-Za-z_]\w*)?")


@dataclass
class Session:
    """A WebRequestSession: the user agent and the cookies it adds."""

    user_agent: str | None = None
    cookies: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str


@dataclass(frozen=True)
class Var:
    """A reference to ``$name``, resolved only where its value is used."""

    name: str
    pos: int


@dataclass(frozen=True)
class Hash:
    #: (key, value, where the key starts)
    pairs: tuple[tuple[str, Any, int], ...]


class Reader:
    """A cursor over the script; ``self.variables`` holds what assignments gave."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source, self.pos = text, source, 0
        self.variables: dict[str, Any] = {}
        self.warnings: list[str] = []

    def line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def error(self, message: str, pos: int | None = None, **kwargs: str) -> InputError:
        pos = self.pos if pos is None else pos
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return InputError(message, source=self.source, location=f"line {self.line(pos)}, column {column}", **kwargs)

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def blank(self, *, newlines: bool = False) -> None:
        """Skip spaces, continuations and comments (and newlines and ``;`` when asked)."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t" or (newlines and char in "\n;"):
                self.pos += 1
            elif self.peek(2) == "`\n":
                self.pos += 2
            elif self.peek(2) == "<#":
                end = self.text.find("#>", self.pos)
                if end < 0:
                    raise self.error("unterminated comment '<#'")
                self.pos = end + 2
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def at_end(self) -> bool:
        return self.pos >= len(self.text) or self.text[self.pos] in "\n;|)}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Var):
            if value.name.lower() not in self.variables:
                raise self.error(f"${value.name} is not assigned in the script", value.pos,
                                 hint="reqbisect reads the script but runs nothing; write the value in place")
            return self.variables[value.name.lower()]
        return value

    def text_of(self, value: Any, what: str, pos: int) -> str:
        value = self.resolve(value)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"{what} must be a string", pos, got=type(value).__name__)
        return str(value)

    # -- values ----------------------------------------------------------------------

    def value(self, *, bare: bool) -> Any:
        """One value; ``bare`` allows a bare word (argument mode), as after a parameter."""
        self.blank()
        start, char = self.pos, self.peek()
        if char == '"':
            return self.string('"')
        if char == "'":
            return self.string("'")
        if self.peek(2) in ('@"', "@'"):
            return self.here_string()
        if self.peek(2) == "@{":
            return self.hashtable()
        if char == "(":
            self.pos += 1
            inner = self.expression()
            self.blank(newlines=True)
            if self.peek() != ")":
                raise self.error("missing ')'", got=repr(self.peek()) if self.peek() else "the end of the script")
            self.pos += 1
            return inner
        if char == "$":
            match = NAME.match(self.text, self.pos + 1)
            if not match:
                raise self.error("expected a variable name after '$'")
            self.pos = match.end()
            name = match.group()
            return {"null": None, "true": True, "false": False}.get(name.lower(), Var(name, start))
        if char == "[":
            return self.static_call()
        match = re.compile(r"-?\d+(\.\d+)?(?![^\s;|)}`,])").match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return match.group()
        if bare and char and char not in "\n;|)}":
            match = re.compile(r"(?:[^\s;|)}`,]|`.)+").match(self.text, self.pos)
            assert match is not None
            self.pos = match.end()
            return re.sub(r"`(.)", r"\1", match.group())
        raise self.error("expected a value", got=repr(char) if char else "the end of the script")

    def expression(self) -> Any:
        """A value, or ``New-Object TYPE(ARGS)`` where an expression may stand."""
        self.blank()
        match = re.compile(r"New-Object\s+(?:-TypeName\s+)?([\w.]+)", re.I).match(self.text, self.pos)
        if not match:
            return self.value(bare=False)
        start, self.pos = self.pos, match.end()
        self.blank()
        args: list[Any] = []
        if self.peek() == "(":
            self.pos += 1
            args = self.arguments()
        return self.construct(match.group(1), args, start)

    def arguments(self) -> list[Any]:
        """Comma-separated values up to a ``)``, which is consumed."""
        args: list[Any] = []
        while True:
            self.blank(newlines=True)
            if self.peek() == ")":
                self.pos += 1
                return args
            args.append(self.expression())
            self.blank(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != ")":
                raise self.error("missing ',' or ')' in the argument list",
                                 got=repr(self.peek()) if self.peek() else "the end of the script")

    def construct(self, type_name: str, args: list[Any], pos: int) -> Any:
        short = type_name.lower().rsplit(".", 1)[-1]
        if short == "webrequestsession":
            return Session()
        if short == "cookie" and 2 <= len(args) <= 4:
            return Cookie(self.text_of(args[0], "a cookie name", pos), self.text_of(args[1], "a cookie value", pos))
        raise self.error(f"cannot create a {type_name} here", pos,
                         expected="a Microsoft.PowerShell.Commands.WebRequestSession or a "
                                  "System.Net.Cookie(name, value, path, domain)")

    def static_call(self) -> Any:
        start = self.pos
        match = re.compile(r"\[([\w.]+)\]::([\w.]+)\s*\(", re.I).match(self.text, self.pos)
        if not match:
            raise self.error("expected a static call such as [System.Text.Encoding]::UTF8.GetBytes(...)")
        self.pos = match.end()
        args = self.arguments()
        type_name, member = match.group(1).lower(), match.group(2).lower()
        if type_name.endswith("text.encoding") and member == "utf8.getbytes" and len(args) == 1:
            return usv_string(self.text_of(args[0], "the text to encode", start)).encode("utf-8")
        if member == "new":
            return self.construct(match.group(1), args, start)
        raise self.error(f"[{match.group(1)}]::{match.group(2)}(...) cannot be evaluated", start,
                         expected="[System.Text.Encoding]::UTF8.GetBytes(TEXT)")

    def string(self, quote: str) -> str:
        start, out = self.pos, []
        self.pos += 1
        while True:
            if self.pos >= len(self.text):
                raise self.error(f"unterminated string (the {quote} opened here is never closed)", start)
            char = self.text[self.pos]
            if char == quote:
                if self.peek(2) == quote * 2:
                    out.append(quote)
                    self.pos += 2
                    continue
                self.pos += 1
                return usv_string("".join(out))
            if quote == '"' and char in "`$":
                out.append(self.expansion())
            else:
                out.append(char)
                self.pos += 1

    def here_string(self) -> str:
        start, quote = self.pos, self.text[self.pos + 1]
        match = re.compile(r"@[\"'][ \t]*\n").match(self.text, self.pos)
        if not match:
            raise self.error(f"a here-string must end its first line after @{quote}", start)
        self.pos = match.end()
        end = self.text.find(f"\n{quote}@", self.pos - 1)
        if end < 0:
            raise self.error(f"unterminated here-string: no line starting with {quote}@", start)
        if quote == "'":
            body, self.pos = self.text[self.pos : end], end + 3
            return usv_string(body)
        out = []
        while self.pos < end:
            if self.text[self.pos] in "`$":
                out.append(self.expansion())
            else:
                out.append(self.text[self.pos])
                self.pos += 1
        self.pos = end + 3
        return usv_string("".join(out))

    def expansion(self) -> str:
        """A backtick escape or a ``$`` expansion inside a double-quoted string."""
        start = self.pos
        if self.text[self.pos] == "`":
            char = self.text[self.pos + 1 : self.pos + 2]
            braced = re.compile(r"`u\{([0-9A-Fa-f]{1,6})\}").match(self.text, self.pos)
            if braced:
                self.pos = braced.end()
                return chr(int(braced.group(1), 16))
            self.pos += 2
            return _ESCAPES.get(char, char)
        char_code = re.compile(r"\$\(\s*\[char\]\s*(0x[0-9A-Fa-f]+|\d+)\s*\)", re.I).match(self.text, self.pos)
        if char_code:
            self.pos = char_code.end()
            return chr(int(char_code.group(1), 0))
        if self.peek(2) == "$(":
            raise self.error("only $([char]N) can be evaluated inside a string", start)
        match = re.compile(r"\$(?:\{([^}]+)\}|(" + NAME.pattern + "))").match(self.text, self.pos)
        if not match:
            self.pos += 1
            return "$"
        self.pos = match.end()
        return self.text_of(Var(match.group(1) or match.group(2), start), "a variable inside a string", start)

    def hashtable(self) -> Hash:
        start, pairs = self.pos, list[tuple[str, Any, int]]()
        self.pos += 2
        while True:
            self.blank(newlines=True)
            if self.pos >= len(self.text):
                raise self.error("unterminated hashtable: no '}' closes this '@{'", start)
            if self.peek() == "}":
                self.pos += 1
                return Hash(tuple(pairs))
            key_at = self.pos
            if self.peek() in "\"'":
                key = self.string(self.peek())
            else:
                match = re.compile(r"[^\s=;}]+").match(self.text, self.pos)
                assert match is not None
                key, self.pos = match.group(), match.end()
            self.blank()
            if self.peek() != "=":
                raise self.error(f"missing '=' after the key {key!r}", got=repr(self.peek()) if self.peek() else
                                 "the end of the script")
            self.pos += 1
            pairs.append((key, self.expression(), key_at))
            self.blank()
            if self.pos < len(self.text) and self.peek() not in "\n;}":
                raise self.error("missing a new line or ';' between hashtable entries", got=repr(self.peek()))

    def skip_statement(self) -> None:
        """Move to the end of the statement at the cursor, past its quotes and brackets."""
        depth, quote = 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                quote = "" if char == quote else quote
                self.pos += 2 if char == "`" and quote == '"' else 1
                continue
            if char == "`":
                self.pos += 2
                continue
            if char in "\"'":
                quote = char
            elif char in "({[":
                depth += 1
            elif char in ")}]":
                depth -= 1
            elif char in "\n;" and depth <= 0:
                return
            self.pos += 1
