"""Bounded memory for any input: a 200 MB line is refused fast, with peak RSS far below it."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import cli_env

MIB = 1 << 20
LIMIT_MIB = 200  # the README's promise for any input

# Runs fclf-edge as the only child of a fresh interpreter, so RUSAGE_CHILDREN's peak is its own
# (the test process has had other, larger children).
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True)
print(json.dumps({
    "code": proc.returncode,
    "stdout": proc.stdout[-2000:].decode("utf-8", "replace"),
    "stderr": proc.stderr[-2000:].decode("utf-8", "replace"),
    "seconds": time.perf_counter() - start,
    "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def measure(*args: str) -> dict[str, object]:
    command = [sys.executable, "-m", "fclf_edge.runtime", *args]
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="module")
def one_line_200mb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("long") / "one_line.txt"
    block = b"1" * (4 * MIB)
    with path.open("wb") as f:
        for _ in range(50):
            f.write(block)
    return path


def test_200mb_line_is_refused_fast_in_flat_memory(one_line_200mb: Path) -> None:
    result = measure("predict", "--input", str(one_line_200mb))
    assert result["code"] == 2
    assert result["stderr"] == (
        "Error: line 1: longer than 65,536 bytes (the limit for one record) "
        "(use --on-invalid skip to skip bad lines)\n"
    )
    assert result["stdout"] == ""
    assert result["peak_mib"] < LIMIT_MIB, result  # type: ignore[operator]
    assert result["seconds"] < 10, result  # type: ignore[operator]


def test_200mb_line_skipped_streams_past_in_flat_memory(
    one_line_200mb: Path, tmp_path: Path
) -> None:
    # Skipping reads all 200 MB (plus a last short line) without ever holding the long line.
    path = tmp_path / "long_then_short.txt.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b"33\n")
        with one_line_200mb.open("rb") as src:
            while block := src.read(8 * MIB):
                f.write(block)
        f.write(b"\n32\n")
    started = time.perf_counter()
    result = measure("predict", "--input", str(path), "--on-invalid", "skip", "--format", "csv")
    assert result["code"] == 0, result
    assert result["stdout"] == "line,fahrenheit,label\n1,33.0,1\n2,,skipped\n3,32.0,0\n"
    assert "skipped line 2: longer than 65,536 bytes" in str(result["stderr"])
    assert result["peak_mib"] < LIMIT_MIB, result  # type: ignore[operator]
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b"Rome,32\n", "a field runs on past 131,072 bytes (a quote left open?)"),
        # Each line closes the quote and opens another: small fields, an endless record.
        (b'",32,"\n', "a record runs on past 65,536 bytes (a quote left open?)"),
    ],
)
def test_unclosed_csv_quote_is_refused_in_flat_memory(
    tmp_path: Path, line: bytes, words: str
) -> None:
    path = tmp_path / "open_quote.csv"
    with path.open("wb") as f:
        f.write(b'city,temp_f\n"Oslo,33\n')
        f.write(line * (64 * MIB // len(line)))  # 64 MiB of lines inside the open quote
    result = measure("predict", "--input", str(path), "--column", "temp_f")
    assert result["code"] == 2
    assert f"Error: line 2: {words}\n" == result["stderr"]
    assert result["peak_mib"] < LIMIT_MIB, result  # type: ignore[operator]
