"""The benchmark script runs end to end (tiny sizes), so it cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import cli_env

ROOT = Path(__file__).resolve().parents[1]


def test_bench_smoke(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--smoke",
            "--out-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (tmp_path / "benchmarks.md").read_text()
    for heading in (
        "## 1. Training",
        "## 2. Cold start",
        "## 3. In-process latency",
        "## 4. Batch throughput",
        "## 5. Exhaustive verify",
        "## 6. File scoring",
    ):
        assert heading in report
    assert "Smoke run" in report
    data = json.loads((tmp_path / "benchmarks.json").read_text())
    assert data["smoke"] is True
    assert data["training"]["fclf-edge train-model"]["boundary"] == 32.0
    assert data["verify"]["mismatches"] == "0"
