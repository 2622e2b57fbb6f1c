"""Fuzz `fclf-edge serve` with schemathesis against the OpenAPI description it serves.

The description (runtime/serve/openapi.json, written from the published KServe V2 REST spec)
is fetched from the running server, which fills in its own model name and version. A fixed
budget of examples per operation, a fixed seed and a per-request timeout: no 5xx, no hang, every
response as the description says (status, content type, headers, body schema), invalid data
refused with a 4xx. `positive_data_acceptance` is left out: the schema cannot say that a shape
must match its data, so schema-valid requests are rightly refused with 400.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import cli_env
from .test_serve import Server, assert_clean_log


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    srv = Server()
    try:
        command = [
            str(Path(sys.executable).parent / "st"),
            "run",
            f"{srv.url}/v2/openapi.json",
            "--url",
            srv.url,
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "40",
            "--seed",
            "19",
            "--workers",
            "1",
            "--request-timeout",
            "5",
            "--max-response-time",
            "5",
            "--no-color",
        ]
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=240, cwd=tmp_path, env=cli_env()
        )
        report = proc.stdout + proc.stderr
        assert proc.returncode == 0, report
        assert " passed" in report and "failed" not in report.lower().replace("0 failed", "")
    finally:
        assert srv.stop() == 0, srv.log
    assert_clean_log(srv.log)
