"""Shell words: how bash, Windows cmd and PowerShell split a command line, and bash quoting.

A "Copy as cURL" capture is a shell command, so reading it means splitting it the way
the shell that runs it would; writing one back means quoting for bash.

* bash: ``\\`` escapes and line continuations, ``'...'``, ``"..."`` (``\\`` escapes only
  ``$ ` " \\`` and newline), ``$'...'`` ANSI-C quoting (a NUL ends the string, as in
  bash), ``#`` comments, and ``<(printf '...')`` process substitution for data files.
* Windows cmd (Chrome's "Copy as cURL (cmd)"): cmd's ``^`` escapes and continuations
  first, then the C runtime's argument rules (``"..."``, ``\\"``, ``""``).
* PowerShell with ``curl.exe``: backtick escapes and continuations, ``'...'`` (``''``)
  and ``"..."`` (backtick escapes, ``""``).
Variables are never expanded (a warning says so).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from reqbisect.errors import InputError

__all__ = ["Word", "ansi_c", "commands", "quote"]

_CONTROL = dict(zip("abefnrtv", "\a\b\x1b\x0c\n\r\t\v"), E="\x1b")
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word and where it starts (1-based line and column)."""

    text: str
    line: int
    column: int


# -- shell words ----------------------------------------------------------------------


