"""The three commands, through click's CliRunner and as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from fclf_edge.export.cli import main as export_main
from fclf_edge.runtime.cli import main as edge
from fclf_edge.train.cli import main as train_main

from .conftest import CUDA_SKIP_REASON, cli_env


def run(args: list[str], stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(edge, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "stdout", "code"),
    [
        (["predict", "33"], "1\n", 0),
        (["predict", "32"], "0\n", 0),
        (["predict", "33", "32", "-40", "212", "32.0001"], "1\n0\n0\n1\n1\n", 0),
        (["predict", "-459.67"], "0\n", 0),
        (["predict", "--", "-40"], "0\n", 0),
        (["predict", "1e4"], "1\n", 0),
        (["predict", " 33 "], "1\n", 0),
        (["predict", "--proba", "32"], "0\t0.5\n", 0),
        (["predict", "-f", "csv", "33"], "line,fahrenheit,label\n1,33.0,1\n", 0),
        (["predict", "-f", "jsonl", "33"], '{"line": 1, "fahrenheit": 33.0, "label": 1}\n', 0),
    ],
)
def test_predict_table(args: list[str], stdout: str, code: int) -> None:
    exit_code, out, err = run(args)
    assert (exit_code, out) == (code, stdout), err


def test_json_format_is_one_array() -> None:
    code, out, _ = run(["predict", "-f", "json", "--proba", "33", "32"])
    assert code == 0
    rows = json.loads(out)
    assert [r["label"] for r in rows] == [1, 0]
    assert rows[1]["probability"] == 0.5 and 0.5 < rows[0]["probability"] < 1


def test_stdin_and_file_input(tmp_path: Path) -> None:
    values = "\n".join(str(v) for v in range(-100, 100)) + "\n"
    code, out, _ = run(["predict", "-"], stdin=values)
    assert code == 0
    expected = [1 if v > 32 else 0 for v in range(-100, 100)]
    assert [int(x) for x in out.split()] == expected
    path = tmp_path / "in.txt"
    path.write_text(values)
    code, out2, _ = run(["predict", "--input", str(path)])
    assert code == 0 and out2 == out


def test_windows_line_endings_and_no_trailing_newline() -> None:
    code, out, _ = run(["predict", "-"], stdin="33\r\n32\r\n40")
    assert (code, out) == (0, "1\n0\n1\n")


def test_csv_column_by_name_and_index(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('city,temp_f\nOslo,20\nCairo,95\n"Quoted, name",32\n')
    code, out, _ = run(["predict", "-i", str(path), "--column", "temp_f"])
    assert (code, out) == (0, "0\n1\n0\n")
    code, out, _ = run(["predict", "-i", str(path), "--column", "1", "-f", "csv"])
    assert code == 0
    assert out.splitlines() == ["line,fahrenheit,label", "2,20.0,0", "3,95.0,1", "4,32.0,0"]
    headerless = tmp_path / "h.csv"
    headerless.write_text("a,33\nb,32\n")
    code, out, _ = run(["predict", "-i", str(headerless), "--column", "1"])
    assert (code, out) == (0, "1\n0\n")


def test_skip_mode_marks_skipped_rows(tmp_path: Path) -> None:
    code, out, err = run(["predict", "-", "--on-invalid", "skip"], stdin="33\nabc\n\n-500\n32\n")
    assert code == 0
    assert out == "1\nskipped\nskipped\nskipped\n0\n"
    assert "line 2" in err and "line 3" in err and "line 4" in err
    assert "3 of 5 lines skipped" in err
    code, out, _ = run(["predict", "-", "--on-invalid", "skip", "-f", "jsonl"], stdin="33\nabc\n")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0]["label"] == 1 and rows[1]["line"] == 2 and "skipped" in rows[1]


def test_output_file_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "labels.txt"
    out.write_text("previous\n")
    code, _, err = run(["predict", "-", "-o", str(out)], stdin="33\nnot a number\n")
    assert code == 2 and "line 2" in err
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.txt"]
    code, _, _ = run(["predict", "-", "-o", str(out)], stdin="33\n32\n")
    assert code == 0 and out.read_text() == "1\n0\n"


def test_large_input_streams_in_chunks(tmp_path: Path) -> None:
    from fclf_edge.runtime.reader import open_input

    x = np.random.default_rng(0).uniform(-459.67, 1000, 50_000)
    path = tmp_path / "big.txt"
    path.write_text("\n".join(f"{v:.4f}" for v in x) + "\n")
    with path.open("rb") as f:
        chunks = list(open_input(f, input_format="lines", chunk_lines=7_000))
    assert len(chunks) > 5 and max(len(c) for c in chunks) <= 7_000  # bounded chunks
    assert sum(len(c) for c in chunks) == 50_000
    assert np.array_equal(np.concatenate([c.lines for c in chunks]), np.arange(1, 50_001))
    code, out, _ = run(["predict", "-i", str(path)])
    assert code == 0
    parsed = np.array([float(f"{v:.4f}") for v in x], dtype=np.float32)
    assert np.array_equal(np.array(out.split(), dtype=np.int64), (parsed > 32).astype(np.int64))


def test_info_text_and_json() -> None:
    code, out, _ = run(["info"])
    assert code == 0
    for needle in (
        "sha256",
        "fahrenheit: tensor(float)",
        "label: tensor(int64)",
        "opset      17",
        "boundary_fahrenheit      32.0",
        "parity_label_mismatches  0",
    ):
        assert needle in out
    code, out, _ = run(["info", "--json"])
    data = json.loads(out)
    assert data["metadata"]["boundary_fahrenheit"] == "32.0" and data["size_bytes"] > 0


def test_verify_sampled_and_narrow_exhaustive() -> None:
    code, out, _ = run(["verify", "--samples", "200000"])
    assert code == 0 and "mismatches 0" in out and "checked    200,000" in out
    code, out, _ = run(["verify", "--exhaustive", "--range", "31", "33"])
    assert code == 0 and "checked    786,433 values" in out and "probability 0 violations" in out


def test_verify_reports_mismatches_with_exit_1() -> None:
    args = ["verify", "--exhaustive", "--range", "30", "40", "--rule-threshold", "35"]
    code, out, err = run(args)
    assert code == 1
    assert "mismatch at" in out and "labels differ" in err


def test_train_and_export_commands(tmp_path: Path) -> None:
    ckpt, onnx_file = tmp_path / "m.pt", tmp_path / "m.onnx"
    result = CliRunner().invoke(train_main, ["--device", "cpu", "--out", str(ckpt)])
    assert result.exit_code == 0, result.output
    for needle in (
        "device          cpu",
        "boundary -b/w 32.0",
        "(a) [33, 32] -> [1, 0]: 100.00%",
        "(b) every integer in [-459, 10000]: 100.0000%",
        "0 wrong",
    ):
        assert needle in result.output
    result = CliRunner().invoke(export_main, [str(ckpt), "--out", str(onnx_file)])
    assert result.exit_code == 0, result.output
    assert "0 label mismatches" in result.output and onnx_file.exists()
    code, out, _ = run(["predict", "--model", str(onnx_file), "33", "32"])
    assert (code, out) == (0, "1\n0\n")


@pytest.mark.parametrize(
    ("command", "args", "code", "message"),
    [
        (train_main, ["--device", "tpu"], 2, "Invalid value"),
        (train_main, ["--samples", "1"], 2, "Invalid value"),
        (train_main, ["--rule-threshold", "5000", "--out", "{tmp}/x.pt"], 2, "only label"),
        (train_main, ["--out", "{tmp}/no/such/dir/x.pt"], 6, "cannot write"),
        (export_main, ["{tmp}/missing.pt"], 3, "checkpoint not found"),
        (export_main, ["{tmp}"], 3, "directory"),
    ],
)
def test_train_and_export_errors(
    tmp_path: Path, command: object, args: list[str], code: int, message: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(command, args)  # type: ignore[arg-type]
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(
    torch.cuda.is_available(),
    reason="CUDA is present here, so 'CUDA unavailable' cannot be shown (test_train_model_on_cuda "
    "covers this machine)",
)
def test_cuda_unavailable_exit_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(train_main, ["--device", "cuda", "--out", str(tmp_path / "x.pt")])
    assert result.exit_code == 4
    assert "CUDA is not available" in result.output
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("command", ["train-model", "export-onnx", "fclf-edge"])
def test_console_scripts_help_and_version(command: str) -> None:
    for flag in ("--help", "--version"):
        proc = subprocess.run(
            [str(Path(sys.executable).parent / command), flag],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert ("Exit codes" in proc.stdout) if flag == "--help" else ("0.1.0" in proc.stdout)


def test_python_dash_m_runtime() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fclf_edge.runtime", "predict", "33", "32"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (0, "1\n0\n")


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text("33\n" * 300_000)
    proc = subprocess.run(
        f"'{Path(sys.executable).parent / 'fclf-edge'}' predict -i '{path}' | head -n 2",
        shell=True,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert proc.stdout == "1\n1\n"
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr


def test_auto_device_says_which_device_it_used(tmp_path: Path) -> None:
    result = CliRunner().invoke(train_main, ["--out", str(tmp_path / "m.pt")])
    assert result.exit_code == 0, result.output
    if torch.cuda.is_available():
        assert "cuda" in result.output and "CUDA available" in result.output
    else:
        assert "device          cpu (chosen by --device auto: no CUDA on this machine)" in (
            result.output
        )


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason=CUDA_SKIP_REASON)
def test_train_model_on_cuda(tmp_path: Path) -> None:
    result = CliRunner().invoke(train_main, ["--device", "cuda", "--out", str(tmp_path / "g.pt")])
    assert result.exit_code == 0, result.output
    assert "device          cuda" in result.output and "boundary -b/w 32.0" in result.output
    exported = CliRunner().invoke(
        export_main, [str(tmp_path / "g.pt"), "--out", str(tmp_path / "g.onnx")]
    )
    assert exported.exit_code == 0, exported.output
