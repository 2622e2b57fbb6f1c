"""ruff and mypy are part of the suite: style and types regress like behaviour does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        proc = subprocess.run(
            [str(BIN / "ruff"), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy(tmp_path: Path) -> None:
    # mypy does not run setuptools' editable-install import hook, so give it the installed
    # layout: fclf_edge/{runtime,train,export} as links to the source folders.
    package = tmp_path / "fclf_edge"
    package.mkdir()
    for name in ("runtime", "train", "export"):
        (package / name).symlink_to(ROOT / name, target_is_directory=True)
    proc = subprocess.run(
        [
            str(BIN / "mypy"),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "-p",
            "fclf_edge.runtime",
            "-p",
            "fclf_edge.train",
            "-p",
            "fclf_edge.export",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
