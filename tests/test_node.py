"""The Node package (runtime/js): its own tests, and label-for-label agreement with Python.

Needs Node and `ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix runtime/js` (the README's test
command runs it). Without them these tests fail rather than skip: CI installs both.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fclf_edge.runtime import Classifier
from fclf_edge.runtime.floats import DOMAIN_HIGH, DOMAIN_LOW, from_ordinal, to_ordinal

from .conftest import cli_env

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "runtime" / "js"
NODE_CLI = PACKAGE / "bin" / "fclf-edge.mjs"
PYTHON_CLI = Path(sys.executable).parent / "fclf-edge"
INSTALL = "ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix runtime/js"


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable, with the package's dependencies installed (or a failing test)."""
    found = shutil.which("node")
    assert found, "node is not installed; the Node package needs Node.js >= 20"
    assert (PACKAGE / "node_modules" / "onnxruntime-node").is_dir(), f"run `{INSTALL}` first"
    return found


def run_node(node: str, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(NODE_CLI), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
        **kwargs,  # type: ignore[arg-type]
    )


def run_python(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PYTHON_CLI), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
        **kwargs,  # type: ignore[arg-type]
    )


def test_node_test_runner_passes(node: str) -> None:
    """runtime/js/test/*.test.mjs under Node's own runner: every test passes, none skipped."""
    files = sorted(str(p) for p in (PACKAGE / "test").glob("*.test.mjs"))
    assert len(files) >= 3
    result = subprocess.run(
        [node, "--test", *files],
        capture_output=True,
        text=True,
        cwd=PACKAGE,
        env={**cli_env(), "FCLF_PYTHON": sys.executable},
        timeout=900,
    )
    summary = dict(re.findall(r"^# (pass|fail|skipped|todo|cancelled) (\d+)$", result.stdout, re.M))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert int(summary["pass"]) >= 30, summary
    assert summary["fail"] == summary["skipped"] == summary["cancelled"] == "0", summary


def agreement_values() -> np.ndarray:
    """1,000,000 random float32 values in the domain (half by value, half by bit pattern), the
    ±2^20 float32 neighbours of the boundary, and the domain's ends."""
    rng = np.random.default_rng(20261127)
    low, high = float(DOMAIN_LOW), float(DOMAIN_HIGH)
    by_value = rng.uniform(low, high, 500_000).astype(np.float32)
    lo, hi = (int(v) for v in to_ordinal([low, high]))
    by_bits = from_ordinal(rng.integers(lo, hi, 500_000, endpoint=True))
    center = int(to_ordinal([32.0])[0])
    neighbours = from_ordinal(np.arange(center - 2**20, center + 2**20 + 1))
    ends = np.array([DOMAIN_LOW, DOMAIN_HIGH, 32.0, -0.0, 0.0], dtype=np.float32)
    return np.concatenate([by_value, by_bits, neighbours, ends]).astype(np.float32)


def test_node_labels_equal_python_on_three_million_values(node: str, tmp_path: Path) -> None:
    values = agreement_values()
    # repr of each float32 as a float64: Node reads back the same double, so the same float32.
    path = tmp_path / "values.txt"
    path.write_text("\n".join(map(repr, values.astype(np.float64).tolist())) + "\n")
    result = run_node(node, ["predict", "--input", str(path)])
    assert result.returncode == 0, result.stderr
    node_labels = np.frombuffer(result.stdout.encode()[0::2], dtype=np.uint8) - ord("0")
    python_labels = Classifier().predict(values)
    assert len(node_labels) == len(values) > 3_000_000
    assert np.array_equal(node_labels, python_labels)
    assert np.array_equal(python_labels, ((values.astype(np.float64) - 32) / 1.8 > 0))


def test_node_and_python_print_the_same_probabilities(node: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [rng.uniform(-459.67, 10_000, 20_000), rng.uniform(20, 45, 20_000)]
    ).astype(np.float32)
    path = tmp_path / "values.txt"
    path.write_text("\n".join(map(repr, values.astype(np.float64).tolist())) + "\n")
    args = ["predict", "--proba", "--input", str(path)]
    node_out, python_out = run_node(node, args), run_python(args)
    assert node_out.returncode == python_out.returncode == 0
    assert node_out.stdout == python_out.stdout


