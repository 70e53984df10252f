"""Content-Encoding decoded under a cap that holds *while* inflating (RFC 9110 §8.4).

A gzip bomb is a few kilobytes that inflate to gigabytes. Decoding a whole network chunk and
checking the size afterwards lets one 64 kB chunk become 67 MB before the check runs. Here
every ``zlib`` call is given ``max_length`` = the bytes still allowed (+1), so no call
produces more than the cap; unconsumed input waits in ``unconsumed_tail`` until asked for.

``CappedDecoder(encoding, cap)`` handles ``identity``, ``gzip``/``x-gzip`` (members chained,
RFC 1952 §2.2) and ``deflate`` (zlib-wrapped, or raw as some servers send it); ``feed``
returns the decoded bytes of one chunk and raises ``BodyTooLarge`` as soon as the total
would pass ``cap``. Other codings are refused with ``ValueError`` (we only ask for these).
"""

from __future__ import annotations

import zlib

SUPPORTED = ("gzip", "x-gzip", "deflate", "identity")


class BodyTooLarge(Exception):
    """More than ``cap`` decoded bytes; ``decoded`` is how many were produced."""

    def __init__(self, decoded: int) -> None:
        super().__init__(f"more than {decoded - 1} decoded bytes")
        self.decoded = decoded


class CappedDecoder:
    """Decodes one Content-Encoding, never producing more than ``cap`` + 1 bytes in total."""

    def __init__(self, encoding: str, cap: int) -> None:
        coding = encoding.strip().lower() or "identity"
        if coding not in SUPPORTED:
            raise ValueError(f"unsupported content coding {encoding!r}")
        self.coding = coding
        self.cap = cap
        self.size = 0
        self._zlib = self._new() if coding != "identity" else None
        self._raw_deflate_tried = False

    def _new(self) -> zlib._Decompress:
        # 16 + MAX_WBITS: gzip header; MAX_WBITS: zlib header (deflate as RFC 9110 means it).
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self.coding != "deflate"
                                  else zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> bytes:
        """The decoded bytes of ``chunk``; raises ``BodyTooLarge`` past the cap."""
        if self._zlib is None:
            return self._count(chunk)
        out: list[bytes] = []
        data = chunk
        while data:
            allowed = self.cap - self.size + 1
            try:
                piece = self._zlib.decompress(data, allowed)
            except zlib.error:
                if self.coding == "deflate" and not self._raw_deflate_tried and not self.size:
                    self._raw_deflate_tried = True  # servers that send raw deflate
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            out.append(self._count(piece))
            if self._zlib.eof and self._zlib.unused_data:
                data = self._zlib.unused_data  # the next gzip member
                self._zlib = self._new()
            elif self._zlib.eof:
                break
            else:
                data = self._zlib.unconsumed_tail
        return b"".join(out)

    def _count(self, piece: bytes) -> bytes:
        self.size += len(piece)
        if self.size > self.cap:
            raise BodyTooLarge(self.size)
        return piece
