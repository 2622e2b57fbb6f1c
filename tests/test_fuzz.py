"""Fuzzers with a fixed budget: any input bytes and any mutated model give labels or one clean
error, never a traceback or exit 1 (#16, item 2).

In-process, every example must end in a result or an `FclfError` (the CLI turns those into one
line and a documented exit code); a sample of the same examples runs through the whole CLI.
The budgets are fixed (derandomized, a set number of examples) so CI time is bounded and a
failure reproduces.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fclf_edge.runtime import DEFAULT_MODEL_PATH, Classifier, FclfError, predict_stream
from fclf_edge.runtime.errors import EXIT_MODEL, EXIT_USAGE

BUDGET = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Pieces real files are made of, and the bytes that break readers.
PIECES = [
    "33", "-40.5", "1e3", "3.40282347e+38", "-459.67", "-459.68", "nan", "inf", "1,234", "32,5",
    "9" * 400, "0x20", "1_000", "", " ", "\t", ",", ";", "|", '"', '""', "\r", "\n", "\r\n",
    "{", "}", "[", "]", ":", '"t"', '{"t": 33}', '{"t": "31"}', '{"t": null}', "sep=;",
    '{"t": ' + "9" * 5000 + "}", "t,x", "temp", "\ufeff", "\x00", "\xb0", "é", "\ud800",
    "🌡", "\\", "'", "#", "-", "+", ".",
]  # fmt: skip
OPTIONS = [
    {},
    {"column": "t"},
    {"column": "0"},
    {"column": "t", "input_format": "csv"},
    {"column": "t", "input_format": "jsonl"},
    {"input_format": "lines"},
    {"column": "t", "delimiter": ";", "decimal_comma": True},
    {"column": "t", "encoding": "cp1252"},
    {"column": "t", "encoding": "utf-16-le"},
    {"encoding": "utf-16"},
    {"encoding": "utf-32"},
    {"encoding": "punycode"},
    {"encoding": "idna"},
    {"column": "t", "encoding": "shift_jis"},
    {"column": "t", "append": True},
    {"append": True, "proba": True},
    {"column": "t", "on_invalid": "skip", "append": True},
    {"on_invalid": "skip", "fmt": "json", "proba": True},
]


def _text(pieces: list[str]) -> bytes:
    return "".join(pieces).encode("utf-8", "surrogatepass")


@st.composite
def inputs(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    if draw(st.booleans()):
        data = _text(draw(st.lists(st.sampled_from(PIECES), max_size=60)))
    else:
        data = draw(st.binary(max_size=400))
    squeeze = draw(st.sampled_from([None, "gzip", "bz2", "xz", "truncated gzip"]))
    if squeeze == "gzip":
        data = gzip.compress(data)
    elif squeeze == "bz2":
        data = bz2.compress(data)
    elif squeeze == "xz":
        data = lzma.compress(data)
    elif squeeze == "truncated gzip":
        data = gzip.compress(data)[: draw(st.integers(0, 30))]
    return data, dict(draw(st.sampled_from(OPTIONS)))


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier()


def _score(classifier: Classifier, data: bytes, options: dict[str, Any]) -> bytes | str:
    """The output, or the error's one line."""
    out = io.BytesIO()
    try:
        predict_stream(classifier, io.BytesIO(data), out, **options)
    except FclfError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), message
        return message
    return out.getvalue()


@BUDGET
@given(case=inputs())
def test_reader_gives_labels_or_one_clean_error(
    classifier: Classifier, case: tuple[bytes, dict[str, Any]]
) -> None:
    data, options = case
    result = _score(classifier, data, options)
    if isinstance(result, bytes) and not options.get("append") and options.get("fmt") is None:
        for line in result.decode().splitlines():
            assert line.split("\t")[0] in ("0", "1", "skipped"), line


