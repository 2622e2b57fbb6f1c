"""Split blocks of bytes into whole lines, holding at most one block and one bounded line.

A line longer than MAX_RECORD_BYTES is not kept: it is replaced by an empty line and reported
(by its number) in `LineBlock.problems`, and its bytes are skipped as they stream past. So
memory stays flat even for a file that is one 200 MB line with no newline.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..errors import InvalidInputError
from ..messages import text

MAX_RECORD_BYTES = 1 << 16  # 65,536: far beyond any real record, small next to a block


class LineBlock:
    """Whole lines from the input: `count` lines numbered from `first` (1-based).

    `body` holds them, each ending in b"\\n" except possibly the input's last line.
    `problems` maps a line number to why that line was emptied (too long).
    """

    __slots__ = ("first", "body", "count", "problems")

    def __init__(self, first: int, body: bytes, count: int, problems: dict[int, str]) -> None:
        self.first = first
        self.body = body
        self.count = count
        self.problems = problems

    def lines(self) -> list[bytes]:
        """The lines, without their b"\\n"."""
        lines = self.body.split(b"\n")
        if self.body.endswith(b"\n"):
            lines.pop()
        return lines


def line_blocks(blocks: Iterable[bytes], limit: int = MAX_RECORD_BYTES) -> Iterator[LineBlock]:
    """Whole lines from a stream of blocks; raises InvalidInputError at a NUL byte (binary).

    Lines before the NUL are yielded first, so an earlier bad line is still the one reported.
    """
    carry = b""  # the unfinished last line of the previous block: at most `limit` bytes
    line = 1  # number of the next line to yield
    skipping = False  # inside a too-long line that was already reported
    for block in blocks:
        if skipping:
            newline = block.find(b"\n")
            if newline < 0:
                continue
            block = block[newline + 1 :]
            skipping = False
        data = carry + block if carry else block
        nul = data.find(b"\0")
        if nul >= 0:
            data = data[: data.rfind(b"\n", 0, nul) + 1]
            count = data.count(b"\n")
            if count:
                problems = _long_lines(data, line, limit)
                yield LineBlock(line, _empty_lines(data, line, problems), count, problems)
            expected = text("input.binary_expected_python")
            raise InvalidInputError(
                text("input.binary", line=line + count, expected=expected), line=line + count
            )
        end = data.rfind(b"\n") + 1
        body, carry = data[:end], data[end:]
        count = body.count(b"\n")
        problems = _long_lines(body, line, limit)
        body = _empty_lines(body, line, problems)
        if len(carry) > limit:
            # Report it now and drop its bytes as they come: never buffer the whole line.
            problems[line + count] = text("reason.record_too_long", limit=f"{MAX_RECORD_BYTES:,}")
            body += b"\n"
            count += 1
            carry = b""
            skipping = True
        if count:
            yield LineBlock(line, body, count, problems)
            line += count
    if carry:
        yield LineBlock(line, carry, 1, {})


def _long_lines(body: bytes, first: int, limit: int) -> dict[int, str]:
    """Numbers of the lines in `body` longer than `limit`, found with one vectorised pass."""
    if len(body) <= limit:
        return {}
    ends = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord("\n"))
    lengths = np.diff(ends, prepend=-1) - 1
    reason = text("reason.record_too_long", limit=f"{MAX_RECORD_BYTES:,}")
    return {first + int(i): reason for i in np.flatnonzero(lengths > limit)}


def _empty_lines(body: bytes, first: int, problems: dict[int, str]) -> bytes:
    if not problems:
        return body
    lines = body.split(b"\n")
    for number in problems:
        lines[number - first] = b""
    return b"\n".join(lines)


def decode_block(block: LineBlock) -> str:
    """The block as text; a line that is not UTF-8 becomes an empty line, invalid for that."""
    try:
        return block.body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out = []
    problems = dict(block.problems)
    for i, line in enumerate(block.lines()):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            problems[block.first + i] = text("reason.not_utf8")
            out.append("")
    block.problems = problems
    decoded = "\n".join(out)
    return decoded + "\n" if block.body.endswith(b"\n") else decoded