# Arguments whose output and exit code the two CLIs must share. Usage errors are compared on
# their last stderr line: click adds a usage preamble, the Node CLI prints the one line only.
SAME_OUTPUT = [
    ["predict", "33", "32", "-40"],
    ["predict", "--proba", "33", "32", "-40", "-459.67", "10000", "1e-30", "32.000004"],
    ["predict", "--", "-40", "1e4", " 33 ", "+.5e1"],
    ["predict", "33", "nan"],
    ["predict", "inf"],
    ["predict", "1e39"],
    ["predict", "1e400"],
    ["predict", "-459.68"],
    ["predict", "abc"],
    ["predict", ""],
    ["predict", "33", "0x10"],
    ["predict"],
    ["predict", "--on-invalid", "skip", "--proba", "33", "x", "32", "-500"],
    ["predict", "--model", "/nonexistent.onnx", "33"],
    ["predict", "--input", "/nonexistent.txt"],
    ["info"],
    ["info", "--json"],
    ["verify", "--range", "30", "34"],
    ["verify", "--exhaustive", "--range", "31", "33"],
    ["verify", "--exhaustive", "--range", "30", "34", "--rule-threshold", "33"],
    ["verify", "--exhaustive", "--range", "-459.67", "-459"],
    ["verify", "--range", "5", "1"],
    ["verify", "--range", "-500", "1"],
    ["verify", "--range", "nan", "1"],
    ["verify", "--samples", "0"],
    # float32's edges: its largest value as printers write it, then just beyond
    ["predict", "3.40282347e+38", "3.4028235e38", "32.000001", "1e-45", "-0"],
    ["predict", "3.4028236e38"],
    ["predict", "--", "-3.4028235e38"],
    # numeric options: NaN, infinities and values outside their domain (tests/test_options.py
    # has the whole table)
    ["verify", "--samples", "1000", "--rule-threshold", "nan"],
    ["verify", "--rule-threshold", "-inf"],
    ["verify", "--rule-threshold", "1e39"],
    ["verify", "--seed", "-1"],
    ["verify", "--samples", "1e3"],
    ["verify", "--range", "30", "inf"],
]


def _comparable(stdout: str) -> str:
    # The time line differs run to run; sampled verify draws different random values.
    return "\n".join(line for line in stdout.splitlines() if not line.startswith("time "))


@pytest.mark.parametrize("args", SAME_OUTPUT, ids=" ".join)
def test_node_cli_prints_what_python_prints(node: str, args: list[str]) -> None:
    node_out, python_out = run_node(node, args), run_python(args)
    assert node_out.returncode == python_out.returncode, (node_out.stderr, python_out.stderr)
    assert _comparable(node_out.stdout) == _comparable(python_out.stdout)
    node_err, python_err = node_out.stderr.splitlines(), python_out.stderr.splitlines()
    if python_out.returncode == 2 and python_err and python_err[0].startswith("Usage:"):
        python_err = python_err[-1:]
    assert node_err == python_err
    assert "at " not in node_out.stderr and "node:" not in node_out.stderr  # no stack trace


@pytest.mark.parametrize(
    "stdin",
    [
        b"33\n32\n-40\n",
        b"33\r\n 32 \r\n\t-40\t\n",
        b"33\n32",
        b"33\n\n32\n",
        b"33\nabc\n",
        b"",
        "33\n\u0663\n".encode(),
        b"1e5\n-1e-5\n.5\n5.\n32,5\n",
        b"\xef\xbb\xbf33\n32\n",  # a UTF-8 byte-order mark
        b"33\n\xff\xfe\n32\n",  # not UTF-8
        b"33\n" + b"7" * 70_000 + b"\n32\n",  # a line over the 64 KiB record limit
        b"33\n" + b"7" * 300_000,  # and one with no end
        b"33\n32\n\x00\n",  # binary
    ],
    ids=lambda b: repr(b[:24]),
)
def test_node_reads_stdin_as_python_does(node: str, stdin: bytes) -> None:
    for extra in ([], ["--on-invalid", "skip"], ["--proba"], ["--decimal-comma"]):
        node_out = subprocess.run(
            [node, str(NODE_CLI), "predict", "-", *extra], input=stdin, capture_output=True
        )
        python_out = subprocess.run(
            [str(PYTHON_CLI), "predict", "-", *extra], input=stdin, capture_output=True
        )
        assert node_out.returncode == python_out.returncode, extra
        assert node_out.stdout == python_out.stdout, extra
        if b"\x00" in stdin:  # the Python reader also names the compressions it reads
            assert node_out.stderr.startswith(python_out.stderr.split(b";")[0])
        else:
            assert node_out.stderr == python_out.stderr, extra


