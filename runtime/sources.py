"""Undo compression (gzip, bz2, xz) and text encoding (UTF-8 BOM, UTF-16), as a stream.

Both are detected from the first bytes, never from a file name, so stdin works the same as a
file. Output: blocks of UTF-8 bytes (at most `block_bytes` each) with no byte-order mark.
Only the standard library is used, and only when the input needs it: plain UTF-8 input imports
nothing here beyond what the interpreter already has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol, cast

from .errors import InvalidInputError

# About 260,000 short lines: enough to amortise per-chunk costs, small enough to keep memory flat.
BLOCK_BYTES = 1 << 21

GZIP_MAGIC = b"\x1f\x8b\x08"  # deflate is the only method gzip defines
XZ_MAGIC = b"\xfd7zXZ\x00"
# "BZh", a block size digit, then the magic of a first block (pi) or of an empty stream (sqrt pi):
# three bytes alone could be the start of a CSV header.
BZ2_MAGICS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
_MAGIC_BYTES = 10  # the longest signature above


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def utf8_blocks(
    stream: IO[bytes], block_bytes: int = BLOCK_BYTES, found: dict[str, str] | None = None
) -> Iterator[bytes]:
    """Yield the stream's content as UTF-8 blocks: decompressed, BOM removed, UTF-16 decoded.

    `found`, when given, receives "compression" ("gzip", "bz2", "xz") and "encoding"
    ("utf-8", "utf-8-sig" when a BOM was skipped, "utf-16-le", "utf-16-be") once known.
    Raises InvalidInputError for corrupt compressed data or text that is not valid UTF-16
    (naming the line); UTF-8 itself is checked later, line by line, by the record readers.
    """
    found = {} if found is None else found
    read = _reader(stream)
    first = _read_head(read, block_bytes)
    kind = compression_of(first)
    if kind is not None:
        found["compression"] = kind
        # read, not read1: a decompressor's read1 may return a few KiB at a time.
        read = _guarded(_decompressed(kind, _Prefixed(first, stream)).read, kind)
        first = _read_at_least(read, 2, block_bytes)
    found["encoding"] = "utf-8"
    if first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM) :]
        found["encoding"] = "utf-8-sig"
    encoding = UTF16_BOMS.get(first[:2])
    if encoding is not None:
        found["encoding"] = encoding
        yield from _transcode(first[2:], read, block_bytes, encoding)
        return
    if first:
        yield first
    while block := read(block_bytes):
        yield block


def compression_of(head: bytes) -> str | None:
    """'gzip', 'bz2' or 'xz' when `head` (the first 10 bytes or more) starts with its magic."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(b"BZh") and head[3:4].isdigit() and head[4:10] in BZ2_MAGICS:
        return "bz2"
    return None


def _reader(stream: Any) -> Callable[[int], bytes]:
    # read1 returns what is available (one system call), so a live pipe is scored as it arrives
    # instead of waiting for a full block; for regular files it reads a whole block either way.
    read: Callable[[int], bytes] = getattr(stream, "read1", None) or stream.read
    return read


def _read_head(read: Callable[[int], bytes], block_bytes: int) -> bytes:
    """The first block, extended only while it could still be the start of a signature.

    A live pipe that sends "33\n" is answered at once instead of waiting for 10 bytes.
    """
    data = read(block_bytes)
    while data and _maybe_signature(data):
        more = read(block_bytes)
        if not more:
            break
        data += more
    return data


def _maybe_signature(data: bytes) -> bool:
    """Whether `data` is a proper prefix of a compression magic or a byte-order mark."""
    if len(data) >= _MAGIC_BYTES:
        return False
    if any(len(data) < len(s) and s.startswith(data) for s in (GZIP_MAGIC, XZ_MAGIC, UTF8_BOM)):
        return True
    if any(len(data) < 2 and bom.startswith(data) for bom in UTF16_BOMS):
        return True
    if not b"BZh".startswith(data[:3]):
        return False
    return len(data) <= 3 or (
        data[3:4].isdigit() and any(m.startswith(data[4:]) for m in BZ2_MAGICS)
    )


def _read_at_least(read: Callable[[int], bytes], n: int, block_bytes: int) -> bytes:
    data = read(block_bytes)
    while data and len(data) < n:
        more = read(block_bytes)
        if not more:
            break
        data += more
    return data


class _Prefixed:
    """A read-only file object: bytes already read from `stream`, then the rest of it."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        self._prefix = prefix
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._stream.read(size)
        if size < 0:
            data, self._prefix = self._prefix + self._stream.read(), b""
        else:
            data, self._prefix = self._prefix[:size], self._prefix[size:]
        return data


def _decompressed(kind: str, raw: _Prefixed) -> _Readable:
    # Each opener reads a stream in bounded pieces (a "zip bomb" cannot blow memory up) and
    # handles multi-member files (`cat a.gz b.gz`).
    fileobj = cast("IO[bytes]", raw)  # it has the read() the openers use
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=fileobj, mode="rb")
    if kind == "bz2":
        import bz2

        return bz2.BZ2File(fileobj, mode="rb")
    import lzma

    return lzma.LZMAFile(fileobj, mode="rb")


def _guarded(read: Callable[[int], bytes], kind: str) -> Callable[[int], bytes]:
    """`read` with corrupt or truncated compressed data turned into one clear error."""

    def guarded(size: int) -> bytes:
        try:
            return read(size)
        except (OSError, EOFError, ValueError) as exc:  # gzip, zlib, bz2 and lzma errors
            raise InvalidInputError(f"input is not valid {kind} data ({exc})") from None

    return guarded


def _transcode(
    first: bytes, read: Callable[[int], bytes], block_bytes: int, encoding: str
) -> Iterator[bytes]:
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)("surrogatepass")
    line = 1  # of the text decoded so far, for error messages
    block = first
    while True:
        final = not block
        try:
            text = decoder.decode(block, final)
        except UnicodeDecodeError:  # only an odd byte at the very end gets here
            raise InvalidInputError(
                f"line {line}: input ends in the middle of a UTF-16 character"
            ) from None
        try:
            # surrogatepass let unpaired surrogates through; UTF-8 cannot hold them.
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = line + text.count("\n", 0, exc.start)
            raise InvalidInputError(
                f"line {bad}: not valid {encoding.upper()} text (unpaired surrogate)"
            ) from None
        line += text.count("\n")
        if data:
            yield data
        if final:
            return
        block = read(block_bytes)
