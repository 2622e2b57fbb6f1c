"""Undo compression (gzip, bz2, xz) and text encoding (UTF-8 BOM, UTF-16), as a stream.

Both are detected from the first bytes, never from a file name, so stdin works the same as a
file. Output: blocks of UTF-8 bytes (at most `block_bytes` each) with no byte-order mark.
Only the standard library is used, and only when the input needs it: plain UTF-8 input imports
nothing here beyond what the interpreter already has.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import IO, Any, cast

from ..errors import InvalidInputError

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


def utf8_blocks(
    stream: IO[bytes],
    block_bytes: int = BLOCK_BYTES,
    found: dict[str, str] | None = None,
    *,
    encoding: str | None = None,
) -> Iterator[bytes]:
    """Yield the stream's content as UTF-8 blocks: decompressed, BOM removed, decoded.

    `encoding` names the text's codec (any text encoding Python knows); None means UTF-8, or
    UTF-16 when a byte-order mark says so. CR-only line ends (as old spreadsheets write) become
    LF when the first block has CRs and no LF at all. `found`, when given, receives
    "compression" ("gzip", "bz2", "xz") and "encoding" ("utf-8", "utf-8-sig" when a BOM was
    skipped, "utf-16-le", "utf-16-be", or the given codec's name) once known.

    Raises InvalidInputError for an unknown codec, corrupt compressed data, text that is not
    valid in its codec (naming the line), and text that looks like UTF-16 without a BOM.
    UTF-8 itself is checked later, line by line, by the record readers.
    """
    found = {} if found is None else found
    codec = _text_codec(encoding) if encoding is not None else None
    read = _reader(stream)
    first = _read_head(read, block_bytes)
    kind = compression_of(first)
    if kind is not None:
        found["compression"] = kind
        raw = _Prefixed(first, read)
        decompressed = _decompressed(kind, raw)
        # A live pipe gets what has arrived (read1); a file gets whole blocks (read: a
        # decompressor's read1 may return a few KiB at a time).
        read = _guarded(decompressed.read1 if _is_live(stream) else decompressed.read, kind)
        first = _read_at_least(read, 2, block_bytes)
    found["encoding"] = "utf-8"
    if first.startswith(UTF8_BOM) and codec in (None, "utf-8", "utf-8-sig"):
        first = first[len(UTF8_BOM) :]
        found["encoding"] = "utf-8-sig"
    elif codec is None and first[:2] in UTF16_BOMS:
        codec = UTF16_BOMS[first[:2]]
        first = first[2:]
    elif codec in ("utf-16", "utf-32"):
        pass  # these codecs read their own byte-order mark
    elif codec is not None and first[:2] in UTF16_BOMS and codec.startswith("utf-16"):
        first = first[2:]
    if codec is not None and codec not in ("utf-8", "utf-8-sig"):
        found["encoding"] = codec
        blocks = _transcode(first, read, block_bytes, codec)
    else:
        if codec is None:
            _refuse_utf16_without_bom(first)
        blocks = _raw(first, read, block_bytes)
    head = next(blocks, b"")
    if b"\r" in head and b"\n" not in head:
        found["line_ends"] = "cr"
        yield from _cr_to_lf(head, blocks)
        return
    if head:
        yield head
    yield from blocks


def _raw(first: bytes, read: Callable[[int], bytes], block_bytes: int) -> Iterator[bytes]:
    if first:
        yield first
    while block := read(block_bytes):
        yield block


def _cr_to_lf(head: bytes, blocks: Iterator[bytes]) -> Iterator[bytes]:
    """CR-only line ends as LF (a CR LF that shows up later stays one line end)."""
    pending = False  # the previous block ended in CR: an LF starting this one belongs to it
    for block in itertools.chain([head], blocks):
        if pending and block.startswith(b"\n"):
            block = block[1:]
        pending = block.endswith(b"\r")
        yield block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _text_codec(encoding: str) -> str:
    """The codec's canonical name; InvalidInputError for unknown names and non-text codecs."""
    import codecs

    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise InvalidInputError(
            f"--encoding {encoding!r}: unknown text encoding; use a codec Python knows, "
            "e.g. utf-8, cp1252, latin-1, utf-16-le"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise InvalidInputError(f"--encoding {encoding!r} is not a text encoding")
    return info.name


def _refuse_utf16_without_bom(head: bytes) -> None:
    """UTF-16 text without a byte-order mark has a NUL in every other byte: name it."""
    sample = head[:4096]
    if len(sample) < 4 or b"\0" not in sample:
        return
    even, odd = sample[0::2], sample[1::2]
    for zeros, other, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros) and other.count(0) <= 0.1 * len(other):
            raise InvalidInputError(
                f"input looks like {name.upper()} text without a byte-order mark (every "
                f"other byte is NUL); read it with --encoding {name}"
            )


def _is_live(stream: Any) -> bool:
    """Whether `stream` is a pipe, socket or terminal (data arrives over time)."""
    import os
    import stat

    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return False  # an in-memory stream: everything is there
    return not stat.S_ISREG(mode)


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
    """A read-only file object: bytes already read, then what `read` returns.

    `read` is the stream's read1 where it has one, so a decompressor on a live pipe is fed
    what has arrived instead of waiting for a whole block.
    """

    def __init__(self, prefix: bytes, read: Callable[[int], bytes]) -> None:
        self._prefix = prefix
        self._read = read

    def read(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._read(size if size >= 0 else BLOCK_BYTES)
        if size < 0:
            data, self._prefix = self._prefix, b""
        else:
            data, self._prefix = self._prefix[:size], self._prefix[size:]
        return data


def _decompressed(kind: str, raw: _Prefixed) -> Any:
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
    """Decode `encoding` incrementally and yield UTF-8; a bad byte is one error naming its line."""
    import codecs

    utf16 = encoding.startswith("utf-16")
    # surrogatepass: UTF-16 decoding lets unpaired surrogates through, to name their line below.
    decoder = codecs.getincrementaldecoder(encoding)("surrogatepass" if utf16 else "strict")
    line = 1  # of the text decoded so far, for error messages
    block = first
    while True:
        final = not block
        try:
            text = decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            if utf16:  # only an odd byte at the very end gets here
                raise InvalidInputError(
                    f"line {line}: input ends in the middle of a UTF-16 character"
                ) from None
            try:
                good = exc.object[: exc.start].decode(encoding, "replace")
            except UnicodeError:  # some codecs cannot decode a prefix of their input
                good = ""
            bad = line + good.count("\n")
            byte = exc.object[exc.start : exc.start + 1].hex()
            raise InvalidInputError(
                f"line {bad}: not valid {encoding} text (byte 0x{byte}); is --encoding right?",
                line=bad,
            ) from None
        except UnicodeError as exc:  # a codec's own complaint, e.g. utf-16 without its BOM
            hint = "; utf-16-le or utf-16-be read it without one" if "BOM" in str(exc) else ""
            raise InvalidInputError(
                f"line {line}: cannot read the input as {encoding} ({exc}){hint}", line=line
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
