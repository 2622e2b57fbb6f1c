"""Write predictions as a new table (text, CSV, JSON Lines, JSON), in input order, chunk by chunk.

`Writer.write` takes, per chunk, one label per row (-1 where the row was skipped) and, with
probabilities, one probability per row. `append.AppendWriter` writes the input's own records
back instead (--append).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Literal

import numpy as np

from .reader.types import Chunk

if TYPE_CHECKING:
    import numpy.typing as npt

Format = Literal["text", "csv", "jsonl", "json"]
FORMATS: tuple[Format, ...] = ("text", "csv", "jsonl", "json")
SKIPPED = "skipped"


class Writer:
    """Formats rows of a new table.

    text: `label` (or `label<TAB>probability`) per input row; `skipped` for a skipped row.
    csv: header `line,fahrenheit,label[,probability]`; a skipped row has label `skipped`.
    jsonl / json: objects {line, fahrenheit, label[, probability]}; a skipped row is
    {line, skipped: reason}. json wraps them in one array.
    """

    def __init__(self, out: IO[bytes], fmt: Format, proba: bool) -> None:
        self.out = out
        self.fmt = fmt
        self.proba = proba
        self.rows = 0
        if fmt == "csv":
            out.write(
                b"line,fahrenheit,label,probability\n" if proba else b"line,fahrenheit,label\n"
            )
        elif fmt == "json":
            out.write(b"[")

    def write(
        self,
        chunk: Chunk,
        labels: npt.NDArray[np.int64],
        probabilities: npt.NDArray[np.float32] | None,
    ) -> None:
        if self.fmt == "text" and not self.proba and not chunk.invalid:
            # The hot path for big files: labels are 0/1, so each row is two bytes.
            rows = np.empty((len(labels), 2), dtype=np.uint8)
            rows[:, 0] = labels.astype(np.uint8) + ord("0")
            rows[:, 1] = ord("\n")
            self.out.write(rows.tobytes())
            self.rows += len(labels)
            return
        self.out.write("".join(self._rows(chunk, labels, probabilities)).encode("utf-8"))

    def _rows(
        self,
        chunk: Chunk,
        labels: npt.NDArray[np.int64],
        probabilities: npt.NDArray[np.float32] | None,
    ) -> list[str]:
        out: list[str] = []
        label_list = labels.tolist()
        prob_list = probabilities.tolist() if probabilities is not None else None
        pairs = zip(chunk.lines.tolist(), chunk.values.tolist(), strict=True)
        for i, (line, value) in enumerate(pairs):
            reason = chunk.invalid.get(i)
            if reason is not None:
                out.append(self._skipped(line, reason))
                continue
            p = prob_list[i] if prob_list is not None else None
            out.append(self._row(line, value, label_list[i], p))
        return out

    def _sep(self) -> str:
        first = self.rows == 0
        self.rows += 1
        return "" if first else ","

    def _row(self, line: int, value: float, label: int, p: float | None) -> str:
        if self.fmt == "text":
            self.rows += 1
            return f"{label}\n" if p is None else f"{label}\t{p:.9g}\n"
        if self.fmt == "csv":
            self.rows += 1
            return (
                f"{line},{value!r},{label}\n"
                if p is None
                else f"{line},{value!r},{label},{p:.9g}\n"
            )
        obj = f'{{"line": {line}, "fahrenheit": {value!r}, "label": {label}'
        obj += "}" if p is None else f', "probability": {p:.9g}}}'
        return obj + "\n" if self.fmt == "jsonl" else self._sep() + "\n" + obj

    def _skipped(self, line: int, reason: str) -> str:
        if self.fmt == "text":
            self.rows += 1
            return f"{SKIPPED}\n"
        if self.fmt == "csv":
            self.rows += 1
            return f"{line},,{SKIPPED}" + (",\n" if self.proba else "\n")
        import json  # only for skipped rows; keeps start-up lean

        obj = json.dumps({"line": line, SKIPPED: reason})
        return obj + "\n" if self.fmt == "jsonl" else self._sep() + "\n" + obj

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write(b"\n]\n" if self.rows else b"]\n")
        self.out.flush()
