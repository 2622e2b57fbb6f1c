"""Bad input and broken models: one clear line, a documented exit code, never a traceback."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from fclf_edge.runtime.cli import main as edge
from fclf_edge.runtime.errors import EXIT_MODEL, EXIT_USAGE

# (stdin text, line number the error must name, a word the message must contain)
BAD_LINES: list[tuple[str, int, str]] = [
    ("abc\n", 1, "not a number"),
    ("33\nabc\n", 2, "not a number"),
    ("33\n\n32\n", 2, "empty line"),
    ("   \n", 1, "empty line"),
    ("\t\n", 1, "empty line"),
    ("nan\n", 1, "not a number"),
    ("NaN\n", 1, "not a number"),
    ("inf\n", 1, "not a number"),
    ("-inf\n", 1, "not a number"),
    ("Infinity\n", 1, "not a number"),
    ("-459.68\n", 1, "below absolute zero"),
    ("-1000\n", 1, "below absolute zero"),
    ("-4.6e2\n", 1, "below absolute zero"),
    ("1e39\n", 1, "overflows float32"),
    ("-1e39\n", 1, "overflows float32"),
    ("3.5e38\n", 1, "overflows float32"),
    ("1e400\n", 1, "infinity"),
    ("0x20\n", 1, "not a number"),
    ("0x1p5\n", 1, "not a number"),
    ("1_000\n", 1, "not a number"),
    ("1,000\n", 1, "commas"),
    ("33 32\n", 1, "not a number"),
    ("33°F\n", 1, "not a number"),
    ("33F\n", 1, "not a number"),
    ("+-33\n", 1, "not a number"),
    ("--33\n", 1, "not a number"),
    (".\n", 1, "not a number"),
    ("e5\n", 1, "not a number"),
    ("1e\n", 1, "not a number"),
    ("1.2.3\n", 1, "not a number"),
    ("٣٣\n", 1, "not a number"),  # Arabic-Indic digits: float() takes them, we do not
    ("３３\n", 1, "not a number"),  # full-width digits
    ("33\x0b\n", 1, "not a number"),  # vertical tab
    ("33\n\ufeff32\n", 2, "not a number"),  # a byte-order mark is skipped only at the start
    ("33\n32\n\xff\xfe\n", 3, "not a number"),
    ("true\n", 1, "not a number"),
]


@pytest.mark.parametrize(("text", "line", "word"), BAD_LINES)
def test_bad_lines(text: str, line: int, word: str) -> None:
    result = CliRunner().invoke(edge, ["predict", "-"], input=text.encode("utf-8", "surrogatepass"))
    assert result.exit_code == EXIT_USAGE, result.output
    assert result.stdout == ""  # nothing half-written
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in result.output
    assert f"line {line}" in message and word in message


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["predict"], "no values"),
        (["predict", "abc"], "argument 1"),
        (["predict", "33", "nan"], "argument 2"),
        (["predict", "-i", "/no/such/file"], "not found"),
        (["predict", "-i", "{tmp}"], "directory"),
        (["predict", "-i", "{empty}"], "empty"),
        (["predict", "-i", "{binary}"], "binary"),
        (["predict", "-i", "{csv}", "--column", "nope"], "not in the header"),
        (["predict", "-i", "{csv}", "--column", "7"], "columns"),
        (["predict", "-i", "{csv}"], "commas"),
        (["predict", "--column", "x", "33"], "--column needs"),
        (["predict", "-f", "xml", "33"], "Invalid value"),
        (["verify", "--range", "10", "5"], "above HI"),
        (["verify", "--range", "-500", "5"], "below absolute zero"),
        (["verify", "--samples", "0"], "Invalid value"),
    ],
)
def test_bad_arguments_and_files(tmp_path: Path, args: list[str], word: str) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "t.csv").write_text("city,temp\nOslo,20\n")
    names = {
        "{tmp}": tmp_path,
        "{empty}": tmp_path / "empty.txt",
        "{binary}": tmp_path / "binary.bin",
        "{csv}": tmp_path / "t.csv",
    }
    args = [str(names.get(a, a)) for a in args]
    result = CliRunner().invoke(edge, args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert word in result.output and "Traceback" not in result.output


def test_missing_csv_cell_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("city,temp\nOslo,20\nRome\n")
    result = CliRunner().invoke(edge, ["predict", "-i", str(path), "--column", "temp"])
    assert result.exit_code == EXIT_USAGE and "line 3" in result.stderr
    assert "no column 'temp'" in result.stderr


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(max_size=12).filter(lambda s: "\n" not in s and "\r" not in s),
        min_size=1,
        max_size=6,
    )
)
def test_any_text_gives_labels_or_a_clean_error(lines: list[str]) -> None:
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    result = CliRunner().invoke(edge, ["predict", "-"], input=data)
    assert "Traceback" not in result.output
    if data.lstrip().startswith(b"{"):  # read as JSON Lines (the first record), which needs -c
        assert result.exit_code == EXIT_USAGE and "needs --column" in result.stderr
        return
    expected: list[int] = []
    for line in lines:
        try:
            value = float(line)
        except ValueError:
            value = math.nan
        ok = (
            line.strip(" \t") == line.strip()
            and line.strip() != ""
            and all(c in "0123456789+-.eE \t" for c in line)
            and math.isfinite(value)
            and abs(value) <= float(np.finfo(np.float32).max)
            and np.float32(value) >= np.float32(-459.67)
        )
        if not ok:
            break
        expected.append(int(np.float32(value) > 32))
    if len(expected) == len(lines):
        assert result.exit_code == 0, result.output
        assert [int(v) for v in result.stdout.split()] == expected
    else:
        assert result.exit_code == EXIT_USAGE
        assert f"line {len(expected) + 1}:" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-459.67, max_value=3e38),
        min_size=1,
        max_size=20,
    )
)
def test_any_valid_float_text_round_trips(values: list[float]) -> None:
    data = "".join(f"{v!r}\n" for v in values)
    result = CliRunner().invoke(edge, ["predict", "-"], input=data)
    assert result.exit_code == 0, result.output
    expected = [int(np.float32(v) > np.float32(32)) for v in values]
    assert [int(v) for v in result.stdout.split()] == expected


# --- broken model files -------------------------------------------------------------------------


def _model(
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    nodes: list[onnx.NodeProto],
    opset: int = 17,
    ir_version: int = 8,
) -> bytes:
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version
    return model.SerializeToString()


def _vi(name: str, elem: int, shape: list[object]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def broken_models(good: bytes) -> dict[str, tuple[bytes | None, str]]:
    """name -> (file bytes, or None for 'directory'; a word the message must contain)."""
    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    identity = [
        helper.make_node("Identity", ["fahrenheit"], ["probability"]),
        helper.make_node("Cast", ["fahrenheit"], ["label"], to=i64),
    ]
    return {
        "empty": (b"", "empty"),
        "random bytes": (
            bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
            "not a valid ONNX model",
        ),
        "text": (b"this is not a model\n", "not a valid ONNX model"),
        "truncated": (good[: len(good) // 2], "not a valid ONNX model"),
        "wrong input name": (
            _model(
                [_vi("celsius", f, ["n"])],
                [_vi("probability", f, ["n"]), _vi("label", i64, ["n"])],
                [
                    helper.make_node("Identity", ["celsius"], ["probability"]),
                    helper.make_node("Cast", ["celsius"], ["label"], to=i64),
                ],
            ),
            "not an fclf-edge model",
        ),
        "wrong input type": (
            _model(
                [_vi("fahrenheit", TensorProto.DOUBLE, ["n"])],
                [_vi("probability", TensorProto.DOUBLE, ["n"]), _vi("label", i64, ["n"])],
                [
                    helper.make_node("Identity", ["fahrenheit"], ["probability"]),
                    helper.make_node("Cast", ["fahrenheit"], ["label"], to=i64),
                ],
            ),
            "not an fclf-edge model",
        ),
        "missing label output": (
            _model(
                [_vi("fahrenheit", f, ["n"])],
                [_vi("probability", f, ["n"])],
                [helper.make_node("Identity", ["fahrenheit"], ["probability"])],
            ),
            "not an fclf-edge model",
        ),
        "label as float": (
            _model(
                [_vi("fahrenheit", f, ["n"])],
                [_vi("probability", f, ["n"]), _vi("label", f, ["n"])],
                [
                    helper.make_node("Identity", ["fahrenheit"], ["probability"]),
                    helper.make_node("Identity", ["fahrenheit"], ["label"]),
                ],
            ),
            "not an fclf-edge model",
        ),
        "2-D input": (
            _model(
                [_vi("fahrenheit", f, ["n", 1])],
                [_vi("probability", f, ["n", 1]), _vi("label", i64, ["n", 1])],
                identity,
            ),
            "expected [batch]",
        ),
        "future opset": (
            _model(
                [_vi("fahrenheit", f, ["n"])],
                [_vi("probability", f, ["n"]), _vi("label", i64, ["n"])],
                identity,
                opset=99,
            ),
            "newer onnxruntime",
        ),
        "future IR version": (
            _model(
                [_vi("fahrenheit", f, ["n"])],
                [_vi("probability", f, ["n"]), _vi("label", i64, ["n"])],
                identity,
                ir_version=99,
            ),
            "newer onnxruntime",
        ),
        "unknown op": (
            _model(
                [_vi("fahrenheit", f, ["n"])],
                [_vi("probability", f, ["n"]), _vi("label", i64, ["n"])],
                [
                    helper.make_node("NoSuchOp", ["fahrenheit"], ["probability"]),
                    helper.make_node("Cast", ["fahrenheit"], ["label"], to=i64),
                ],
            ),
            "not a valid ONNX model",
        ),
        "directory": (None, "directory"),
    }


def test_broken_model_corpus(tmp_path: Path) -> None:
    from fclf_edge.runtime import DEFAULT_MODEL_PATH

    corpus = broken_models(DEFAULT_MODEL_PATH.read_bytes())
    assert len(corpus) >= 8
    for name, (data, word) in corpus.items():
        path = tmp_path / name.replace(" ", "_")
        if data is None:
            path.mkdir()
        else:
            path.write_bytes(data)
        for args in (["predict", "--model", str(path), "33"], ["info", "--model", str(path)]):
            result = CliRunner().invoke(edge, args)
            assert result.exit_code == EXIT_MODEL, (name, result.output)
            message = result.stderr.strip()
            assert len(message.splitlines()) == 1, (name, message)
            assert word in message, (name, message)
            assert "Traceback" not in result.output


def test_missing_model_path() -> None:
    result = CliRunner().invoke(edge, ["predict", "--model", "/no/such/model.onnx", "33"])
    assert result.exit_code == EXIT_MODEL and "not found" in result.stderr
