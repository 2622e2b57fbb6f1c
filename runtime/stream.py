"""Score files and streams chunk by chunk: the loop behind `fclf-edge predict`, for any app.

    >>> import io
    >>> from fclf_edge.runtime import Classifier, predict_stream
    >>> table = io.BytesIO(b"city,temp_f\\nOslo,33\\nRome,32\\n")
    >>> out = io.BytesIO()
    >>> predict_stream(Classifier(), table, out, column="temp_f", append=True)
    StreamSummary(rows=2, skipped=0, kind='csv')
    >>> print(out.getvalue().decode(), end="")
    city,temp_f,label
    Oslo,33,1
    Rome,32,0

`iter_predictions` yields the same results as arrays (`Scored` chunks) instead of writing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Literal

import numpy as np

from .errors import InvalidInputError
from .reader import CHUNK_LINES, Chunk, Input, InputFormat, open_input, open_values

if TYPE_CHECKING:
    import numpy.typing as npt

    from .append import AppendWriter
    from .classifier import Classifier
    from .outputs import Format

OnInvalid = Literal["error", "skip"]


class InvalidRowError(InvalidInputError):
    """A row is not a usable temperature and `on_invalid` is "error"; `.line` names it."""


class Scored:
    """One chunk of rows with a label (and probability) per row.

    `labels` has one int64 per row, -1 where the row is invalid (skipped); `probabilities`
    one float32 per row, NaN where skipped, or None when not asked for.
    """

    __slots__ = ("chunk", "labels", "probabilities")

    def __init__(
        self,
        chunk: Chunk,
        labels: npt.NDArray[np.int64],
        probabilities: npt.NDArray[np.float32] | None,
    ) -> None:
        self.chunk = chunk
        self.labels = labels
        self.probabilities = probabilities


class StreamSummary:
    """What `predict_stream` did: rows read and rows skipped, and the input's kind."""

    __slots__ = ("rows", "skipped", "kind")

    def __init__(self, rows: int, skipped: int, kind: str) -> None:
        self.rows = rows
        self.skipped = skipped
        self.kind = kind

    def __repr__(self) -> str:
        return f"StreamSummary(rows={self.rows}, skipped={self.skipped}, kind={self.kind!r})"


def iter_predictions(
    classifier: Classifier,
    source: IO[bytes] | Sequence[str],
    *,
    column: str | None = None,
    extra: Sequence[str] = (),
    input_format: InputFormat = "auto",
    delimiter: str | None = None,
    decimal_comma: bool = False,
    encoding: str | None = None,
    proba: bool = False,
    on_invalid: OnInvalid = "error",
    on_skip: Callable[[int, str], None] | None = None,
    chunk_lines: int = CHUNK_LINES,
) -> Iterator[Scored]:
    """Label every row of a file, a stream or a list of value strings, in chunks.

    Memory stays flat for any input size: one chunk (up to `chunk_lines` rows) at a time.

    Args:
        classifier: the model to run.
        source: a binary stream (see `open_input` for what it may hold) or value strings.
        column, extra, input_format, delimiter, decimal_comma, encoding: as in `open_input`.
        proba: also compute the probability of "above freezing".
        on_invalid: "error" raises InvalidRowError at the first invalid row; "skip" labels it
            -1 and calls `on_skip(line, reason)`.

    Yields:
        `Scored` chunks, in input order.
    """
    _check_on_invalid(on_invalid)
    opened = _open(
        source, column, extra, input_format, delimiter, decimal_comma, encoding, False, chunk_lines
    )
    where = "argument" if _is_values(source) else "line"
    yield from _score(classifier, opened, where, proba, on_invalid, on_skip)


