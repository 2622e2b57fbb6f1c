"""The vectorised block parser: it accepts only what the per-value path accepts, with the same
floats, and reading a file with it gives the same chunks as reading it value by value."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fclf_edge.runtime.reader import Chunk, fastpath, open_input
from fclf_edge.runtime.reader.grammar import parse_number


@st.composite
def plain_numbers(draw: st.DrawFn, mark: str = ".") -> str:
    """Numbers the block parser must take: sign, up to 8 digits, mark, up to 8 digits."""
    sign = draw(st.sampled_from(["", "-", "+"]))
    whole = draw(st.text("0123456789", max_size=8))
    fraction = draw(st.text("0123456789", max_size=8))
    if not whole and not fraction:
        whole = "0"
    dot = draw(st.booleans()) if fraction == "" else True
    return sign + whole + (mark + fraction if dot else "")


# Near misses: the bytes numbers are made of, in any order, plus what the slow path also
# accepts (spaces, exponents) or refuses (letters, two marks, long runs of digits).
junk = st.text("0123456789+-.,eE \t\rx", max_size=20)
tokens = st.one_of(plain_numbers(), plain_numbers(), junk, st.text("0123456789.", max_size=20))


def same_float(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@settings(max_examples=300, deadline=None)
@given(st.lists(tokens, min_size=1, max_size=40), st.booleans(), st.booleans())
def test_block_parser_accepts_only_what_float_would(
    items: list[str], crlf: bool, final_newline: bool
) -> None:
    end = "\r\n" if crlf else "\n"
    body = (end.join(items) + (end if final_newline else "")).encode()
    parsed = fastpath.parse_lines(body)
    plain = all(
        t == t.strip("\r") and parse_number(t.encode()) is not None and _short_plain(t)
        for t in items
    )
    if parsed is None:
        assert not plain, f"declined a block of plain numbers: {items}"
        return
    values, starts, ends = parsed
    lines = body.split(b"\n")
    if body.endswith(b"\n"):
        lines.pop()
    assert len(values) == len(lines)
    for value, line, start, stop in zip(values.tolist(), lines, starts, ends, strict=True):
        assert body[start:stop] == line.removesuffix(b"\r")
        slow = parse_number(line)
        assert slow is not None, f"took {line!r}, which the per-value path refuses"
        assert same_float(value, slow), (line, value, slow)


def _short_plain(token: str) -> bool:
    digits = token.lstrip("+-")
    whole, _, fraction = digits.partition(".")
    if not (len(whole) <= 8 and len(fraction) <= 8 and (whole + fraction).isdigit()):
        return False
    return int(whole or "0") * 10**8 + int(fraction.ljust(8, "0")) <= 2**53


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(plain_numbers(","), junk), min_size=1, max_size=30))
def test_decimal_comma_blocks_agree(items: list[str]) -> None:
    body = ("\n".join(items) + "\n").encode()
    parsed = fastpath.parse_lines(body, decimal_comma=True)
    if parsed is None:
        return
    for value, line in zip(parsed[0].tolist(), body.split(b"\n"), strict=False):
        slow = parse_number(line, decimal_comma=True)
        assert slow is not None and same_float(value, slow), (line, value, slow)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0.0),
        ("-0", -0.0),
        ("-0.0", -0.0),
        ("+5.", 5.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("0.1", 0.1),
        ("90071992.54740992", 90071992.54740992),  # 2**53 / 10**8: the largest taken
        ("00000001.00000001", 1.00000001),
        ("-459.67", -459.67),
        ("12345678", 12345678.0),
    ],
)
def test_exact_values(text: str, value: float) -> None:
    parsed = fastpath.parse_lines(text.encode() + b"\n")
    assert parsed is not None
    assert same_float(parsed[0][0], value)
    assert same_float(parsed[0][0], float(text))


@pytest.mark.parametrize(
    "text",
    ["", "-", "+", ".", "-.", "1.2.3", "1-2", "--1", "1e5", " 1", "1 ", "123456789",
     "1.123456789", "90071992.54740993", "nan", "\u0661", "1\r2", "1_0", "0x1"],
)  # fmt: skip
def test_declines(text: str) -> None:
    assert fastpath.parse_lines(f"1\n{text}\n2\n".encode()) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.text("ab1.-; \r", max_size=5), min_size=1, max_size=4),
        min_size=1,
        max_size=20,
    ),
    st.integers(0, 3),
)
def test_table_spans_split_as_the_csv_module(rows: list[list[str]], column: int) -> None:
    body = "".join(";".join(row) + "\n" for row in rows).encode()
    spans = fastpath.table_spans(body, ";", [column])
    if spans is None:
        return
    parsed = list(csv.reader(io.StringIO(body.decode(), newline="\n"), delimiter=";"))
    starts, ends = spans[0]
    assert len(parsed) == len(rows) == len(starts)
    for row, start, stop in zip(parsed, starts, ends, strict=True):
        assert body[start:stop].decode() == row[column]


def test_table_spans_decline_ragged_rows_and_bad_text() -> None:
    assert fastpath.table_spans(b"1;2\n3\n4;5;6\n", ";", [0]) is None
    assert fastpath.table_spans(b"1;2\n3;\xff\n", ";", [0]) is None
    assert fastpath.table_spans(b"1;2\n3;4\n", ";", [2]) is None
    assert fastpath.table_spans(b"1;2\r3;4\n", ";", [0]) is None


# Whole files, read with the block parser and without it: the same chunks, row for row.
FILES = [
    ("lines", b"33\n-40.5\n+1\n.5\n-0\n", {}),
    ("lines, CR LF, no final newline", b"33\r\n32\r\n-459.67", {}),
    ("lines, too cold and too hot", b"33\n-500\n1e39\n12\n", {}),
    ("lines, a word", b"33\nabc\n32\n", {}),
    ("lines, decimal comma", b"32,5\n-3,25\n", {"decimal_comma": True}),
    ("csv", b"ts,temp_f,city\n1,33.5,Oslo\n2,-3,Rome\n", {"column": "temp_f", "extra": ["city"]}),
    ("csv, too cold", b"ts,temp_f\n1,-460\n2,32\n", {"column": "temp_f"}),
    ("csv, short row", b"ts,temp_f\n1,33\n2\n3,4\n", {"column": "temp_f"}),
    ("csv, not UTF-8", b"city;t\nZ\xfcrich;3\nOslo;4\n", {"column": "t"}),
    ("csv, UTF-8 city", "city;t\nZürich;3,5\nOslo;4\n".encode(),
     {"column": "t", "decimal_comma": True, "extra": ["city"]}),
    ("csv by index, no header", b"1,33\n2,32\n", {"column": "1", "extra": ["0"]}),
    ("csv, CR LF", b"t,c\r\n33,a\r\n32,b\r\n", {"column": "t", "extra": ["c"]}),
]  # fmt: skip


# Files the block parser reads whole (the others fall back, in part or all, to the slow path).
FAST = ("lines", "lines, CR LF, no final newline", "csv", "csv, too cold", "csv, UTF-8 city",
        "csv, CR LF", "csv by index, no header", "lines, decimal comma")  # fmt: skip


def _read(data: bytes, options: dict[str, object], chunk_lines: int) -> list[Chunk]:
    opened = open_input(
        io.BytesIO(data),
        keep_records=True,
        chunk_lines=chunk_lines,
        **options,  # type: ignore[arg-type]
    )
    return list(opened)


def _rows(chunks: list[Chunk]) -> Iterator[tuple[object, ...]]:
    for chunk in chunks:
        for i in range(len(chunk)):
            value = float(chunk.values[i])
            yield (
                int(chunk.lines[i]),
                None if math.isnan(value) else (value, math.copysign(1.0, value)),
                chunk.invalid.get(i),
                tuple(v[i] for v in chunk.extra.values()),
                chunk.records[i] if chunk.records is not None else None,
            )


@pytest.mark.parametrize(("name", "data", "options"), FILES, ids=[f[0] for f in FILES])
@pytest.mark.parametrize("chunk_lines", [1, 2, 1000])
def test_files_read_the_same_with_and_without_the_block_parser(
    name: str,
    data: bytes,
    options: dict[str, object],
    chunk_lines: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bool] = []
    real = fastpath.parse_spans

    def counted(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(result is not None)
        return result

    monkeypatch.setattr(fastpath, "parse_spans", counted)
    fast = _read(data, options, chunk_lines)
    monkeypatch.setattr(fastpath, "parse_spans", lambda *args, **kwargs: None)
    slow = _read(data, options, chunk_lines)
    assert list(_rows(fast)) == list(_rows(slow))
    assert [len(c) for c in fast] == [len(c) for c in slow]
    if name in FAST:
        assert calls and all(calls), "the block parser should have read this file"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=st.lists(tokens, min_size=1, max_size=30), column=st.sampled_from([None, "1"]))
def test_random_files_read_the_same(
    items: list[str], column: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if column is None:
        data = ("\n".join(items) + "\n").encode()
        options: dict[str, object] = {"input_format": "lines"}
    else:
        data = "".join(f"{i};{t}\n" for i, t in enumerate(items)).encode()
        options = {"column": column, "input_format": "csv", "delimiter": ";"}
    outcomes = []
    for parser in (fastpath.parse_spans, lambda *args, **kwargs: None):
        monkeypatch.setattr(fastpath, "parse_spans", parser)
        try:
            outcomes.append(list(_rows(_read(data, options, 7))))
        except Exception as exc:  # the same error either way
            outcomes.append([(type(exc).__name__, str(exc))])
    assert outcomes[0] == outcomes[1]


def test_big_block_matches_float() -> None:
    rng = np.random.default_rng(7)
    values = np.round(rng.uniform(-459.67, 10_000, 100_000), rng.integers(0, 8))
    text = "\n".join(f"{v:.{rng.integers(0, 8)}f}" for v in values.tolist()) + "\n"
    parsed = fastpath.parse_lines(text.encode())
    assert parsed is not None
    expected = np.array([float(t) for t in text.split()])
    assert np.array_equal(parsed[0], expected)


# JSON Lines: a block's lines parsed as one array must give what parsing each line gives.
JSONL_TRICKS = [
    # Lines that are not JSON alone but could join into valid JSON: a string open across a
    # line end, an array open across lines, a line holding two objects to even out the count.
    ['{"a": "x}', '{", "temp_f": 1}', '{"c": 1},{"temp_f": 2}'],
    ['{"a": [1', '{"temp_f": 2}]}', '{"c": 1},{"temp_f": 2}'],
    ['{"temp_f": 1}, {"x": [2', "3]}"],
    ['{"temp_f": 1', '"b": 2}'],
    ['{"temp_f": 1},', '{"temp_f": 2}'],
    [' {"temp_f": 1}', '{"temp_f": 2} ', '{"temp_f": 3}\r', '{"temp_f": 4}\x0c'],
    ['{"temp_f": 1}', "", '{"temp_f": 2}'],
    ['{"temp_f": 10000000000000000000000000000000000000000000000000000}', '{"temp_f": 1e400}'],
    ['{"temp_f": 1, "temp_f": "2"}', '{"temp_f": true}', '{"temp_f": null}', '{"t": 1}'],
    ['{"temp_f": 33.5, "city": {"n": 1}}', '{"temp_f": -40, "city": "Nome"}'],
    ['{"temp_f": 1}', '{"a":' * 3000 + "1" + "}" * 3000],
]


def _jsonl_rows(data: bytes) -> list[object]:
    try:
        options: dict[str, object] = {
            "column": "temp_f",
            "extra": ["city"],
            "input_format": "jsonl",
        }
        return list(_rows(_read(data, options, 1000)))
    except Exception as exc:  # the same error either way
        return [(type(exc).__name__, str(exc))]


def _both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[object], list[object]]:
    from fclf_edge.runtime.reader import jsonlines

    fast = _jsonl_rows(data)
    with monkeypatch.context() as patch:
        patch.setattr(jsonlines, "_objects_at_once", lambda part: None)
        slow = _jsonl_rows(data)
    return fast, slow


@pytest.mark.parametrize("lines", JSONL_TRICKS)
def test_jsonl_blocks_read_as_lines_would(
    lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _both_ways(("\n".join(lines) + "\n").encode(), monkeypatch)
    assert fast == slow


def test_jsonl_too_deep_is_an_invalid_row() -> None:
    data = ('{"temp_f": 1}\n' + '{"a":' * 3000 + "1" + "}" * 3000 + "\n").encode()
    (chunk,) = _read(data, {"column": "temp_f"}, 1000)
    assert chunk.invalid[1].startswith("not valid JSON (nested too deeply)")


def test_jsonl_common_block_is_parsed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from fclf_edge.runtime.reader import jsonlines

    calls: list[bool] = []
    real = jsonlines._objects_at_once

    def counted(part: list[str]) -> object:
        result = real(part)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(jsonlines, "_objects_at_once", counted)
    data = b"".join(b'{"ts": %d, "temp_f": %d.5, "city": "Oslo"}\n' % (i, i) for i in range(50))
    (chunk,) = _read(data, {"column": "temp_f", "extra": ["city"]}, 1000)
    assert calls == [True]
    assert chunk.values.tolist() == [i + 0.5 for i in range(50)]
    assert chunk.extra["city"] == ["Oslo"] * 50


json_bits = st.sampled_from(
    ['{', '}', '[', ']', '"', ',', ':', ' ', '"temp_f"', '"city"', '1', '-2.5', '"33"', "null",
     "true", '{"temp_f": 1}', '"x', "\\", "\r"]
)  # fmt: skip
json_lines = st.one_of(
    st.lists(json_bits, max_size=12).map("".join),
    st.builds('{{"temp_f": {}, "city": "{}"}}'.format, st.floats(-500, 500), st.text("ab[]{}")),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(json_lines, min_size=1, max_size=12))
def test_random_jsonl_read_as_lines_would(
    lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _both_ways(("\n".join(lines) + "\n").encode(), monkeypatch)
    assert fast == slow