def test_ort_model_runs_in_node_and_python_with_identical_output(
    node: str, ort_model: Path
) -> None:
    for args in (
        ["predict", "--proba", "--model", str(ort_model), "33", "32", "-40", "32.000004"],
        ["info", "--model", str(ort_model)],
        ["verify", "--exhaustive", "--range", "31", "33", "--model", str(ort_model)],
    ):
        node_out, python_out = run_node(node, args), run_python(args)
        assert node_out.returncode == python_out.returncode == 0, node_out.stderr
        assert _comparable(node_out.stdout) == _comparable(python_out.stdout)
    labels = run_node(node, ["predict", "--model", str(ort_model), "33", "32", "-40"])
    assert labels.stdout == "1\n0\n0\n"


def test_packed_package_carries_the_model_and_the_repository_keeps_one_copy(
    node: str, tmp_path: Path
) -> None:
    npm = shutil.which("npm")
    assert npm, "npm is not installed"
    result = subprocess.run(
        [npm, "pack", "--dry-run", "--json"], capture_output=True, text=True, cwd=PACKAGE
    )
    assert result.returncode == 0, result.stderr
    packed = {entry["path"] for entry in json.loads(result.stdout)[0]["files"]}
    assert {"index.js", "index.d.ts", "bin/fclf-edge.mjs", "models/fahrenheit.onnx"} <= packed
    assert "messages.json" in packed  # the catalogue shared with the Python runtime
    assert not any(p.startswith("test/") for p in packed)
    assert not (PACKAGE / "models").exists()  # postpack removed the copies
    assert not (PACKAGE / "messages.json").exists()
    models = sorted(p.relative_to(ROOT) for p in ROOT.glob("runtime/**/fahrenheit.onnx"))
    assert [str(p) for p in models if "node_modules" not in str(p)] == [
        "runtime/models/fahrenheit.onnx"
    ]


def test_readme_node_example_runs(node: str) -> None:
    """The Node example in docs/node-and-browser.md, less its install line, prints what its
    comments say."""
    page = (ROOT / "docs" / "node-and-browser.md").read_text()
    section = page.split("\n## Node: the `fclf-edge` npm package", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    script = "\n".join(line for line in block.splitlines() if not line.startswith(INSTALL))
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[ 1, 0, 0 ]"
    assert lines[1].startswith("{ labels: [ 1 ], probabilities: [ 0.598")
    assert lines[2].startswith("32 0.3998")
    assert lines[3].startswith("1 value nan at index 1")


# Measured from a fresh, small interpreter: a child forked from this test process would count
# this process's pages (torch and all) in its own peak RSS.
_PEAK_RSS = (
    "import os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(p.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024)\n"
)


def _peak_rss_mib(args: list[str]) -> int:
    result = subprocess.run(
        [sys.executable, "-S", "-c", _PEAK_RSS, *args], capture_output=True, text=True
    )
    code, mib = (int(x) for x in result.stdout.split())
    assert code == 0, result.stderr
    return mib


def test_node_predict_streams_files_in_flat_memory(node: str, tmp_path: Path) -> None:
    """Ten times the lines, the same peak RSS: the reader holds one read and one line."""
    block = ("\n".join(f"{v:.3f}" for v in np.linspace(-459, 10_000, 100_000)) + "\n").encode()
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small.write_bytes(block * 5)  # 500,000 lines, 4.4 MB
    large.write_bytes(block * 50)  # 5,000,000 lines, 44 MB
    rss_small = _peak_rss_mib([node, str(NODE_CLI), "predict", "--input", str(small)])
    rss_large = _peak_rss_mib([node, str(NODE_CLI), "predict", "--input", str(large)])
    assert rss_large <= rss_small + 32, (rss_small, rss_large)
    assert rss_large < 200, rss_large


def test_verify_workers_exit_cleanly_run_after_run(node: str, ort_model: Path) -> None:
    # Terminating a worker while onnxruntime-node released its session aborted the process
    # ("terminate called after throwing an instance of 'Napi::Error'") in ~5 % of short walks;
    # the workers now exit by themselves. 30 walks catch that rate with ~80 % probability.
    for model in [ort_model, ROOT / "runtime" / "models" / "fahrenheit.onnx"] * 15:
        args = ["verify", "--exhaustive", "--range", "31", "33", "--model", str(model)]
        proc = run_node(node, args)
        assert proc.returncode == 0, proc.stderr
        assert "mismatches 0 " in proc.stdout
