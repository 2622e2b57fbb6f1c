"""A Classifier's memory after one big batch, and its small-call latency, with onnxruntime's CPU
memory arena on (as before) and off (as shipped).

Each configuration runs in a fresh process: RSS before a 10M-value `predict_with_proba`, during
(its outputs alive), and after they are released and 1000 small calls ran; the median latency of
`predict(33.0)` and of `predict_batch` on one value, before and after the big batch.
Prints the figures and writes section "memory" of docs/benchmarks.md.
`python bench/memory.py [--runs N] [--no-write]`
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from sections import update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOUND_MIB = 64

PROBE = """
import gc, json, sys, time
import numpy as np
import onnxruntime as ort
from fclf_edge.runtime import Classifier

def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

def latency_us(call, n=20000):
    times = []
    for _ in range(n):
        t = time.perf_counter(); call(); times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e6

classifier = Classifier()
if sys.argv[1] == "on":  # the Classifier as it was: the same session options, arena on
    options = classifier.session.get_session_options()
    options.enable_cpu_mem_arena = True
    classifier._session = ort.InferenceSession(
        classifier.path.read_bytes(), options, providers=["CPUExecutionProvider"])
one = np.array([33.0], dtype=np.float32)
small = {"predict": lambda: classifier.predict(33.0),
         "batch1": lambda: classifier.predict_batch(one, proba=True)}
out = {"before_us": {k: latency_us(f) for k, f in small.items()}}
x = np.linspace(-459.67, 10000, 10_000_000, dtype=np.float32)
out["before"] = rss_mib()
labels, probabilities = classifier.predict_with_proba(x)
out["during"] = rss_mib()
del labels, probabilities
gc.collect()
for _ in range(1000):
    classifier.predict(33.0)
out["after"] = rss_mib()
out["after_us"] = {k: latency_us(f) for k, f in small.items()}
print(json.dumps(out))
"""


def measure(arena: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, arena], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for arena in ("on", "off"):
        runs = [measure(arena) for _ in range(args.runs)]
        row: dict[str, Any] = {"arena": arena}
        for key in ("before", "during", "after"):
            row[key] = statistics.median(r[key] for r in runs)
        for when in ("before", "after"):
            for call in ("predict", "batch1"):
                row[f"{call}_{when}"] = statistics.median(r[f"{when}_us"][call] for r in runs)
        rows.append(row)
        print(json.dumps(row))
    lines = [
        "## Memory after a big batch",
        "",
        f"`python bench/memory.py` ({platform.machine()}, {datetime.date.today()}, median of "
        f"{args.runs} fresh processes each). RSS of a process holding one Classifier: before one "
        "10M-value `predict_with_proba`, with its outputs alive, and after they are released "
        "and 1000 small calls ran. Latency: median of 20,000 calls, before and after the batch. "
        f"Target: after within {BOUND_MIB} MiB of before, small calls no slower.",
        "",
        "| CPU memory arena | RSS before | during | after (Δ) | `predict(33.0)` before / after "
        "| `predict_batch` of 1 before / after |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        label = "on (before this change)" if r["arena"] == "on" else "off (shipped)"
        lines.append(
            f"| {label} | {r['before']:.0f} MiB | {r['during']:.0f} MiB | {r['after']:.0f} MiB "
            f"({r['after'] - r['before']:+.0f}) | {r['predict_before']:.1f} / "
            f"{r['predict_after']:.1f} µs | {r['batch1_before']:.1f} / {r['batch1_after']:.1f} µs |"
        )
    if not args.no_write:
        update_section(ROOT / "docs" / "benchmarks.md", "memory", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
