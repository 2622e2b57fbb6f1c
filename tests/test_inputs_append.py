"""--append: every input record comes back, in its own format, with its label added."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fclf_edge.runtime import Classifier
from fclf_edge.runtime.cli import main as edge
from fclf_edge.runtime.errors import EXIT_USAGE


def run(args: list[str], stdin: bytes) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(edge, args, input=stdin)
    return result.exit_code, result.stdout_bytes, result.stderr


def expected_labels(values: list[float]) -> list[int]:
    return [int(x) for x in Classifier().predict(np.array(values, dtype=np.float64)).tolist()]


def test_csv_round_trip_keeps_header_columns_delimiter_and_quoting() -> None:
    data = (
        b'id;city;temp_f;note\r\n1;"Oslo; Norway";33;"said ""hi"""\r\n'
        b'2;Rome;abc;\r\n3;"Nome";-40,5;"two\r\nlines"\r\n'
    )
    args = ["predict", "-", "-c", "temp_f", "--decimal-comma", "--append", "--proba"]
    code, out, err = run([*args, "--on-invalid", "skip"], data)
    assert code == 0, err
    # Untouched records, byte for byte, then the new cells; CRLF kept.
    assert out.startswith(b"id;city;temp_f;note;label;probability\r\n")
    assert b'1;"Oslo; Norway";33;"said ""hi""";1;0,598645568\r\n' in out
    assert b"2;Rome;abc;;;\r\n" in out
    rows = list(csv.reader(io.StringIO(out.decode(), newline=""), delimiter=";"))
    assert [r[:4] for r in rows] == [
        ["id", "city", "temp_f", "note"],
        ["1", "Oslo; Norway", "33", 'said "hi"'],
        ["2", "Rome", "abc", ""],
        ["3", "Nome", "-40,5", "two\r\nlines"],
    ]
    assert [r[4:] for r in rows[1:]] == [["1", "0,598645568"], ["", ""], ["0", rows[3][5]]]
    assert 0 < float(rows[3][5].replace(",", ".")) < 1e-9
    assert "skipped line 3: 'abc' is not a number" in err


def test_jsonl_round_trip_adds_keys_and_marks_skipped_rows() -> None:
    records = [
        {"ts": 1, "temp_f": 33.2, "meta": {"unit": "F", "list": [1, 2]}},
        {"ts": 2},
        {"ts": 3, "temp_f": None},
        {},
        {"ts": 5, "temp_f": "31", "label": "observed"},
    ]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records) + b"[1, 2]\n"
    args = ["predict", "-", "-c", "temp_f", "-a", "-p", "--on-invalid", "skip"]
    code, out, err = run(args, data)
    assert code == 0, err
    got = [json.loads(line) for line in out.splitlines()]
    assert len(got) == 6  # row counts always match
    assert got[0] == {**records[0], "label": 1, "probability": got[0]["probability"]}
    assert got[1] == {"ts": 2, "skipped": "no field 'temp_f'"}
    assert got[2] == {"ts": 3, "temp_f": None, "skipped": "field 'temp_f' is null"}
    assert got[3] == {"skipped": "no field 'temp_f'"}
    # A record that already has "label" keeps it; the prediction gets its own name.
    assert got[4]["label"] == "observed" and got[4]["predicted_label"] == 0
    assert got[5] == {"line": 6, "skipped": "not a JSON object ('[1, 2]')"}
    assert out.splitlines()[0].startswith(json.dumps(records[0])[:-1].encode())


def test_csv_header_with_label_gets_predicted_label() -> None:
    code, out, _ = run(["predict", "-", "-c", "f", "-a"], b"f,label\n33,1\n32,1\n")
    assert (code, out) == (0, b"f,label,predicted_label\n33,1,1\n32,1,0\n")


