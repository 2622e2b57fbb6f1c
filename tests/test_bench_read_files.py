"""bench/read_files.py end to end on tiny files, so it cannot rot (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import cli_env

ROOT = Path(__file__).resolve().parents[1]


def test_read_files_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n<!-- section:other -->\nkept\n<!-- /section:other -->\n")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "read_files.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out.read_text()
    assert "kept" in report  # another script's section survives
    assert "<!-- section:read-throughput -->" in report and "Smoke run" in report
    for row in (
        "| plain lines | fclf-edge |",
        "| plain lines | numpy.loadtxt |",
        "| plain lines | pandas.read_csv |",
        "| CSV column | fclf-edge |",
        "| gzip CSV column | numpy.loadtxt |",
        "| gzip CSV column | pandas.read_csv |",
        "| CSV --append | fclf-edge |",
        "| JSON Lines field | pandas.read_json |",
    ):
        assert row in report, row
    for goal in ("- plain lines: ≥ 4 M rows/s", "- CSV --append: ≥ 1 M rows/s", "Cold start"):
        assert goal in report, goal
