"""Field reports (#16): each input, its stated expected result, and more of the same kind.

Whole-process runs go through the console script (`fclf-edge`), so exit codes, stderr and
output bytes are what a user sees.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fclf_edge.runtime import DEFAULT_MODEL_PATH, Classifier
from fclf_edge.runtime.errors import EXIT_MODEL, EXIT_USAGE

EDGE = [sys.executable, "-m", "fclf_edge.runtime"]
TRAIN = str(Path(sys.executable).parent / "train-model")
EXPORT = str(Path(sys.executable).parent / "export-onnx")


def edge(
    *args: str, data: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*EDGE, *args], input=data, capture_output=True, timeout=timeout)


def one_clean_line(result: subprocess.CompletedProcess[bytes]) -> str:
    err = result.stderr.decode()
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


# 1. Records that arrive live are scored as they arrive -------------------------------------


def _first_lines_in_time(args: list[str], first: bytes, later: bytes, want: int) -> list[str]:
    """Write `first`, read `want` output lines (each within 2 s), then send `later`."""
    proc = subprocess.Popen(
        [*EDGE, "predict", "-", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(first)
        proc.stdin.flush()
        lines: list[str] = []
        buffer = b""
        deadline = time.monotonic() + 10  # start-up included; each record itself is instant
        while len(lines) < want:
            ready, _, _ = select.select(
                [proc.stdout], [], [], max(0.0, deadline - time.monotonic())
            )
            assert ready, f"only {lines} arrived before the rest of the input was sent"
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, "output ended early"
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            lines += [line.decode() for line in done]
        proc.stdin.write(later)
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(timeout=30) == 0
        return lines + (buffer + rest).decode().splitlines()
    finally:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(
    ("args", "first", "later", "want", "expected"),
    [
        (["--column", "temp"], b"time,temp\n1,33\n2,31\n", b"3,40\n", 2, ["1", "0", "1"]),
        (
            ["--column", "temp", "--append"],
            b"time,temp\n1,33\n2,31\n",
            b"3,40\n",
            3,
            ["time,temp,label", "1,33,1", "2,31,0", "3,40,1"],
        ),
        (["--column", "t"], b'"t","x"\n"33","a,b"\n', b'"31","c"\n', 1, ["1", "0"]),
        ([], b"33\n31\n", b"40\n", 2, ["1", "0", "1"]),
        (["--column", "t"], b'{"t": 33}\n{"t": 31}\n', b'{"t": 40}\n', 2, ["1", "0", "1"]),
        (["--column", "t", "--delimiter", ";"], b"t;x\n33;1\n", b"31;2\n", 1, ["1", "0"]),
    ],
    ids=["csv", "csv-append", "csv-quoted", "lines", "jsonl", "csv-semicolon"],
)
def test_live_records_are_labelled_as_they_arrive(
    args: list[str], first: bytes, later: bytes, want: int, expected: list[str]
) -> None:
    assert _first_lines_in_time(args, first, later, want) == expected


def test_live_gzip_stream_is_labelled_as_it_arrives() -> None:
    compressor = gzip.GzipFile(fileobj=(buffer := io.BytesIO()), mode="wb")
    compressor.write(b"33\n31\n")
    compressor.flush()  # a sync flush: what a logger piping through gzip sends per record
    first = buffer.getvalue()
    compressor.write(b"40\n")
    compressor.close()
    later = buffer.getvalue()[len(first) :]
    assert _first_lines_in_time([], first, later, 2) == ["1", "0", "1"]


# 2. No input, model or option makes a traceback -------------------------------------------

HUGE = "9" * 5000


@pytest.mark.parametrize("field", ["t", "other"])
def test_jsonl_integer_of_5000_digits_is_an_invalid_row(field: str, tmp_path: Path) -> None:
    record = {"t": 40, "other": 1}
    line = json.dumps(record).replace(f'"{field}": {record[field]}', f'"{field}": {HUGE}')
    data = f'{{"t": 33}}\n{line}\n{{"t": 31}}\n'.encode()
    result = edge("predict", "-", "--column", "t", data=data)
    assert result.returncode == EXIT_USAGE
    assert "line 2:" in one_clean_line(result)
    result = edge("predict", "-", "--column", "t", "--on-invalid", "skip", data=data)
    assert (result.returncode, result.stdout) == (0, b"1\nskipped\n0\n")
    assert "Traceback" not in result.stderr.decode()
    assert "skipped line 2:" in result.stderr.decode()


def test_train_model_with_a_5000_digit_integer(tmp_path: Path) -> None:
    rows = [json.dumps({"f": float(f), "label": int(f > 32)}) for f in range(-40, 100)]
    rows[5] = rows[5].replace('"label": 0', f'"label": {HUGE}')
    rows[9] = rows[9].replace('"f": -31.0', f'"f": {HUGE}')
    path = tmp_path / "readings.jsonl"
    path.write_text("\n".join(rows) + "\n")
    train = [TRAIN]
    common = ["--data-file", str(path), "--input-column", "f", "--out", str(tmp_path / "m.pt")]
    result = subprocess.run([*train, *common], capture_output=True, timeout=300)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "line 6" in one_clean_line(result)
    assert not (tmp_path / "m.pt").exists()
    result = subprocess.run(
        [*train, *common, "--on-invalid", "skip"], capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    err = result.stderr.decode() + result.stdout.decode()
    assert "line 6" in err and "line 10" in err and "Traceback" not in err


def _bundled_with(edit: object) -> bytes:
    onnx = pytest.importorskip("onnx")  # the train extra: installed by the test command
    model = onnx.load(str(DEFAULT_MODEL_PATH))
    edit(model)  # type: ignore[operator]
    return bytes(model.SerializeToString())


def _fix_batch(size: int) -> object:
    def edit(model: object) -> None:
        for value in [*model.graph.input, *model.graph.output]:  # type: ignore[attr-defined]
            dim = value.type.tensor_type.shape.dim[0]
            dim.ClearField("dim_param")
            dim.dim_value = size

    return edit


@pytest.mark.parametrize("size", [1, 3])
def test_a_model_with_a_fixed_batch_size_works(size: int, tmp_path: Path) -> None:
    path = tmp_path / "fixed.onnx"
    path.write_bytes(_bundled_with(_fix_batch(size)))
    result = edge("predict", "--model", str(path), "33", "32")
    assert (result.returncode, result.stdout) == (0, b"1\n0\n"), result.stderr
    values = np.linspace(-459.67, 1000, 1001, dtype=np.float32)
    labels, probabilities = Classifier(path).predict_with_proba(values)
    want_labels, want_probabilities = Classifier().predict_with_proba(values)
    assert np.array_equal(labels, want_labels)
    assert np.array_equal(probabilities, want_probabilities)
    assert Classifier(path).predict(33.0) == 1
    data = "".join(f"{v}\n" for v in values.tolist()).encode()
    result = edge("predict", "--model", str(path), "-", data=data)
    assert result.stdout.split() == [str(v).encode() for v in want_labels.tolist()]


def test_metadata_that_only_looks_like_json_is_shown_as_text(tmp_path: Path) -> None:
    def edit(model: object) -> None:
        props = model.metadata_props  # type: ignore[attr-defined]
        props.add(key="classes", value="{0: 'cold', 1: 'warm'}")
        props.add(key="note", value="{")
        props.add(key="ansi", value="\x1b[2Jwiped")

    path = tmp_path / "meta.onnx"
    path.write_bytes(_bundled_with(edit))
    result = edge("info", "--model", str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "{0: 'cold', 1: 'warm'}" in out
    assert "\x1b" not in out and "\\x1b[2Jwiped" in out
    result = edge("info", "--model", str(path), "--json")
    assert json.loads(result.stdout)["metadata"]["classes"] == "{0: 'cold', 1: 'warm'}"


def test_a_boundary_that_is_no_number_is_no_traceback(tmp_path: Path) -> None:
    def edit(model: object) -> None:
        for prop in model.metadata_props:  # type: ignore[attr-defined]
            if prop.key == "boundary_fahrenheit":
                prop.value = "thirty-two"

    path = tmp_path / "m.onnx"
    path.write_bytes(_bundled_with(edit))
    for args in (["info"], ["verify", "--samples", "1000"], ["predict", "33"]):
        result = edge(*args, "--model", str(path))
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr.decode()


# 3. Headers and encodings as spreadsheets and loggers write them ---------------------------


def test_a_header_naming_the_column_twice_is_refused() -> None:
    data = b"temp,humidity,temp\n33,50,31\n"
    result = edge("predict", "-", "--column", "temp", data=data)
    assert result.returncode == EXIT_USAGE
    err = one_clean_line(result)
    assert "0 and 2" in err and "--column" in err and "INDEX" in err
    result = edge("predict", "-", "--column", "2", data=data)
    assert (result.returncode, result.stdout) == (0, b"0\n")


def test_train_model_refuses_a_doubled_input_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("f,f,label\n" + "".join(f"{x},{-x},{int(x > 32)}\n" for x in range(-40, 90)))
    result = subprocess.run(
        [TRAIN, "--data-file", str(path), "--input-column",
         "f", "--out", str(tmp_path / "m.pt")],
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == EXIT_USAGE
    err = one_clean_line(result)
    assert "--input-column" in err and "0 and 1" in err
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("codec", ["cp1252", "latin-1", "utf-16-le", "utf-16", "cp850"])
def test_encoding_option_reads_other_codecs(codec: str) -> None:
    text = "time,Temp (°F)\n06:00,33\n07:00,31\n"
    data = text.encode(codec)
    result = edge("predict", "-", "--column", "Temp (°F)", "--encoding", codec, data=data)
    assert (result.returncode, result.stdout) == (0, b"1\n0\n"), result.stderr


def test_latin1_header_without_encoding_says_it_is_not_utf8() -> None:
    data = "time,Temp (°F)\n06:00,33\n".encode("cp1252")
    result = edge("predict", "-", "--column", "Temp (°F)", data=data)
    assert result.returncode == EXIT_USAGE
    err = one_clean_line(result)
    assert "UTF-8" in err and "--encoding" in err and "0xb0" in err


def test_encoding_option_refuses_unknown_and_non_text_codecs() -> None:
    for codec in ("klingon", "base64", "rot13", "zlib"):
        result = edge("predict", "-", "--column", "t", "--encoding", codec, data=b"t\n33\n")
        assert result.returncode == EXIT_USAGE, codec
        assert codec in one_clean_line(result)


def test_excel_sep_line_is_honoured() -> None:
    data = b"sep=;\r\ntime;temp\r\n06:00;33,5\r\n07:00;31\r\n"
    result = edge("predict", "-", "--column", "temp", "--decimal-comma", data=data)
    assert (result.returncode, result.stdout) == (0, b"1\n0\n"), result.stderr
    result = edge("predict", "-", "--column", "temp", "--decimal-comma", "--append", data=data)
    rows = list(csv.reader(io.StringIO(result.stdout.decode()), delimiter=";"))
    assert rows[0] == ["time", "temp", "label"]
    assert [row[2] for row in rows[1:]] == ["1", "0"]
    # A bad row is named by its own line: the sep= line is line 1.
    result = edge("predict", "-", "--column", "temp", data=b"sep=|\nt|temp\nx|abc\n")
    assert "line 3:" in one_clean_line(result)


def test_utf16_without_bom_is_named() -> None:
    for codec in ("utf-16-le", "utf-16-be"):
        data = "temp\n33\n31\n".encode(codec)
        result = edge("predict", "-", "--column", "temp", data=data)
        assert result.returncode == EXIT_USAGE
        err = one_clean_line(result)
        assert "UTF-16" in err and "byte-order mark" in err and f"--encoding {codec}" in err
        result = edge("predict", "-", "--column", "temp", "--encoding", codec, data=data)
        assert (result.returncode, result.stdout) == (0, b"1\n0\n")


def test_cr_only_line_ends_are_read_as_spreadsheets_do() -> None:
    data = b"time,temp\r06:00,33\r07:00,31\r"
    result = edge("predict", "-", "--column", "temp", data=data)
    assert (result.returncode, result.stdout) == (0, b"1\n0\n"), result.stderr
    result = edge("predict", "-", data=b"33\r31\r")
    assert (result.returncode, result.stdout) == (0, b"1\n0\n"), result.stderr
    # A stray CR in an LF file: the kit's own words, not the csv module's.
    result = edge("predict", "-", "--column", "temp", data=b'time,temp\n06:00,33\n"a"\rb,31\n')
    err = one_clean_line(result)
    assert "universal-newline" not in err and "carriage return" in err


@pytest.mark.parametrize(
    ("value", "args", "readings"),
    [
        ("1,234", [], ("1.234", "1234")),
        ("1.234", ["--decimal-comma"], ("1.234", "1234")),
        ("12,345", [], ("12.345", "12345")),
    ],
)
def test_grouped_digits_hint_names_both_readings(
    value: str, args: list[str], readings: tuple[str, str]
) -> None:
    data = f"t;x\n{value};1\n".encode()
    result = edge("predict", "-", "--column", "t", *args, data=data)
    assert result.returncode == EXIT_USAGE
    err = one_clean_line(result)
    assert all(reading in err for reading in readings), err
    assert "thousands" in err


def test_jsonl_blank_lines_are_no_records() -> None:
    data = b'{"t": 33}\n\n{"t": 31}\n  \n\n'
    result = edge("predict", "-", "--column", "t", data=data)
    assert (result.returncode, result.stdout) == (0, b"1\n0\n"), result.stderr
    result = edge("predict", "-", "--column", "t", "--format", "csv", data=data)
    assert result.stdout.decode().splitlines()[1:] == ["1,33.0,1", "3,31.0,0"]  # line numbers kept
    result = edge("predict", "-", "--column", "t", "--append", data=data)
    assert result.stdout == b'{"t": 33, "label": 1}\n{"t": 31, "label": 0}\n'


# 4. --append puts every label under 'label' and keeps every field --------------------------


def _labels_by_header(out: bytes, delimiter: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(out.decode()), delimiter=delimiter))
    return rows[0], rows[1:]


@pytest.mark.parametrize(
    ("data", "delimiter", "labels", "fields"),
    [
        # trailing separator on every row
        (b"date;T;Po\n04.05.2021 09:00;33.8;759.0;\n" b"04.05.2021 10:00;31;759.0;\n", ";",
         ["1", "0"], 4),
        # header with a trailing separator, rows without
        (b"date;T;Po;\n04.05.2021 09:00;33.8;759.0\n" b"04.05.2021 10:00;31;759.0\n", ";",
         ["1", "0"], 4),
        (b"time,temp\n07:00,33\n08:00,31\n", ",", ["1", "0"], 2),
        (b'time,temp\n"07:00",33\n"08:00",31\n', ",", ["1", "0"], 2),
    ],
)  # fmt: skip
def test_append_labels_fall_under_the_label_column(
    data: bytes, delimiter: str, labels: list[str], fields: int
) -> None:
    column = "T" if b";T;" in data else "temp"
    result = edge("predict", "-", "--column", column, "--append", data=data)
    assert result.returncode == 0, result.stderr
    header, rows = _labels_by_header(result.stdout, delimiter)
    at = header.index("label")
    assert [row[at] for row in rows] == labels
    assert all(len(row) == len(header) == fields + 1 for row in rows)
    sources = list(csv.reader(io.StringIO(data.decode()), delimiter=delimiter))[1:]
    for source, row in zip(sources, rows, strict=True):
        assert row[: len(source)] == source  # every field kept, in place
        assert not any(row[len(source) : at])  # padding only
    pandas = pytest.importorskip("pandas")  # the bench extra: installed by the test command
    frame = pandas.read_csv(io.BytesIO(result.stdout), sep=delimiter, dtype=str)
    assert frame["label"].tolist() == labels


def test_append_rows_longer_or_shorter_than_the_header() -> None:
    data = b"time,temp\n06:00,33\n07:00,31,sensor-b\n08:00\n09:00,40\n"
    result = edge("predict", "-", "--column", "temp", "--append", data=data)
    assert result.returncode == EXIT_USAGE
    err = one_clean_line(result)
    assert "line 3:" in err and "3 fields" in err
    result = edge("predict", "-", "-c", "temp", "--append", "--on-invalid", "skip", data=data)
    assert result.returncode == 0
    header, rows = _labels_by_header(result.stdout, ",")
    at = header.index("label")
    by_time = {row[0]: row for row in rows}
    assert (by_time["06:00"][at], by_time["09:00"][at]) == ("1", "1")
    assert by_time["08:00"] == ["08:00", "", ""]  # padded: its empty label is under 'label'
    assert by_time["07:00"][:3] == ["07:00", "31", "sensor-b"]  # every field kept
    err = result.stderr.decode()
    assert "skipped line 3:" in err and "skipped line 4:" in err


# 6. Models as people save them ---------------------------------------------------------------


def test_a_model_with_external_data_loads_quietly(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(DEFAULT_MODEL_PATH))
    folder = tmp_path / "saved"
    folder.mkdir()
    onnx.save_model(
        model,
        str(folder / "m.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="m.onnx.data",
        size_threshold=0,
    )
    assert (folder / "m.onnx.data").stat().st_size > 0
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = subprocess.run(
        [*EDGE, "predict", "--model", str(folder / "m.onnx"), "33", "32"],
        capture_output=True,
        cwd=elsewhere,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"1\n0\n", b"")
    # Without its data file: one line from the kit, nothing from onnxruntime's own logger.
    (folder / "m.onnx.data").unlink()
    result = edge("predict", "--model", str(folder / "m.onnx"), "33")
    assert result.returncode == EXIT_MODEL
    err = one_clean_line(result)
    assert "\x1b[" not in err


def test_external_data_outside_the_model_folder_is_refused(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(DEFAULT_MODEL_PATH))
    (tmp_path / "sub").mkdir()
    onnx.save_model(
        model,
        str(tmp_path / "m.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    escaped = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
    for tensor in escaped.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../weights.bin"
    onnx.save(escaped, str(tmp_path / "sub" / "m.onnx"))
    result = edge("predict", "--model", str(tmp_path / "sub" / "m.onnx"), "33")
    assert result.returncode == EXIT_MODEL
    assert "escapes" in one_clean_line(result)


def test_float64_state_dict_keeps_the_authors_arithmetic(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    linear = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        # A boundary that float32 weights would move: w = 1/3, b = -32/3 + a float64 nudge.
        linear.weight.fill_(1.0 / 3.0)
        linear.bias.fill_(-32.0 / 3.0 + 3e-15)
    torch.save(linear.state_dict(), tmp_path / "f64.pt")
    result = subprocess.run(
        [EXPORT, str(tmp_path / "f64.pt"), "--out",
         str(tmp_path / "f64.onnx")],
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    near = np.float32(32) + np.arange(-4096, 4096, dtype=np.float32) * np.float32(2**-18)
    values = np.concatenate([near, np.linspace(-459.67, 10_000, 100_001, dtype=np.float32)])
    with torch.no_grad():
        logit = linear(torch.from_numpy(values).double().unsqueeze(-1)).squeeze(-1)
    want = (logit > 0).long().numpy()
    assert np.array_equal(Classifier(tmp_path / "f64.onnx").predict(values), want)
    half = torch.nn.Linear(1, 1).half()
    torch.save(half.state_dict(), tmp_path / "f16.pt")
    result = subprocess.run(
        [EXPORT, str(tmp_path / "f16.pt"), "--out",
         str(tmp_path / "f16.onnx")],
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == EXIT_MODEL
    assert "float16" in one_clean_line(result)
    assert not (tmp_path / "f16.onnx").exists()


def test_header_problems_are_named_truthfully() -> None:
    result = edge("predict", "-", "--column", "t", data=b"\nt,x\n33,1\n")
    assert result.returncode == EXIT_USAGE
    assert "header row (line 1) is empty" in one_clean_line(result)
    result = edge("predict", "-", "--column", "temp", data=b"Temp,x\n33,1\n")
    assert "did you mean 'Temp'?" in one_clean_line(result)


def test_train_model_reads_a_cp1252_file_with_encoding(tmp_path: Path) -> None:
    rows = ["Temp (°F);label", *(f"{x};{int(x > 32)}" for x in range(-40, 100))]
    path = tmp_path / "logger.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("cp1252"))
    common = [TRAIN, "--data-file", str(path), "--input-column", "Temp (°F)", "--quiet"]
    result = subprocess.run([*common, "--out", str(tmp_path / "a.pt")], capture_output=True)
    assert result.returncode == EXIT_USAGE
    assert "UTF-8" in one_clean_line(result) and "--encoding" in result.stderr.decode()
    result = subprocess.run(
        [*common, "--encoding", "cp1252", "--out", str(tmp_path / "b.pt")], capture_output=True
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "b.pt").stat().st_size > 0


@pytest.mark.parametrize("codec", ["utf-16", "punycode", "utf-32"])
def test_a_codec_that_cannot_read_the_input_is_one_line(codec: str) -> None:
    result = edge("predict", "-", "--encoding", codec, data=b"33\n31\n")
    assert result.returncode == EXIT_USAGE
    assert codec in one_clean_line(result)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["predict", "--porba", "33"], ["--porba", "--proba"]),
        (["predict", "-i", "x.csv", "--colum", "t"], ["--colum", "--column"]),
        (["predict", "--format", "xml", "33"], ["--format", "xml"]),
        (["predcit", "33"], ["predcit", "predict"]),
        (["info", "--bogus"], ["--bogus"]),
        (["verify", "--samples", "nan"], ["--samples"]),
    ],
)
def test_usage_errors_are_one_line(args: list[str], words: list[str]) -> None:
    result = edge(*args)
    assert result.returncode == EXIT_USAGE
    err = one_clean_line(result)
    assert err.startswith("Error: ") and all(word in err for word in words), err


def test_train_model_usage_error_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run([TRAIN, "--bogus"], capture_output=True, cwd=tmp_path)
    assert result.returncode == EXIT_USAGE
    assert one_clean_line(result).startswith("Error: No such option")
