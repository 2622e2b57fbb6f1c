"""The reader's data types: a chunk of parsed rows, and an opened input.

Plain classes rather than dataclasses: `dataclasses` would be one more import on the start-up
path of every `fclf-edge predict`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

InputFormat = Literal["auto", "lines", "csv", "jsonl"]
INPUT_FORMATS: tuple[InputFormat, ...] = ("auto", "lines", "csv", "jsonl")
# Lines per chunk: ~2 MB of text, ~30 MB of Python objects at peak; memory stays flat for any
# file size, and a chunk still amortises the per-call cost of onnxruntime.
CHUNK_LINES = 1 << 18


class Chunk:
    """Consecutive input rows: their 1-based line numbers, values, and the invalid ones.

    `extra` holds the raw text of other columns the caller asked for (None where a row lacks
    one); `records` the raw text of each row, when asked for (to write the rows back);
    `widths` the number of fields of each CSV row, when records are kept (None otherwise).
    """

    __slots__ = ("lines", "values", "invalid", "extra", "records", "widths")

    def __init__(
        self,
        lines: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],  # NaN where invalid
        invalid: dict[int, str],  # position in chunk -> reason
        extra: dict[str, list[str | None]] | None = None,  # column -> raw text per row
        records: list[bytes] | None = None,  # raw row text without its line ending
    ) -> None:
        self.lines = lines
        self.values = values
        self.invalid = invalid
        self.extra = {} if extra is None else extra
        self.records = records
        self.widths: list[int] | None = None

    def __len__(self) -> int:
        return len(self.lines)


class Input:
    """An opened input: what kind it is, its layout (for writing rows back), and its chunks.

    Attributes:
        kind: "lines", "csv" or "jsonl".
        delimiter: the CSV delimiter (given, named by an Excel `sep=` line, or detected);
            None for other kinds.
        header: the CSV header cells; None without a header row.
        header_record: the header row's raw text (after an Excel `sep=` line, when there is
            one), without its line ending.
        preamble: raw lines before the header (an Excel `sep=` line), each with its ending.
        width: fields per CSV row that --append lines labels up with (the header's, or the
            first row's when only empty trailing fields make it longer); 0 for other kinds.
        decimal_comma: values use a decimal comma.
        encoding: "utf-8", "utf-8-sig" (a BOM was skipped), "utf-16-le", "utf-16-be", or the
            codec given with `encoding=`.
        compression: "gzip", "bz2", "xz", or None.

    Iterating it reads the input: once, from where the stream is.
    """

    encoding = "utf-8"
    compression: str | None = None

    def __init__(
        self,
        chunks: Iterator[Chunk],
        kind: str = "lines",
        *,
        delimiter: str | None = None,
        header: list[str] | None = None,
        header_record: bytes | None = None,
        preamble: bytes = b"",
        width: int = 0,
        decimal_comma: bool = False,
    ) -> None:
        self._chunks = chunks
        self.kind = kind
        self.delimiter = delimiter
        self.header = header
        self.header_record = header_record
        self.preamble = preamble
        self.width = width
        self.decimal_comma = decimal_comma

    def __iter__(self) -> Iterator[Chunk]:
        return self._chunks
