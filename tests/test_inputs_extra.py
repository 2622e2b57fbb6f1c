"""The reader API that training shares with predict: one parsed column plus raw extra columns."""

from __future__ import annotations

import io

import pytest

from fclf_edge.runtime import InvalidInputError
from fclf_edge.runtime.reader import Input, open_input


def csv_column(
    stream: io.BytesIO, column: str, extra: tuple[str, ...] = (), chunk_lines: int = 1 << 18
) -> Input:
    return open_input(stream, column, extra=extra, input_format="csv", chunk_lines=chunk_lines)


def test_extra_columns_come_back_as_raw_text() -> None:
    data = b"temp_f,label,city\n33,1,Oslo\nabc,0,Rome\n32,0\n"
    chunks = list(csv_column(io.BytesIO(data), "temp_f", extra=("label", "city")))
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.lines.tolist() == [2, 3, 4]
    assert chunk.values[0] == 33.0 and chunk.values[2] == 32.0
    assert set(chunk.invalid) == {1}
    assert chunk.extra == {"label": ["1", "0", "0"], "city": ["Oslo", "Rome", None]}


def test_extra_columns_by_index_without_header() -> None:
    data = b"33,1\n32,0\n"
    (chunk,) = csv_column(io.BytesIO(data), "0", extra=("1",))
    assert chunk.lines.tolist() == [1, 2]
    assert chunk.extra == {"1": ["1", "0"]}


def test_extra_columns_are_split_with_the_chunks() -> None:
    data = b"f,label\n" + b"".join(b"%d,%d\n" % (i, i % 2) for i in range(10))
    chunks = list(csv_column(io.BytesIO(data), "f", extra=("label",), chunk_lines=4))
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert [c.extra["label"] for c in chunks] == [["0", "1"] * 2, ["0", "1"] * 2, ["0", "1"]]


def test_missing_extra_column_is_named() -> None:
    with pytest.raises(InvalidInputError, match="'label'"):
        list(csv_column(io.BytesIO(b"f,city\n33,Oslo\n"), "f", extra=("label",)))


def test_extra_by_name_needs_a_header() -> None:
    with pytest.raises(InvalidInputError, match="no header"):
        list(csv_column(io.BytesIO(b"33,1\n"), "0", extra=("label",)))


def test_open_input_picks_the_reader() -> None:

    (chunk,) = open_input(io.BytesIO(b"f,label\n33,1\n"), "f", extra=("label",))
    assert chunk.values.tolist() == [33.0] and chunk.extra == {"label": ["1"]}
    (chunk,) = open_input(io.BytesIO(b"33\n32\n"))
    assert chunk.values.tolist() == [33.0, 32.0] and chunk.extra == {}


def test_quoted_records_across_block_boundaries_match_the_csv_module() -> None:
    """Small blocks (64 KiB) cut many multi-line records in two: each is carried over whole."""
    import csv

    rows = [[f"note {i}\nline two, \"quoted\"\r\nthree" * (i % 4), f"{i % 90 - 20}.5", str(i)]
            for i in range(6000)]  # fmt: skip
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([["note", "temp_f", "id"], *rows])
    data = buffer.getvalue().encode()
    assert len(data) > 5 * 65536
    opened = open_input(
        io.BytesIO(data), "temp_f", extra=("id", "note"), keep_records=True, chunk_lines=100
    )
    chunks = list(opened)
    assert len(chunks) > 5
    values = [v for c in chunks for v in c.values.tolist()]
    assert values == [float(r[1]) for r in rows]
    assert [x for c in chunks for x in c.extra["note"]] == [r[0] for r in rows]
    # Line numbers are where each record starts; raw records are the exact bytes.
    reader = csv.reader(io.StringIO(buffer.getvalue(), newline=""))
    next(reader)
    starts = []
    for _ in reader:
        starts.append(reader.line_num)
    lines = [n for c in chunks for n in c.lines.tolist()]
    ends = [n for c in chunks for n, r in zip(c.lines.tolist(), c.records or [], strict=True)
            for n in [n + r.count(b"\n")]]  # fmt: skip
    assert ends == starts and lines[0] == 2
    raw = b"\n".join(r for c in chunks for r in c.records or []) + b"\n"
    assert raw == data.split(b"\n", 1)[1]
