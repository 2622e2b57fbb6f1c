"""Training you can watch: plots, progress bars on a terminal only, quiet in pipes."""

from __future__ import annotations

import os
import pty
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fclf_edge.runtime.errors import EXIT_DEPENDENCY
from fclf_edge.train.cli import main as train_main
from fclf_edge.train.fit import TrainResult
from fclf_edge.train.plot import plot_training

from .conftest import cli_env

BIN = Path(sys.executable).parent


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plot_is_a_sensible_png(tmp_path: Path, trained: TrainResult) -> None:
    out = tmp_path / "plot.png"
    plot_training(trained, out)
    data = out.read_bytes()
    width, height = png_size(data)
    assert 800 <= width <= 2000 and 300 <= height <= 1200
    assert 20_000 < len(data) < 2_000_000
    assert data.endswith(b"IEND\xaeB`\x82")


def test_plot_option_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "t.png"
    result = CliRunner().invoke(
        train_main, ["--device", "cpu", "--out", str(tmp_path / "m.pt"), "--plot", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert png_size(out.read_bytes())[0] > 0 and f"plot            {out}" in result.output


def test_plot_without_matplotlib_is_exit_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now fails as if not installed
    result = CliRunner().invoke(
        train_main, ["--out", str(tmp_path / "m.pt"), "--plot", str(tmp_path / "p.png")]
    )
    assert result.exit_code == EXIT_DEPENDENCY
    assert "pip install 'fclf-edge[plot]'" in result.output
    assert not (tmp_path / "m.pt").exists()  # failed before training, nothing written


def test_no_progress_in_pipes(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(BIN / "train-model"), "--device", "cpu", "--out", "m.pt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert "device          cpu" in proc.stdout
    quiet = subprocess.run(
        [str(BIN / "train-model"), "--device", "cpu", "--out", "m.pt", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def run_with_tty_stderr(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (as a person at a terminal) and stdout on a pipe."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=follower, env=cli_env(), text=True
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    return proc.returncode, out, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("command", "label"),
    [
        (["train-model", "--device", "cpu", "--out", "m.pt"], "training"),
        (["fclf-edge", "verify", "--samples", "3000000"], "verifying"),
    ],
)
def test_progress_on_a_terminal(tmp_path: Path, command: list[str], label: str) -> None:
    code, out, terminal = run_with_tty_stderr([str(BIN / command[0]), *command[1:]], tmp_path)
    assert code == 0, terminal
    assert label in terminal  # the bar went to the terminal...
    assert label not in out  # ...and never to stdout


def test_export_progress_on_a_terminal(tmp_path: Path) -> None:
    subprocess.run(
        [str(BIN / "train-model"), "--device", "cpu", "-q", "--out", "m.pt"],
        cwd=tmp_path,
        check=True,
        env=cli_env(),
        timeout=120,
    )
    code, out, terminal = run_with_tty_stderr([str(BIN / "export-onnx"), "m.pt"], tmp_path)
    assert code == 0, terminal
    assert "parity gate" in terminal and "passed" in out
