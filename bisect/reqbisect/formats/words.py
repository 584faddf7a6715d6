"""Shell words and the bookkeeping every shell's splitter shares.

A :class:`Word` is one argument of a command and where it starts; a :class:`Splitter`
collects words into commands while a shell's rules (:mod:`.shell` for bash,
:mod:`.shell_windows` for cmd and PowerShell) walk the text. This module does no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reqbisect.errors import InputError

__all__ = ["Splitter", "Word"]


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word and where it starts (1-based line and column)."""

    text: str
    line: int
    column: int


class Splitter:
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

    def escape_or_blank(self, i: int, escape: str) -> int | None:
        """Read what bash and PowerShell read alike at ``i``, and return where to go on.

        The escape character joins two lines before a newline and otherwise makes the
        next character literal; a space or a tab ends the word. ``None``: neither is at ``i``.
        """
        ch = self.text[i]
        if ch == escape:
            if not self.text.startswith("\n", i + 1):
                self.add(self.text[i + 1 : i + 2], i)
            return i + 2
        if ch in " \t":
            self.end_word()
            return i + 1
        return None

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