def predict_stream(
    classifier: Classifier,
    source: IO[bytes] | Sequence[str],
    out: IO[bytes],
    *,
    column: str | None = None,
    input_format: InputFormat = "auto",
    delimiter: str | None = None,
    decimal_comma: bool = False,
    encoding: str | None = None,
    fmt: Format = "text",
    append: bool = False,
    proba: bool = False,
    on_invalid: OnInvalid = "error",
    on_skip: Callable[[int, str], None] | None = None,
    chunk_lines: int = CHUNK_LINES,
) -> StreamSummary:
    """Label every row of `source` and write the results to `out`, chunk by chunk.

    Args:
        classifier: the model to run.
        source: a binary stream or value strings, as in `iter_predictions`.
        out: a binary stream; flushed after each chunk, so a live pipe sees rows as they come.
        fmt: "text", "csv", "jsonl" or "json" (see `outputs.Writer`); ignored with `append`.
        append: write each input record back with `label` (and `probability`) added, in the
            input's own format (see `append.AppendWriter`).
        column, input_format, delimiter, decimal_comma, encoding, proba, on_invalid, on_skip:
            as in `iter_predictions`. A skipped row is still written (marked), so the output has one
            row per input row.

    Returns:
        A `StreamSummary`; `rows == 0` means the input was empty.

    Raises:
        InvalidRowError: an invalid row with `on_invalid="error"` (rows before its chunk are
            written, none of its chunk).
        InvalidInputError: input that cannot be read (binary, undecodable, a missing column).
    """
    from .outputs import Writer

    _check_on_invalid(on_invalid)
    opened = _open(
        source, column, (), input_format, delimiter, decimal_comma, encoding, append, chunk_lines
    )
    where = "argument" if _is_values(source) else "line"
    if append:
        from .append import AppendWriter  # only with --append: off the start-up path

        writer: Writer | AppendWriter = AppendWriter(out, opened, proba)
    else:
        writer = Writer(out, fmt, proba)
    rows = skipped = 0
    for scored in _score(classifier, opened, where, proba, on_invalid, on_skip):
        writer.write(scored.chunk, scored.labels, scored.probabilities)
        out.flush()
        rows += len(scored.chunk)
        skipped += len(scored.chunk.invalid)
    writer.close()
    return StreamSummary(rows, skipped, opened.kind)


def _check_on_invalid(on_invalid: str) -> None:
    if on_invalid not in ("error", "skip"):
        raise InvalidInputError(f"on_invalid must be 'error' or 'skip', not {on_invalid!r}")


def _is_values(source: object) -> bool:
    return not hasattr(source, "read")


def _open(
    source: IO[bytes] | Sequence[str],
    column: str | None,
    extra: Sequence[str],
    input_format: InputFormat,
    delimiter: str | None,
    decimal_comma: bool,
    encoding: str | None,
    keep_records: bool,
    chunk_lines: int,
) -> Input:
    if isinstance(source, (str, bytes)):
        raise InvalidInputError(
            f"source {source!r} is one string: pass a binary stream (open(path, 'rb')) "
            "or a list of value strings"
        )
    if _is_values(source):
        if (
            column is not None
            or extra
            or delimiter is not None
            or encoding is not None
            or input_format != "auto"
        ):
            raise InvalidInputError(
                "columns, delimiters, encodings and input formats are for files"
            )
        values = [str(v) for v in source]
        return open_values(values, decimal_comma=decimal_comma)
    return open_input(
        source,  # type: ignore[arg-type]
        column,
        extra=extra,
        input_format=input_format,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        encoding=encoding,
        keep_records=keep_records,
        chunk_lines=chunk_lines,
    )


def _score(
    classifier: Classifier,
    chunks: Input,
    where: str,
    proba: bool,
    on_invalid: OnInvalid,
    on_skip: Callable[[int, str], None] | None,
) -> Iterator[Scored]:
    for chunk in chunks:
        values = chunk.values
        if not chunk.invalid:
            labels, probabilities = classifier.predict_batch(values.astype(np.float32), proba=proba)
            yield Scored(chunk, labels, probabilities)
            continue
        if on_invalid == "error":
            first = min(chunk.invalid)
            line = int(chunk.lines[first])
            raise InvalidRowError(f"{where} {line}: {chunk.invalid[first]}", line=line)
        if on_skip is not None:
            for i in sorted(chunk.invalid):
                on_skip(int(chunk.lines[i]), chunk.invalid[i])
        keep = np.ones(len(chunk), dtype=bool)
        keep[list(chunk.invalid)] = False
        valid_labels, valid_probs = classifier.predict_batch(
            values[keep].astype(np.float32), proba=proba
        )
        labels = np.full(len(chunk), -1, dtype=np.int64)
        labels[keep] = valid_labels
        probabilities = None
        if valid_probs is not None:
            probabilities = np.full(len(chunk), np.nan, dtype=np.float32)
            probabilities[keep] = valid_probs
        yield Scored(chunk, labels, probabilities)
