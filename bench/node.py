"""The Node package: its exhaustive verify (time and peak RSS) and its cold start against its floor.

- `node runtime/js/bin/fclf-edge.mjs verify --exhaustive`: all 2,315,392,453 float32 values of
  [-459.67, 10000] °F through onnxruntime-node; wall time and the process's peak RSS (worker
  threads included), against the target of <= 2 minutes.
- cold start of `node runtime/js/bin/fclf-edge.mjs predict 33` against its floor, node importing
  onnxruntime-node and creating the session (the same options), both median of N runs.

Prints the figures and writes section "node" of docs/benchmarks.md.
`python bench/node.py [--runs N] [--verify-runs N] [--no-write]`
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sections import update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "runtime" / "js" / "bin" / "fclf-edge.mjs"
MODEL = ROOT / "runtime" / "models" / "fahrenheit.onnx"
VERIFY_TARGET_S = 120.0
COLD_START_TARGET = 1.25
# The floor: what any Node program that classifies with this model must do before its first run.
FLOOR = (
    "import('onnxruntime-node').then(async (ort) => {"
    "  const s = await ort.InferenceSession.create(process.argv[1], {intraOpNumThreads: 1,"
    "    interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3});"
    "  const r = await s.run({fahrenheit: new ort.Tensor('float32', Float32Array.of(33), [1])});"
    "  process.stdout.write(String(r.label.data[0]) + '\\n');"
    "})"
)


def timed(args: list[str], cwd: Path | None = None) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MiB, stdout) of one process, from wait4's resource usage."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    assert process.stdout is not None and process.stderr is not None
    stdout = process.stdout.read().decode()
    stderr = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}): {stderr.strip()}")
    return seconds, usage.ru_maxrss // 1024, stdout


def spread(values: list[float], digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f}, n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="cold-start runs of each command")
    parser.add_argument("--verify-runs", type=int, default=1, help="exhaustive verify runs")
    parser.add_argument("--no-write", action="store_true", help="print only")
    options = parser.parse_args()
    node = shutil.which("node")
    if node is None or not (ROOT / "runtime" / "js" / "node_modules").is_dir():
        raise SystemExit(
            "needs node and `ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix runtime/js`"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()

    verify_s: list[float] = []
    verify_mib: list[float] = []
    checked = mismatches = ""
    for _ in range(options.verify_runs):
        seconds, mib, out = timed([node, str(CLI), "verify", "--exhaustive"])
        verify_s.append(seconds)
        verify_mib.append(mib)
        checked = re.search(r"^checked +([\d,]+)", out, re.M).group(1)  # type: ignore[union-attr]
        mismatches = re.search(r"^mismatches +([\d,]+)", out, re.M).group(1)  # type: ignore[union-attr]
        print(
            f"verify --exhaustive: {seconds:.1f} s, peak RSS {mib} MiB, {checked} checked, "
            f"{mismatches} mismatches",
            flush=True,
        )

    # Interleaved, so that load from other processes falls on both alike.
    cold: list[float] = []
    floor: list[float] = []
    cold_mib: list[float] = []
    floor_mib: list[float] = []
    for _ in range(options.runs):
        seconds, mib, out = timed([node, str(CLI), "predict", "33"])
        assert out == "1\n", out
        cold.append(seconds * 1000)
        cold_mib.append(mib)
        seconds, mib, out = timed([node, "-e", FLOOR, str(MODEL)], cwd=ROOT / "runtime" / "js")
        assert out == "1\n", out
        floor.append(seconds * 1000)
        floor_mib.append(mib)
    ratio = statistics.median(cold) / statistics.median(floor)
    print(f"cold start predict 33: {spread(cold, 0)} ms, {spread(cold_mib, 0)} MiB")
    print(f"floor (import + session + run): {spread(floor, 0)} ms, {spread(floor_mib, 0)} MiB")
    print(f"ratio {ratio:.2f}")

    verify_met = max(verify_s) <= VERIFY_TARGET_S and mismatches == "0"
    rows = [
        (
            "`node runtime/js/bin/fclf-edge.mjs verify --exhaustive`",
            f"{checked} values, {mismatches} mismatches, {spread(verify_s)} s, "
            f"peak RSS {spread(verify_mib, 0)} MiB",
        ),
        (
            "cold start `node runtime/js/bin/fclf-edge.mjs predict 33`",
            f"{spread(cold, 0)} ms, {spread(cold_mib, 0)} MiB",
        ),
        (
            "floor: node importing onnxruntime-node, creating the session, one run",
            f"{spread(floor, 0)} ms, {spread(floor_mib, 0)} MiB",
        ),
    ]
    table = "\n".join(f"| {what} | {figure} |" for what, figure in rows)
    verdict_verify = "met" if verify_met else "missed"
    verdict_cold = "met" if ratio <= COLD_START_TARGET else "missed"
    markdown = f"""## Node package (runtime/js)

Measured {datetime.date.today().isoformat()} by `python bench/node.py` on
{platform.machine()} with {os.cpu_count()} cores, Node {version}, onnxruntime-node 1.30.0;
median (min–max, n).

| what | figure |
|---|---|
{table}

- Target: exhaustive verify ≤ 2 min with 0 mismatches: {max(verify_s):.1f} s → {verdict_verify}
- Target: cold start ≤ {COLD_START_TARGET}× the floor: {ratio:.2f}× → {verdict_cold}
- The walk runs on worker threads, one onnxruntime session each (onnxruntime-node runs a
  session on the calling thread), in chunks of 262,144 values whose buffers are reused, so
  memory stays flat. Other load on the shared machine makes the times vary by ±30 %.
"""
    print(markdown)
    if not options.no_write:
        update_section(ROOT / "docs" / "benchmarks.md", "node", markdown)


if __name__ == "__main__":
    main()
