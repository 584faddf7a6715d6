"""String tokens for the diff: cutting two strings into pieces that can change one by one.

Rules
-----
* Both strings look like URLs or paths (contain ``://`` or start with ``/``): cut before
  each run of ``/``, ``?``, ``&``, so path segments and query pairs are pieces.
* Otherwise, of "runs of ``,``/``;`` with the whitespace after them" (list items) and
  "runs of whitespace" (words), the class that both strings contain and that cuts them
  into more pieces, counting both strings together; lists win ties.
* Each piece after the first starts with its separator, and the first starts at the
  string's start, so the pieces concatenate back to the string.
* Both strings must give at least two pieces; otherwise they are not tokenised and the
  diff replaces the string whole.

This module does no I/O and holds no state.
"""

from __future__ import annotations

import re

__all__ = ["tokenise"]

_PATH_CUT = re.compile(r"[/?&]+")
_LIST_CUT = re.compile(r"(?:[,;]\s*)+")
_SPACE_CUT = re.compile(r"\s+")


def tokenise(a: str, b: str) -> tuple[list[str], list[str]] | None:
    """Cut two strings the same way.

    Args:
        a: the base string.
        b: the target string.

    Returns:
        The pieces of ``a`` and of ``b``, or ``None`` when no cut gives both at least
        two pieces.
    """
    if all("://" in text or text.startswith("/") for text in (a, b)):
        splits = [(_split(a, _PATH_CUT), _split(b, _PATH_CUT))]
    else:
        cuts = [cut for cut in (_LIST_CUT, _SPACE_CUT) if cut.search(a) and cut.search(b)]
        splits = [(_split(a, cut), _split(b, cut)) for cut in cuts]
    if not splits:
        return None
    best = splits[0]
    for pair in splits[1:]:
        if len(pair[0]) + len(pair[1]) > len(best[0]) + len(best[1]):
            best = pair
    if len(best[0]) < 2 or len(best[1]) < 2:
        return None
    return best


def _split(text: str, cut: re.Pattern[str]) -> list[str]:
    bounds = [0, *(m.start() for m in cut.finditer(text) if m.start() > 0), len(text)]
    return [text[x:y] for x, y in zip(bounds, bounds[1:])]