def test_reader_fuzz_sample_through_the_cli(tmp_path: Path) -> None:
    """A few of the fuzzer's shapes as whole processes: exit 0 or 2, at most one stderr line."""
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(12):
        pieces = [PIECES[i] for i in rng.integers(0, len(PIECES), 30)]
        cases.append(_text(pieces))
    cases += [bytes(rng.integers(0, 256, 300, dtype=np.uint8)), gzip.compress(b"33\n")[:12]]
    for i, data in enumerate(cases):
        for args in ([], ["--column", "t"], ["--column", "t", "--append"]):
            result = subprocess.run(
                [sys.executable, "-m", "fclf_edge.runtime", "predict", "-", *args],
                input=data,
                capture_output=True,
                timeout=60,
            )
            err = result.stderr.decode()
            assert result.returncode in (0, EXIT_USAGE), (i, args, err)
            assert "Traceback" not in err, (i, args, err)
            if result.returncode:
                assert len(err.strip().splitlines()) == 1, (i, args, err)


# Model files --------------------------------------------------------------------------------

onnx = pytest.importorskip("onnx")  # the train extra: installed by the test command
TensorProto = onnx.TensorProto
BUNDLED = DEFAULT_MODEL_PATH.read_bytes()
ELEM_TYPES = [v for k, v in TensorProto.DataType.items() if k != "UNDEFINED"]


def _mutate(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "input", "output", "shape", "metadata",
                                 "node", "opset"]))  # fmt: skip
    if kind == "truncate":
        return BUNDLED[: draw(st.integers(0, len(BUNDLED) - 1))]
    if kind == "flip":
        data = bytearray(BUNDLED)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    model = onnx.load_from_string(BUNDLED)
    graph = model.graph
    if kind == "input":
        graph.input[0].type.tensor_type.elem_type = draw(st.sampled_from(ELEM_TYPES))
    elif kind == "output":
        out = graph.output[draw(st.integers(0, len(graph.output) - 1))]
        out.type.tensor_type.elem_type = draw(st.sampled_from(ELEM_TYPES))
    elif kind == "shape":
        value = draw(st.sampled_from([*graph.input, *graph.output]))
        shape = value.type.tensor_type.shape
        del shape.dim[:]
        for size in draw(st.lists(st.one_of(st.integers(-1, 5), st.just("n")), max_size=3)):
            dim = shape.dim.add()
            if size == "n":
                dim.dim_param = "n"
            else:
                dim.dim_value = size
    elif kind == "metadata":
        key = draw(st.sampled_from(["boundary_fahrenheit", "opset", "training_config", "x"]))
        value = draw(
            st.one_of(
                st.text(max_size=40),
                st.sampled_from(
                    ["nan", "inf", "-1e400", "{", "{0: 'cold'}", '{"a": 1}', "[1, 2]", "1e309"]
                ),
            )
        )
        kept = [p for p in model.metadata_props if p.key != key]
        del model.metadata_props[:]
        model.metadata_props.extend(kept)
        model.metadata_props.add(key=key, value=value)
    elif kind == "node":
        del graph.node[draw(st.integers(0, len(graph.node) - 1))]
    else:
        model.opset_import[0].version = draw(st.sampled_from([1, 7, 17, 30, 99]))
    return bytes(model.SerializeToString())


@st.composite
def models(draw: st.DrawFn) -> bytes:
    return _mutate(draw)


def _use(path: Path) -> None:
    """What the commands do with a model; only FclfError may come out."""
    from fclf_edge.runtime.info import describe

    try:
        clf = Classifier(path)
        clf.predict([33.0, 32.0, -40.0])
        clf.predict(33.0)
        clf.predict_with_proba(np.linspace(-459.67, 1000, 7, dtype=np.float32))
        describe(clf)
        describe(clf, as_json=True)
        _ = clf.boundary
    except FclfError as exc:
        assert str(exc) and "\n" not in str(exc).strip()


