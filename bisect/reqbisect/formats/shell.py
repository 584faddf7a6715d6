"""Shell words: how a curl command line splits into words, and bash quoting.

A "Copy as cURL" capture is a shell command, so reading it means splitting it the way
the shell that runs it would; writing one back means quoting for bash.

* bash: ``\\`` escapes and line continuations, ``'...'``, ``"..."`` (``\\`` escapes only
  ``$ ` " \\`` and newline), ``$'...'`` ANSI-C quoting (a NUL ends the string, as in
  bash), ``#`` comments, and ``<(printf '...')`` process substitution for data files.
* bash parameters: ``$NAME`` and ``${NAME}`` in a bare word or inside ``"..."`` expand
  from the environment (empty when unset), each with a warning that names the
  variable; a bare expansion splits into words on spaces, tabs and newlines, and an
  empty one adds no word, as in bash. Inside ``'...'`` nothing expands. Other
  expansions (``$(...)``, backticks, ``${NAME:-...}``) are not performed and are taken
  literally, with a warning.
* Windows cmd and PowerShell: :mod:`.shell_windows`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from reqbisect.formats.shell_windows import split_cmd, split_powershell
from reqbisect.formats.words import Splitter, Word

__all__ = ["Word", "ansi_c", "commands", "quote"]

_PARAMETER = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")
_CONTROL = dict(zip("abefnrtv", "\a\b\x1b\x0c\n\r\t\v"), E="\x1b")
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}


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


def _split_bash(text: str, source: str, env: Mapping[str, str]) -> Splitter:
    s, i, n = Splitter(text, source), 0, len(text)
    while i < n:
        ch, step = text[i], s.escape_or_blank(i, "\\")
        if step is not None:
            i = step
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
            i = _double_quoted(s, i + (2 if ch == "$" else 1), i, env)
        elif (found := _parameter(s, i, env)) is not None:
            value, i = found
            _split_fields(s, value, i)
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


def _parameter(s: Splitter, i: int, env: Mapping[str, str]) -> tuple[str, int] | None:
    """``$NAME`` or ``${NAME}`` at ``i``: its value from ``env`` ("" when unset) and where it ends."""
    match = _PARAMETER.match(s.text, i)
    if match is None:
        return None
    name = match.group(1) or match.group(2)
    value = env.get(name)
    line, column = s.where(i)
    s.warnings.append(f"line {line}, column {column}: ${name} is expanded from the environment"
                      + ("" if value is not None else f" (it is not set here, so ${name} is empty)"))
    return value or "", match.end()


def _split_fields(s: Splitter, value: str, pos: int) -> None:
    """An unquoted expansion: its text joins the current word, split into words on whitespace."""
    for k, field in enumerate(re.split(r"[ \t\n]+", value)):
        if k:
            s.end_word()
        if field:
            s.add(field, pos)


def _double_quoted(s: Splitter, i: int, opening: int, env: Mapping[str, str]) -> int:
    text, chunk = s.text, []
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                chunk.append(text[i + 1])
            i += 2
            continue
        found = _parameter(s, i, env)
        if found is not None:
            chunk.append(found[0])
            i = found[1]
            continue
        if text[i] in "$`":
            s.no_expansion(i)
        chunk.append(text[i])
        i += 1
    if i >= len(text):
        raise s.error("unterminated double quote", opening)
    s.add("".join(chunk), opening)
    return i + 1


def _process_substitution(s: Splitter, i: int) -> int:
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
    inner = [w.text for w in _split_bash(text[i + 2 : j], s.source, {}).commands[0]]
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


def _dialect(text: str) -> str:
    if re.search(r"`\n", text):
        return "powershell"
    # cmd's caret escapes, looked for outside bash single quotes (where ^" is just text) and
    # bash escapes (a quote written \' opens no quoted string).
    unquoted = re.sub(r"'[^']*'|\\.", "", text, flags=re.S)
    if re.search(r"\^\n|\^\"", unquoted):
        return "cmd"
    if re.match(r"\s*curl\.exe\b", text):
        return "powershell" if "'" in text else "cmd"
    return "bash"


def commands(
    text: str, *, source: str, dialect: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[list[list[Word]], dict[str, bytes], list[str]]:
    """Split a script into its commands, each a list of words.

    Args:
        text: a command or a script, in bash, cmd or PowerShell syntax.
        source: the file name, for messages.
        dialect: ``"bash"``, ``"cmd"`` or ``"powershell"``; sniffed when ``None``.
        env: the variables ``$NAME`` expands to in bash (none are set when ``None``).

    Returns:
        The non-empty commands, the contents of ``<(printf ...)`` process
        substitutions by the path that stands for them, and warnings.

    Raises:
        InputError: an unterminated quote, with line and column.
    """
    text = text.replace("\r\n", "\n")
    dialect = dialect or _dialect(text)
    if dialect == "bash":
        splitter = _split_bash(text, source, env or {})
    else:
        splitter = {"cmd": split_cmd, "powershell": split_powershell}[dialect](text, source)
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
