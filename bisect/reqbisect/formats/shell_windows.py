"""How Windows shells split a curl command: cmd (Chrome's "Copy as cURL (cmd)") and PowerShell.

* cmd: cmd's ``^`` escapes and continuations first, then the C runtime's argument
  rules (``"..."``, ``\\"``, ``""``). ``%VAR%`` is not expanded (a warning says so).
* PowerShell with ``curl.exe``: backtick escapes and continuations, ``'...'`` (``''``)
  and ``"..."`` (backtick escapes, ``""``). ``$`` expansions are not performed (a
  warning says so).

This module does no I/O.
"""

from __future__ import annotations

import re

from reqbisect.formats.words import Splitter

__all__ = ["split_cmd", "split_powershell"]


def split_cmd(text: str, source: str) -> Splitter:
    # cmd.exe first: ^ escapes outside its quotes, ^ + newline continues the line and
    # takes the next character literally; & | < > and newlines end the command.
    s = Splitter(text, source)
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


def split_powershell(text: str, source: str) -> Splitter:
    s, i, n = Splitter(text, source), 0, len(text)
    while i < n:
        ch, step = text[i], s.escape_or_blank(i, "`")
        if step is not None:
            i = step
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
