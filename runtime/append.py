"""--append: write each input record back, byte for byte, with its label added.

Loaded only with --append, off the start-up path of a plain `fclf-edge predict`.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

import numpy as np

from .outputs import SKIPPED
from .reader import Chunk, Input

if TYPE_CHECKING:
    import numpy.typing as npt


class AppendWriter:
    """Writes each input record back with `label` (and `probability`) added.

    CSV: the same bytes (header, delimiter, quoting, CRLF) plus new columns `label` and
    `probability` (named `predicted_label` / `predicted_probability` when the header already
    has that name); a skipped row gets empty cells; with a decimal comma, probabilities are
    written with one. JSON Lines: each object with keys `label` and `probability` added before
    its closing brace (same renaming per object); a skipped object gets `"skipped": reason`, and
    a line that is no object becomes {"line": N, "skipped": reason}. Lines and arguments:
    `value<TAB>label[<TAB>probability]`, with empty cells for a skipped row.
    The output is UTF-8, uncompressed; it starts with a BOM when the input had one (UTF-8 or
    UTF-16), so spreadsheets read it as UTF-8.
    """

    def __init__(self, out: IO[bytes], source: Input, proba: bool) -> None:
        self.out = out
        self.kind = source.kind
        self.proba = proba
        self.decimal_comma = source.decimal_comma
        self.sep = (source.delimiter or ",").encode() if self.kind == "csv" else b"\t"
        # Fields per row the labels line up with: each shorter row is padded to it, so its
        # label falls under the header's 'label' column (a longer row is an invalid row).
        self.width = source.width
        if source.encoding != "utf-8":
            # The output is UTF-8; its BOM tells spreadsheets so, as the input's BOM did.
            out.write(b"\xef\xbb\xbf")
        names = ["label", "probability"] if proba else ["label"]
        if source.header and source.header_record is not None:
            taken = set(source.header)
            cells = [f"predicted_{n}" if n in taken else n for n in names]
            head, end = _split_end(source.header_record)
            pad = self.sep * (self.width - len(source.header))
            out.write(head + pad + self.sep + self.sep.join(c.encode() for c in cells) + end)

    def write(
        self,
        chunk: Chunk,
        labels: npt.NDArray[np.int64],
        probabilities: npt.NDArray[np.float32] | None,
    ) -> None:
        records = chunk.records
        if records is None:
            raise ValueError("AppendWriter needs chunks read with keep_records=True")
        if self.kind == "jsonl":
            rows = self._jsonl(chunk, records, labels, probabilities)
        elif probabilities is None:
            # Common case, one lookup per row: index -1 (skipped) picks the empty cell.
            lf = tuple(self.sep + cell + b"\n" for cell in (b"0", b"1", b""))
            crlf = tuple(self.sep + cell + b"\r\n" for cell in (b"0", b"1", b""))
            rows = [
                r[:-1] + crlf[label] if r[-1:] == b"\r" else r + lf[label]
                for r, label in zip(self._filled(chunk, records), labels.tolist(), strict=True)
            ]
        else:
            rows = self._with_proba(chunk, records, labels, probabilities)
        self.out.write(b"".join(rows))

    def _filled(self, chunk: Chunk, records: list[bytes]) -> list[bytes]:
        """CSV records padded with empty fields to the header's width (a short row, or a
        too-long row the reader emptied), so every label falls under 'label'."""
        widths = chunk.widths
        if widths is None or not self.width or not widths or min(widths) >= self.width:
            return records  # the common case: every row as wide as the header
        sep, width = self.sep, self.width
        return [
            r
            if w >= width
            else (r[:-1] + sep * (width - w) + b"\r" if r[-1:] == b"\r" else r + sep * (width - w))
            for r, w in zip(records, widths, strict=True)
        ]

    def _with_proba(
        self,
        chunk: Chunk,
        records: list[bytes],
        labels: npt.NDArray[np.int64],
        probabilities: npt.NDArray[np.float32],
    ) -> list[bytes]:
        sep = self.sep.decode()
        rows = []
        for r, label, p in zip(
            self._filled(chunk, records), labels.tolist(), probabilities.tolist(), strict=True
        ):
            head, end = _split_end(r)
            if label < 0:
                cells = sep + sep
            else:
                text = f"{p:.9g}"
                cells = f"{sep}{label}{sep}{text.replace('.', ',') if self.decimal_comma else text}"
            rows.append(head + cells.encode() + end)
        return rows

    def _jsonl(
        self,
        chunk: Chunk,
        records: list[bytes],
        labels: npt.NDArray[np.int64],
        probabilities: npt.NDArray[np.float32] | None,
    ) -> list[bytes]:
        label_list = labels.tolist()
        if probabilities is None:
            cells = [b', "label": 0}\n', b', "label": 1}\n']
        else:
            cells = [
                f', "label": {label}, "probability": {p:.9g}}}\n'.encode()
                for label, p in zip(label_list, probabilities.tolist(), strict=True)
            ]
            label_list = [j if label >= 0 else -1 for j, label in enumerate(label_list)]
        # The common record `{...}` with no "label" key: drop its brace, add the cells.
        # Anything else (skipped, empty object, trailing space, a "label" key) goes the long way.
        return [
            r[:-1] + cells[i]
            if i >= 0 and r[-1:] == b"}" and r[-2:-1] not in b"{ \t" and b'"label"' not in r
            else self._jsonl_row(chunk, j, r, labels, probabilities)
            for j, (r, i) in enumerate(zip(records, label_list, strict=True))
        ]

    def _jsonl_row(
        self,
        chunk: Chunk,
        i: int,
        record: bytes,
        labels: npt.NDArray[np.int64],
        probabilities: npt.NDArray[np.float32] | None,
    ) -> bytes:
        import json

        head, end = _split_end(record)
        reason = chunk.invalid.get(i)
        if reason is not None:
            if _is_object(head):
                return _insert(head, b'"skipped": ' + json.dumps(reason).encode()) + end
            line = int(chunk.lines[i])
            return json.dumps({"line": line, SKIPPED: reason}).encode() + b"\n"
        taken = b'"label"' in head or b'"probability"' in head
        keys = _keys(head) if taken else set()
        fields = f'"{_name("label", keys)}": {int(labels[i])}'
        if probabilities is not None:
            fields += f', "{_name("probability", keys)}": {float(probabilities[i]):.9g}'
        return _insert(head, fields.encode()) + end

    def close(self) -> None:
        self.out.flush()


def _split_end(record: bytes) -> tuple[bytes, bytes]:
    """(record without a trailing CR, the line ending to write: CR LF or LF)."""
    if record[-1:] == b"\r":
        return record[:-1], b"\r\n"
    return record, b"\n"


def _is_object(text: bytes) -> bool:
    import json

    try:
        return type(json.loads(text)) is dict
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
        return False


def _keys(text: bytes) -> set[str]:
    import json

    return set(json.loads(text))


def _name(name: str, keys: set[str]) -> str:
    return f"predicted_{name}" if name in keys else name


def _insert(obj: bytes, fields: bytes) -> bytes:
    """Add `"k": v, ...` text before the closing brace of a JSON object's text."""
    body = obj.rstrip()[:-1].rstrip()
    return body + (b"" if body.endswith(b"{") else b", ") + fields + b"}"