def test_headerless_csv_and_lines_and_arguments() -> None:
    code, out, _ = run(["predict", "-", "-c", "1", "-a"], b"Oslo,33\nRome,32\n")
    assert (code, out) == (0, b"Oslo,33,1\nRome,32,0\n")
    code, out, _ = run(["predict", "-", "-a", "--on-invalid", "skip"], b"33\r\nwarm\n-40\n")
    assert (code, out) == (0, b"33\t1\r\nwarm\t\n-40\t0\n")
    result = CliRunner().invoke(edge, ["predict", "-a", "-p", "33", "32"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("33\t1\t0.59")


def test_bom_input_gives_bom_output() -> None:
    code, out, _ = run(["predict", "-", "-c", "t", "-a"], b"\xef\xbb\xbft\n33\n")
    assert (code, out) == (0, b"\xef\xbb\xbft,label\n33,1\n")
    utf16 = "t\tcity\r\n33\tZürich\r\n".encode("utf-16")
    code, out, _ = run(["predict", "-", "-c", "t", "-a"], utf16)
    assert (code, out) == (0, "\ufefft\tcity\tlabel\r\n33\tZürich\t1\r\n".encode())


def test_a_too_long_csv_row_keeps_its_place_with_empty_cells() -> None:
    data = b"a,t,b\n1,33,x\n" + b"y" * 70_000 + b"\n3,32,z\n"
    code, out, err = run(["predict", "-", "-c", "t", "-a", "--on-invalid", "skip"], data)
    assert code == 0 and "line 3" in err
    assert out == b"a,t,b,label\n1,33,x,1\n,,,\n3,32,z,0\n"


def test_append_refuses_format() -> None:
    code, _, err = run(["predict", "-", "-a", "-f", "csv"], b"33\n")
    assert code == EXIT_USAGE and "--append" in err


def test_append_error_mode_writes_nothing_of_a_bad_chunk(tmp_path: object) -> None:
    code, out, err = run(["predict", "-", "-c", "t", "-a"], b"t\n33\nwarm\n")
    assert code == EXIT_USAGE and "line 3" in err
    assert out == b"t,label\n"


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0\r"),
    max_size=12,
)
temps = st.floats(min_value=-459.0, max_value=1e4, allow_nan=False).map(lambda x: round(x, 3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(cells, temps, cells), min_size=1, max_size=30),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    crlf=st.booleans(),
)
def test_any_csv_round_trips_with_labels(
    rows: list[tuple[str, float, str]], delimiter: str, quoting: int, crlf: bool
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=delimiter, quoting=quoting, lineterminator="\r\n" if crlf else "\n"
    )
    writer.writerow(["name", "temp_f", "note"])
    writer.writerows(rows)
    args = ["predict", "-", "-c", "temp_f", "-d", delimiter, "-a"]
    code, out, err = run(args, buffer.getvalue().encode())
    assert code == 0, err
    back = list(csv.reader(io.StringIO(out.decode(), newline=""), delimiter=delimiter))
    assert back[0] == ["name", "temp_f", "note", "label"]
    labels = expected_labels([t for _, t, _ in rows])
    assert back[1:] == [[a, str(t), b, str(y)] for (a, t, b), y in zip(rows, labels, strict=True)]


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(
        st.dictionaries(
            st.text(max_size=5).filter(lambda k: k not in ("t", "label", "skipped")),
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
            max_size=3,
        ),
        min_size=1,
        max_size=20,
    ),
    values=st.lists(st.one_of(temps, st.none(), st.booleans(), st.just("x")), min_size=20),
)
def test_any_jsonl_round_trips_with_labels(
    records: list[dict[str, object]], values: list[object]
) -> None:
    objs = [{**r, "t": v} for r, v in zip(records, values, strict=False)]
    data = b"".join(json.dumps(o).encode() + b"\n" for o in objs)
    args = ["predict", "-", "-c", "t", "-a", "--on-invalid", "skip"]
    code, out, err = run(args, data)
    assert code == 0, err
    back = [json.loads(line) for line in out.splitlines()]
    assert len(back) == len(objs)
    for obj, got in zip(objs, back, strict=True):
        value = obj["t"]
        if isinstance(value, float):
            assert got == {**obj, "label": expected_labels([value])[0]}
        else:
            assert set(got) == {*obj, "skipped"} and {k: got[k] for k in obj} == obj
