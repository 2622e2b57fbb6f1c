"""A short load test of `fclf-edge serve` with wrk: 64 connections, single values and batches.

wrk (Debian's `wrk` package) runs in its own process against a server on 127.0.0.1. Every
request must succeed: no socket error, no timeout, no status outside 2xx. bench/serve.py runs
the long version (30 s each) beside MLServer and PyTriton.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .test_serve import Server, assert_clean_log, infer_url, tensor

SECONDS = 3


def wrk_script(path: Path, values: list[float]) -> Path:
    body = json.dumps(tensor(values, [len(values)]))
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n"
    )
    return path


def wrk(url: str, script: Path) -> str:
    command = ["wrk", "-t1", "-c64", f"-d{SECONDS}s", "--timeout", "5s", "-s", str(script), url]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_wrk_single_values_and_batches_all_succeed(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: apt-get install -y wrk (Debian's package)")
    srv = Server()
    try:
        cases = {
            "single": [33.0],
            "batch": [float(v) for v in range(-100, 900)],  # 1,000 values
        }
        for name, values in cases.items():
            report = wrk(infer_url(srv), wrk_script(tmp_path / f"{name}.lua", values))
            requests = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
            assert requests > 100, report
            assert "Socket errors" not in report, report
            assert "Non-2xx" not in report, report
    finally:
        assert srv.stop() == 0, srv.log
    assert_clean_log(srv.log)
