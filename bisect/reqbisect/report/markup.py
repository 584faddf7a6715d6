"""Markdown primitives the report is built from: escaped text, code spans, fences, folds, sizes.

The output is CommonMark plus GitHub tables and never relies on raw HTML beyond
``<details>``/``<summary>``. A fence is always longer than any run of backticks
inside it, and control bytes are spelled out, so no content can end a block early
or corrupt the file for an editor.
"""

from __future__ import annotations

import html
import re

__all__ = ["FOLD_CHARS", "FOLD_LINES", "code", "details", "escape", "fence", "fit", "maybe_fold", "size"]

#: Lines after which a code block is folded into ``<details>``.
FOLD_LINES = 40
#: Characters after which a code block is folded into ``<details>``.
FOLD_CHARS = 4000
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~])")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")


def escape(text: str) -> str:
    """Text safe in a Markdown paragraph or table cell: no markup, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def code(text: str) -> str:
    """An inline code span that survives backticks in ``text`` (CommonMark 6.1)."""
    text = " ".join(text.split())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(content: str, info: str = "") -> str:
    """A fenced code block holding ``content`` exactly (control bytes spelled ``\\xNN``)."""
    content = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", content).replace("\r\n", "\n")
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`+", content)), default=0) + 1)
    return f"{ticks}{info}\n{content.rstrip(chr(10))}\n{ticks}"


def details(summary: str, body: str) -> str:
    """``body`` folded under a one-line ``summary`` (rendered collapsed by GitHub and GitLab)."""
    return f"<details>\n<summary>{html.escape(summary)}</summary>\n\n{body}\n\n</details>"


def maybe_fold(summary: str, block: str, content: str) -> str:
    """``block`` as it is when ``content`` is short, else folded."""
    if content.count("\n") + 1 > FOLD_LINES or len(content) > FOLD_CHARS:
        return details(summary, block)
    return block


def size(n: int) -> str:
    """A byte count for people: ``512 bytes``, ``113.4 KB``, ``2.0 MB``."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


_BLOCK_STARTS = ("```", "~~~", "<details>")



def fit(parts: list[str], limit: int, *, separator: str = "\n\n") -> list[str]:
    """``parts`` joined by ``separator`` in at most ``limit`` characters.

    The largest code blocks and folds are left out first (the diff last), each
    replaced by a line that says so; if that is not enough, the longest remaining
    parts are cut. Short parts (the title, the finding) are never touched.
    """
    parts = list(parts)

    def total() -> int:
        return sum(map(len, parts)) + len(separator) * max(0, len(parts) - 1)

    def omitted(n: int) -> str:
        return f"*(A block of {n:,} characters is left out so that this report fits an issue.)*"

    blocks = [i for i, part in enumerate(parts) if part.startswith(_BLOCK_STARTS)]
    blocks.sort(key=lambda i: (parts[i].lstrip("`").startswith("diff"), -len(parts[i])))
    for i in blocks:
        if total() <= limit:
            return parts
        if len(parts[i]) > len(omitted(len(parts[i]))):
            parts[i] = omitted(len(parts[i]))
    while total() > limit:
        i = max(range(len(parts)), key=lambda j: len(parts[j]))
        parts[i] = parts[i][: max(0, len(parts[i]) - (total() - limit) - 2)] + " …"
    return parts
