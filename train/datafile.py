"""Labelled readings from a CSV file: a temperature column and a 0/1 label column.

Temperatures go through the runtime's streaming reader, so a training file accepts and rejects
exactly the values `fclf-edge predict` does (same syntax, same checks, same messages naming the
line). Memory stays flat while reading: one chunk of text at a time, and 5 bytes per kept row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from fclf_edge.runtime.errors import InvalidInputError
from fclf_edge.runtime.reader import Chunk, open_input

# Called with one line per skipped row ("line 7: 'abc' is not a number") under --on-invalid skip.
SkipFn = Callable[[str], None]

# Labels as written: 0 or 1, with the spaces and the ".0" that spreadsheets and pandas add.
_LABEL_CODES = {"0": 0, "1": 1}
_LABEL = re.compile(r"[ \t]*([01])(?:\.0*)?[ \t]*\r?")
_BAD = 2  # a code no label has: marks the rows whose label needs a closer look


@dataclass
class LabelledReadings:
    """The valid rows of a data file, in file order, and what was read to get them."""

    fahrenheit: npt.NDArray[np.float32]  # the precision the deployed model sees
    labels: npt.NDArray[np.int8]
    name: str  # the file name only: the checkpoint records what was read, not where it lay
    sha256: str
    rows_read: int  # data rows, header excluded
    rows_skipped: int
    input_column: str
    label_column: str

    def describe(self) -> dict[str, Any]:
        """Plain data for the checkpoint (`info["training_file"]`)."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_skipped": self.rows_skipped,
            "input_column": self.input_column,
            "label_column": self.label_column,
        }


def read_labelled_csv(
    path: str | Path,
    input_column: str = "fahrenheit",
    label_column: str = "label",
    on_invalid: str = "error",
    on_skip: SkipFn | None = None,
    *,
    delimiter: str | None = None,
    decimal_comma: bool = False,
    encoding: str | None = None,
) -> LabelledReadings:
    """Read a labelled CSV (header row; temperatures in °F, labels 0/1).

    Args:
        path: the file.
        input_column, label_column: header NAME or 0-based INDEX of each column.
        on_invalid: "error" raises on the first bad row; "skip" leaves bad rows out.
        on_skip: told about each skipped row (one line of text), if given.
        delimiter, decimal_comma, encoding: as `fclf-edge predict --delimiter /
            --decimal-comma / --encoding`.

    Raises:
        InvalidInputError: the file is missing, unreadable, empty or has no data rows; a column
            is missing; a row is invalid (with on_invalid="error"); every row is invalid.
    """
    p = Path(path)
    if input_column == label_column:
        raise InvalidInputError(
            f"--input-column and --label-column are both {input_column!r}: they must differ"
        )
    digest = _sha256(p)
    values: list[npt.NDArray[np.float32]] = []
    labels: list[npt.NDArray[np.int8]] = []
    rows = skipped = 0
    with p.open("rb") as stream:
        for chunk in _chunks(
            stream, input_column, label_column, delimiter, decimal_comma, encoding
        ):
            codes, invalid = _labels(chunk, label_column)
            rows += len(chunk)
            if invalid:
                first = min(invalid)
                if on_invalid == "error":
                    line = int(chunk.lines[first])
                    raise InvalidInputError(
                        f"{p.name} line {line}: {invalid[first]} "
                        "(use --on-invalid skip to skip bad rows)",
                        line=line,
                    )
                if on_skip is not None:
                    for i in sorted(invalid):
                        on_skip(f"skipped {p.name} line {int(chunk.lines[i])}: {invalid[i]}")
                skipped += len(invalid)
                keep = np.ones(len(chunk), dtype=bool)
                keep[list(invalid)] = False
                values.append(chunk.values[keep].astype(np.float32))
                labels.append(codes[keep])
            else:
                values.append(chunk.values.astype(np.float32))
                labels.append(codes)
    if rows == 0:
        what = "is empty" if p.stat().st_size == 0 else "has a header row but no data rows"
        raise InvalidInputError(f"data file {p.name} {what}: nothing to train on")
    if skipped == rows:
        raise InvalidInputError(f"data file {p.name}: all {rows} rows are invalid (skipped)")
    return LabelledReadings(
        fahrenheit=np.concatenate(values),
        labels=np.concatenate(labels),
        name=p.name,
        sha256=digest,
        rows_read=rows,
        rows_skipped=skipped,
        input_column=input_column,
        label_column=label_column,
    )


def _sha256(path: Path) -> str:
    """The file's sha256, read in 1 MiB blocks; a missing or unreadable file is exit 2."""
    if not path.exists():
        raise InvalidInputError(f"data file not found: {path}")
    if path.is_dir():
        raise InvalidInputError(f"data file {path} is a directory, not a file")
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise InvalidInputError(f"cannot read data file {path}: {exc.strerror}") from None
    return digest.hexdigest()


def _chunks(
    stream: IO[bytes],
    input_column: str,
    label_column: str,
    delimiter: str | None,
    decimal_comma: bool,
    encoding: str | None,
) -> Iterator[Chunk]:
    """The runtime reader's chunks, with its column messages in train-model's option names."""
    try:
        yield from open_input(
            stream,
            input_column,
            extra=(label_column,),
            delimiter=delimiter,
            decimal_comma=decimal_comma,
            encoding=encoding,
        )
    except InvalidInputError as exc:
        message = str(exc)
        # The reader names predict's option (--column) and calls extras "column"; say which
        # train-model option to fix.
        for prefix, option in (("--column ", "--input-column "), ("column ", "--label-column ")):
            if message.startswith(prefix):
                raise InvalidInputError(option + message[len(prefix) :]) from None
        raise


def _labels(chunk: Chunk, label_column: str) -> tuple[npt.NDArray[np.int8], dict[int, str]]:
    """The chunk's labels as int8, and every invalid row (bad value or bad label) with why."""
    texts = chunk.extra[label_column]
    codes = _label_codes(texts)
    invalid = dict(chunk.invalid)  # a bad temperature is reported before a bad label
    for i in np.flatnonzero(codes == _BAD).tolist():
        text = texts[i]
        found = _LABEL.fullmatch(text) if text is not None else None
        if found is not None:
            codes[i] = int(found.group(1))
        elif i not in invalid:
            invalid[i] = (
                "the row has no label column"
                if text is None
                else f"label {_shown(text)} is not 0 or 1"
            )
    return codes, invalid


def _label_codes(texts: list[str | None]) -> npt.NDArray[np.int8]:
    """0 or 1 per cell where the cell is exactly "0" or "1", else _BAD (for a closer look)."""
    try:
        joined = "".join(texts)  # type: ignore[arg-type]  # None (a short row) raises
    except TypeError:
        joined = ""
    if len(joined) == len(texts) and joined.isascii():
        # Every cell is one character, as labels written by a program are: one C-level pass.
        codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8) - np.uint8(ord("0"))
        return np.where(codes <= 1, codes, _BAD).astype(np.int8)
    return np.fromiter((_LABEL_CODES.get(t, _BAD) for t in texts), np.int8, len(texts))  # type: ignore[arg-type]


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