class _Splitter:
    """Shared bookkeeping: positions, the word being built, commands, warnings."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self.commands: list[list[Word]] = [[]]
        self.word: list[str] | None = None
        self.start = 0
        self.files: dict[str, bytes] = {}
        self.warnings: list[str] = []

    def where(self, pos: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, pos) + 1
        return line, pos - (self.text.rfind("\n", 0, pos) + 1) + 1

    def error(self, message: str, pos: int) -> InputError:
        line, column = self.where(pos)
        return InputError(message, source=self.source, location=f"line {line}, column {column}")

    def add(self, text: str, pos: int) -> None:
        if self.word is None:
            self.word, self.start = [], pos
        self.word.append(text)

    def end_word(self) -> None:
        if self.word is not None:
            self.commands[-1].append(Word("".join(self.word), *self.where(self.start)))
            self.word = None

    def end_command(self) -> None:
        self.end_word()
        if self.commands[-1]:
            self.commands.append([])

    def no_expansion(self, pos: int) -> None:
        if re.match(r"[$`][A-Za-z_{(]", self.text[pos : pos + 2]):
            line, column = self.where(pos)
            self.warnings.append(f"line {line}, column {column}: shell expansion is not performed; "
                                 "the text is taken literally")


def _escape(text: str, i: int, out: bytearray) -> int:
    """Decode the backslash escape starting at ``text[i]`` (just after the backslash) into ``out``."""
    ch = text[i] if i < len(text) else ""
    if ch in _CONTROL:
        out += _CONTROL[ch].encode()
        return i + 1
    if ch in _HEX_WIDTH:
        j = i + 1
        while j < len(text) and j <= i + _HEX_WIDTH[ch] and text[j] in string.hexdigits:
            j += 1
        code = int(text[i + 1 : j], 16) if j > i + 1 else -1
        if ch == "x" and code >= 0:
            out.append(code)
        elif 0 <= code <= 0x10FFFF:
            out += chr(code).encode("utf-8", "surrogatepass")
        else:
            out += text[i - 1 : j].encode()
        return j
    if ch and ch in "01234567":
        j = i
        while j < len(text) and j < i + 3 and text[j] in "01234567":
            j += 1
        out.append(int(text[i:j], 8) & 0xFF)
        return j
    if ch == "c" and i + 1 < len(text):
        out.append(ord(text[i + 1]) & 0x1F)
        return i + 2
    out += (ch if ch in "\\'\"?" else "\\" + ch).encode()
    return i + 1


def _split_bash(text: str, source: str) -> _Splitter:
    s, i, n = _Splitter(text, source), 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            if text.startswith("\n", i + 1):
                i += 2
                continue
            s.add(text[i + 1 : i + 2], i)
            i += 2
        elif ch in " \t":
            s.end_word()
            i += 1
        elif ch in "\n;&|<>" and not text.startswith("<(", i):
            if ch in "<>" and s.word is not None and "".join(s.word).isdigit():
                s.word = None
            s.end_command()
            if ch in "<>":
                s.commands[-1].append(Word(ch, *s.where(i)))
            i += 1
        elif ch == "#" and s.word is None:
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise s.error("unterminated single quote", i)
            s.add(text[i + 1 : end], i)
            i = end + 1
        elif text.startswith("$'", i):
            j = i + 2
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise s.error("unterminated single quote", i)
            s.add(_ansi_c(text[i + 2 : j]), i)
            i = j + 1
        elif ch == '"' or text.startswith('$"', i):
            i = _double_quoted(s, i + (2 if ch == "$" else 1), i)
        elif text.startswith("<(", i):
            i = _process_substitution(s, i)
        elif ch == "`" and re.match(r"`\s*(#[^`\n]*)?`", text[i:]):
            # A command substitution holding only a comment (a way to comment a
            # continued line) expands to nothing.
            i = text.index("`", i + 1) + 1
        else:
            if ch in "$`":
                s.no_expansion(i)
            s.add(ch, i)
            i += 1
    s.end_command()
    return s


def _ansi_c(body: str) -> str:
    """The value of ``$'body'``: escapes decoded, cut at the first NUL as bash does."""
    out, i = bytearray(), 0
    while i < len(body):
        if body[i] == "\\":
            i = _escape(body, i + 1, out)
        else:
            out += body[i].encode("utf-8", "surrogateescape")
            i += 1
    return bytes(out).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _double_quoted(s: _Splitter, i: int, opening: int) -> int:
    text, chunk = s.text, []
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                chunk.append(text[i + 1])
            i += 2
            continue
        if text[i] in "$`":
            s.no_expansion(i)
        chunk.append(text[i])
        i += 1
    if i >= len(text):
        raise s.error("unterminated double quote", opening)
    s.add("".join(chunk), opening)
    return i + 1


def _process_substitution(s: _Splitter, i: int) -> int:
    """``<(printf 'FORMAT')``: the format's bytes stand in for a file, like bash's /dev/fd/N."""
    depth, j, text = 0, i + 1, s.text
    while j < len(text):
        if text[j] == "'":
            j = text.find("'", j + 1)
            if j < 0:
                raise s.error("unterminated single quote", i)
        elif text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                break
        j += 1
    else:
        raise s.error("unterminated process substitution", i)
    inner = [w.text for w in _split_bash(text[i + 2 : j], s.source).commands[0]]
    if len(inner) != 2 or inner[0] != "printf" or re.search(r"%[^%]", inner[1].replace("%%", "")):
        raise s.error("only <(printf 'FORMAT') is understood as a process substitution", i)
    out, k, fmt = bytearray(), 0, inner[1]
    while k < len(fmt):
        if fmt[k] == "\\":
            k = _escape(fmt, k + 1, out)
        else:
            out += fmt[k].encode("utf-8", "surrogateescape")
            k += 2 if fmt.startswith("%%", k) else 1
    path = f"/dev/fd/{63 - len(s.files)}"
    s.files[path] = bytes(out)
    s.add(path, i)
    return j + 1


def _split_cmd(text: str, source: str) -> _Splitter:
    # cmd.exe first: ^ escapes outside its quotes, ^ + newline continues the line and
    # takes the next character literally; & | < > and newlines end the command.
    s = _Splitter(text, source)
    chars: list[tuple[str, int]] = []
    quoted, i = False, 0
    while i < len(text):
        ch = text[i]
        if ch == "%" and re.match(r"%[A-Za-z_][A-Za-z0-9_]*%", text[i:]):
            line, column = s.where(i)
            s.warnings.append(f"line {line}, column {column}: variables are not expanded; the text is taken "
                              "literally")
        if ch == "^" and not quoted and i + 1 < len(text):
            i += 2 if text[i + 1] == "\n" else 1
            if i < len(text):
                chars.append((text[i], i))
            i += 1
            continue
        if ch == '"':
            quoted = not quoted
        chars.append(("\0" if ch in "\n&|<>" and not quoted else ch, i))
        i += 1
    # Then the C runtime's rules for the program's arguments.
    k, in_quote, opening = 0, False, 0
    while k < len(chars):
        ch, pos = chars[k]
        if ch == "\0":
            if in_quote:
                raise s.error("unterminated double quote", opening)
            s.end_command()
        elif ch == "\\":
            run = k
            while run < len(chars) and chars[run][0] == "\\":
                run += 1
            count = run - k
            if run < len(chars) and chars[run][0] == '"':
                s.add("\\" * (count // 2) + ('"' if count % 2 else ""), pos)
                k = run + (1 if count % 2 else 0)
            else:
                s.add("\\" * count, pos)
                k = run
            continue
        elif ch == '"':
            if in_quote and k + 1 < len(chars) and chars[k + 1][0] == '"':
                s.add('"', pos)
                k += 1
            else:
                in_quote, opening = not in_quote, pos
                s.add("", pos)
        elif ch in " \t" and not in_quote:
            s.end_word()
        else:
            s.add(ch, pos)
        k += 1
    if in_quote:
        raise s.error("unterminated double quote", opening)
    s.end_command()
    return s


_PS_ESCAPES = dict(zip("0abefnrtv", "\0\a\b\x1b\x0c\n\r\t\v"))


def _split_powershell(text: str, source: str) -> _Splitter:
    s, i, n = _Splitter(text, source), 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "`":
            if text.startswith("\n", i + 1):
                i += 2
                continue
            s.add(text[i + 1 : i + 2], i)
            i += 2
        elif ch in " \t":
            s.end_word()
            i += 1
        elif ch in "\n;|":
            s.end_command()
            i += 1
        elif ch == "#" and s.word is None:
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif ch in "'\"":
            j, chunk, kind = i + 1, [], "single" if ch == "'" else "double"
            while True:
                if j >= n:
                    raise s.error(f"unterminated {kind} quote", i)
                if text[j] == ch:
                    if text.startswith(ch, j + 1):
                        chunk.append(ch)
                        j += 2
                        continue
                    break
                if ch == '"' and text[j] == "`" and j + 1 < n:
                    chunk.append(_PS_ESCAPES.get(text[j + 1], text[j + 1]))
                    j += 2
                    continue
                if ch == '"' and text[j] == "$":
                    s.no_expansion(j)
                chunk.append(text[j])
                j += 1
            s.add("".join(chunk), i)
            i = j + 1
        else:
            if ch == "$":
                s.no_expansion(i)
            s.add(ch, i)
            i += 1
    s.end_command()
    return s


def _dialect(text: str) -> str:
    if re.search(r"`\n", text):
        return "powershell"
    # cmd's caret escapes, outside bash single quotes (where ^" is text) and escapes ('it'\''s').
    unquoted = re.sub(r"\\.|'[^']*'", "", text)
    if re.search(r"\^\n|\^\"", unquoted):
        return "cmd"
    if re.match(r"\s*curl\.exe\b", text):
        return "powershell" if "'" in text else "cmd"
    return "bash"


def commands(
    text: str, *, source: str, dialect: str | None = None
) -> tuple[list[list[Word]], dict[str, bytes], list[str]]:
    """Split a script into its commands, each a list of words.

    Args:
        text: a command or a script, in bash, cmd or PowerShell syntax.
        source: the file name, for messages.
        dialect: ``"bash"``, ``"cmd"`` or ``"powershell"``; sniffed when ``None``.

    Returns:
        The non-empty commands, the contents of ``<(printf ...)`` process
        substitutions by the path that stands for them, and warnings.

    Raises:
        InputError: an unterminated quote, with line and column.
    """
    text = text.replace("\r\n", "\n")
    splitter = {"bash": _split_bash, "cmd": _split_cmd, "powershell": _split_powershell}[
        dialect or _dialect(text)
    ](text, source)
    return [c for c in splitter.commands if c], splitter.files, splitter.warnings


def quote(value: str | bytes) -> str:
    """One bash word for ``value``: bare, '...' or $'...' (only when bytes are not printable)."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    text = data.decode("utf-8", "surrogateescape")
    if text.isprintable():
        if re.fullmatch(r"[\w@%+=:,./-]+", text, re.ASCII):
            return text
        return "'" + text.replace("'", "'\\''") + "'"
    return "$'" + ansi_c(text) + "'"


def ansi_c(text: str) -> str:
    """``text`` as it is spelled inside bash's ``$'...'`` quoting."""
    out = []
    for ch in text:
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape"))
    return "".join(out)