@settings(BUDGET, max_examples=200)
@given(data=models())
def test_mutated_models_load_and_run_or_fail_cleanly(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "m.onnx"
    path.write_bytes(data)
    _use(path)


def test_mutated_models_through_the_cli(tmp_path: Path) -> None:
    """A sample of mutations as whole processes: exit 0 or 3, one line, nothing from onnxruntime."""
    rng = np.random.default_rng(11)
    cases = [BUNDLED[: int(n)] for n in rng.integers(1, len(BUNDLED), 4)]
    for _ in range(4):
        data = bytearray(BUNDLED)
        data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        cases.append(bytes(data))
    for i, data in enumerate(cases):
        path = tmp_path / f"m{i}.onnx"
        path.write_bytes(data)
        for args in (["predict", "33"], ["info"], ["verify", "--samples", "1000"]):
            result = subprocess.run(
                [sys.executable, "-m", "fclf_edge.runtime", *args, "--model", str(path)],
                capture_output=True,
                timeout=120,
            )
            err = result.stderr.decode()
            assert result.returncode in (0, EXIT_MODEL) or (
                args[0] == "verify" and result.returncode == 1
            ), (i, args, result.returncode, err)
            assert "Traceback" not in err and "\x1b[" not in err, (i, args, err)


# Option values -------------------------------------------------------------------------------

NASTY = ["", " ", "nan", "-nan", "inf", "-inf", "1e400", "-1", "0", "1", "2", "-459.68", "32",
         "10001", "abc", "\udcff", "é", "1e-400", "99999999999999999999", "0x10", "1_0",
         ";", ",", "tab", "ab", '"', "/", "/nonexistent/x", "-", "--", "utf-16",
         "klingon"]  # fmt: skip
COMMAND_OPTIONS = {
    "predict": ["--column", "--input-format", "--delimiter", "--encoding", "--format",
                "--on-invalid", "--output", "--model", "--input"],
    "verify": ["--samples", "--range", "--seed", "--rule-threshold", "--model"],
    "info": ["--model"],
}  # fmt: skip


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(COMMAND_OPTIONS)))
    args = [command]
    for option in draw(
        st.lists(st.sampled_from(COMMAND_OPTIONS[command]), max_size=3, unique=True)
    ):
        args.append(option)
        args.append(draw(st.sampled_from(NASTY)))
        if option == "--range":
            args.append(draw(st.sampled_from(NASTY)))
    if command == "predict":
        args += draw(st.lists(st.sampled_from(NASTY), max_size=2)) or ["33"]
    elif command == "verify" and "--samples" not in args:
        args += ["--samples", "1000"]
    return args


@settings(BUDGET, max_examples=150)
@given(args=command_lines())
def test_no_option_value_makes_a_traceback(args: list[str]) -> None:
    from click.testing import CliRunner

    from fclf_edge.runtime.cli import main

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # --output writes where it is told: keep that in a temporary folder
        try:
            result = CliRunner().invoke(main, args, input=b"33\n")
        finally:
            os.chdir(here)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result)
    allowed = {0, EXIT_USAGE, EXIT_MODEL, 6}
    if args[0] == "verify" and "--rule-threshold" in args:
        threshold = args[args.index("--rule-threshold") + 1]
        try:
            real = math.isfinite(float(threshold))
        except ValueError:
            real = False
        if real:  # a finite rule other than the formula's: a mismatch is the right answer
            allowed.add(1)
    assert result.exit_code in allowed, (args, result.output)
    if result.exit_code:
        # One line says what is wrong (click prefixes a usage error with the usage text).
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, (args, result.stderr)


TRAIN_OPTIONS = ["--device", "--data", "--samples", "--low", "--high", "--objective", "--l2",
                 "--max-steps", "--seed", "--rule-threshold", "--holdout", "--encoding",
                 "--delimiter", "--input-column"]  # fmt: skip


@st.composite
def train_lines(draw: st.DrawFn) -> list[str]:
    args: list[str] = []
    for option in draw(
        st.lists(st.sampled_from(TRAIN_OPTIONS), min_size=1, max_size=2, unique=True)
    ):
        args += [option, draw(st.sampled_from(NASTY))]
    return args


@settings(BUDGET, max_examples=60)
@given(args=train_lines())
def test_no_train_model_option_value_makes_a_traceback(
    tmp_path_factory: Any, args: list[str]
) -> None:
    from click.testing import CliRunner

    from fclf_edge.train.cli import main

    out = tmp_path_factory.mktemp("train") / "m.pt"
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--quiet"])
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result)
    assert result.exit_code in (0, EXIT_USAGE, 4, 6), (args, result.output)
    if result.exit_code:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, (args, result.stderr)
        assert not out.exists()
