"""Reading answers: only what the oracle needs, and never more than ``--max-body``.

Rules (docs/design.md, "Reading answers"):

* The oracle says, from an answer's status line and headers, whether its body can
  matter (:data:`BodyPolicy`, an oracle's ``reads_body(status, headers)`` method;
  :func:`body_policy`). When it cannot, the body is not read at all and the
  connection is closed, which on a streaming API cancels the generation.
* Otherwise at most ``max_body`` bytes are kept, counted *after* the content
  codings are removed, so a small compressed answer that inflates to a gigabyte
  (a "gzip bomb") costs at most ``max_body`` bytes of memory plus one piece.
* Decoding is incremental and bounded: gzip and deflate through ``zlib`` with
  ``max_length``, brotli with ``output_buffer_limit``; each step yields at most
  :data:`PIECE` bytes, so no single input chunk can inflate unboundedly. A coding
  this module does not know leaves the body as it came (as httpx does).

Nothing here does I/O: the transports feed chunks in (:class:`BodyReader`) and
stop reading as soon as it says it is full.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import brotli  # type: ignore[import-untyped]

from reqbisect.errors import InputError
from reqbisect.oracle import BodyRead

__all__ = [
    "DEFAULT_MAX_BODY", "BodyDecodingError", "BodyPolicy", "BodyReader", "Headers", "body_policy",
    "parse_size", "read_all",
]

Headers = tuple[tuple[str, str], ...]
#: ``(status, headers) -> bool``: does this answer's body matter? Asked once the headers arrive.
BodyPolicy = Callable[[int, Headers], bool]

#: Bytes of a body kept at most by default (after decoding): 1 MiB.
DEFAULT_MAX_BODY = 1 << 20
#: Bytes a decoding step produces at most before the reader looks at the cap again.
PIECE = 64 * 1024


def read_all(status: int, headers: Headers) -> bool:
    """The policy of an oracle that does not say: every body may matter (up to the cap)."""
    return True


def body_policy(oracle: object) -> BodyPolicy:
    """The oracle's ``reads_body`` method, or :func:`read_all` for one without it (a plain callable)."""
    method = getattr(oracle, "reads_body", None)
    return method if callable(method) else read_all


class BodyDecodingError(Exception):
    """The body does not decode as its ``Content-Encoding`` says (a transport-level failure)."""


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._state: Any = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._state.decompress(data, PIECE)
            except zlib.error:
                if self._wbits != zlib.MAX_WBITS or self._started:
                    raise
                # "deflate" as some servers send it: raw deflate, without the zlib wrapper.
                self._wbits, self._state = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._started = True
            data = self._state.unconsumed_tail
            if out:
                yield out
            # A full piece may leave output pending inside zlib even with no input left.
            if self._state.eof or (not data and len(out) < PIECE):
                return


class _Brotli:
    def __init__(self) -> None:
        self._state: Any = brotli.Decompressor()
        self._bounded = hasattr(self._state, "can_accept_more_data")

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._bounded:  # older brotli: bounded per input chunk only
            out = self._state.process(data)
            for start in range(0, len(out), PIECE):
                yield out[start:start + PIECE]
            return
        out = self._state.process(data, output_buffer_limit=PIECE)
        while True:
            if out:
                yield out
            # Input all taken is not output all given: a full piece may have more behind it.
            if self._state.is_finished() or (self._state.can_accept_more_data() and len(out) < PIECE):
                return
            out = self._state.process(b"", output_buffer_limit=PIECE)


def _stage(coding: str) -> _Zlib | _Brotli | None:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16)
    if coding == "deflate":
        return _Zlib(zlib.MAX_WBITS)
    if coding == "br":
        return _Brotli()
    return None


def _codings(headers: Headers) -> list[_Zlib | _Brotli]:
    """The decoding stages for the answer's ``Content-Encoding``, outermost (last applied) first."""
    names = [
        item.strip().lower()
        for name, value in headers if name.lower() == "content-encoding"
        for item in value.split(",") if item.strip() and item.strip().lower() != "identity"
    ]
    stages = [_stage(name) for name in reversed(names)]
    if any(stage is None for stage in stages):
        return []  # a coding we cannot remove: keep the body as it came
    return [stage for stage in stages if stage is not None]


class BodyReader:
    """Collects a body chunk by chunk: decoded, and cut at ``limit`` bytes.

    ``add`` returns True once the cap is passed (the caller stops reading);
    :attr:`body` and :attr:`read` give what was kept and whether it was cut.
    """

    def __init__(self, headers: Headers, limit: int) -> None:
        self._stages = _codings(headers)
        self._limit = limit
        self._kept = bytearray()
        self.read = BodyRead.WHOLE

    def add(self, chunk: bytes) -> bool:
        """Take one chunk as it came off the wire; True when nothing more is wanted.

        Raises:
            BodyDecodingError: the chunk does not decode.
        """
        if not chunk or self.read is BodyRead.CUT:
            return self.read is BodyRead.CUT
        try:
            for piece in self._decode(chunk, 0):
                room = self._limit - len(self._kept)
                if len(piece) > room:
                    self._kept += piece[:room]
                    self.read = BodyRead.CUT
                    return True
                self._kept += piece
        except (zlib.error, brotli.error) as exc:
            raise BodyDecodingError(f"the body does not decode as its Content-Encoding says ({exc})") from None
        return False

    def _decode(self, data: bytes, depth: int) -> Iterator[bytes]:
        if depth == len(self._stages):
            yield data
            return
        for piece in self._stages[depth].feed(data):
            yield from self._decode(piece, depth + 1)

    @property
    def body(self) -> bytes:
        return bytes(self._kept)


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b?)\s*", re.IGNORECASE)


def parse_size(text: str, *, option: str = "--max-body") -> int:
    """``"1MiB"``, ``"512k"``, ``"2000000"``: a byte count (K, M and G are powers of 1024).

    Raises:
        InputError: not a size.
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise InputError("not a size", source=option, expected="bytes, or a number with K, M or G (e.g. 1M, 64KiB)",
                         got=repr(text))
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmg".index(unit or " "))
