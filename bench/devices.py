"""The devices: which onnxruntime releases run on each emulated profile, and what fclf-edge costs
there (bench/emulation.py has the profiles).

- Matrix: every onnxruntime release from the pyproject's floor to the newest on PyPI (the last
  patch of each minor, and 1.21.0), and onnxruntime-node as pinned by runtime/js, on every
  profile: import, load the bundled model, labels on 100,000 sampled values against x86-64.
  A release is `runs`, `SIGILL`, or `other` with its error.
- Footprint of the pinned install per profile: the device venv's size, peak RSS and wall time
  of `fclf-edge predict 33` against `python -c "import numpy, onnxruntime"`, and peak RSS of
  `fclf-edge predict --input` on a streamed 10M-line file. Under qemu-user the translator
  lives in the process, so RSS here includes it; the floor has the same overhead.
- `--exhaustive`: `fclf-edge verify --exhaustive` on the pi4 profile, its time.

Writes sections "matrix", "footprint" and "exhaustive" of docs/devices.md.
`python bench/devices.py [--only matrix|footprint|exhaustive] [--versions 1.17.3,...] [--no-write]`
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import emulation as emu  # noqa: E402
from sections import update_section  # noqa: E402

from fclf_edge.runtime import DEFAULT_MODEL_PATH, Classifier  # noqa: E402
from fclf_edge.runtime.verify import sample_values  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "devices.md"
FLOOR = (1, 17)
SAMPLE = 100_000
STREAM_LINES = 10_000_000

PROBE = """
import sys
import numpy as np
import onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = 1  # as the Classifier: the default pins threads to 4 cores, and
options.inter_op_num_threads = 1  # this 2-core host refuses cores 2 and 3 (an emulation artifact)
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
labels = session.run(["label"], {"fahrenheit": np.load(sys.argv[2])})[0]
np.save(sys.argv[3], labels)
print(ort.__version__)
"""

NODE_PROBE = """
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(process.argv[5]);  // the package, to resolve its modules
const ort = require('onnxruntime-node');
const raw = readFileSync(process.argv[2]);
const x = new Float32Array(raw.buffer.slice(raw.byteOffset + 10 + raw.readUInt16LE(8)));
const session = await ort.InferenceSession.create(process.argv[3], {
  intraOpNumThreads: 1, interOpNumThreads: 1 });
const out = await session.run({ fahrenheit: new ort.Tensor('float32', x, [x.length]) });
writeFileSync(process.argv[4], Uint8Array.from(out.label.data, Number));
console.log(require('onnxruntime-node/package.json').version);
"""


def releases() -> list[str]:
    """onnxruntime on PyPI from the floor on: the last patch of each minor, and 1.21.0."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "onnxruntime",
         "--index-url=https://pypi.org/simple"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    listed = proc.stdout.split("Available versions:")[1].splitlines()[0]
    versions = [v.strip() for v in listed.split(",") if re.fullmatch(r"\d+\.\d+\.\d+", v.strip())]
    last: dict[tuple[int, int], str] = {}
    for version in versions:
        major, minor, patch = map(int, version.split("."))
        if (major, minor) >= FLOOR and (
            (major, minor) not in last or patch > int(last[(major, minor)].split(".")[2])
        ):
            last[(major, minor)] = version
    chosen = set(last.values()) | {"1.21.0"}
    return sorted(chosen, key=lambda v: tuple(map(int, v.split("."))))


def outcome(proc: subprocess.CompletedProcess[str], got: Path, expected: np.ndarray) -> str:
    if proc.returncode == -signal.SIGILL:
        return "SIGILL"
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        return f"other: exit {proc.returncode}, {lines[-1][:120] if lines else 'no message'}"
    labels = np.load(got) if got.suffix == ".npy" else np.fromfile(got, dtype=np.uint8)
    if not np.array_equal(labels.astype(np.int64), expected):
        return "other: labels differ from x86-64"
    return "runs" + (f" (stderr: {proc.stderr.strip()[:80]})" if proc.stderr.strip() else "")


def x86_venv(version: str) -> Path:
    """A venv on this machine with onnxruntime==version, for the x86-v2 profile."""
    folder = emu.CACHE / "x86" / f"onnxruntime-{version}"
    if not (folder / ".complete").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(folder)
        subprocess.run(
            [str(folder / "bin" / "python"), "-m", "pip", "install", "-q",
             "--index-url=https://pypi.org/simple", f"onnxruntime=={version}",
             emu.numpy_for(version)],
            check=True, env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
        )  # fmt: skip
        (folder / ".complete").write_text("")
    return folder


def matrix(versions: list[str], work: Path) -> list[dict[str, str]]:
    x = np.concatenate(list(sample_values(-459.67, 10_000.0, SAMPLE, seed=0)))
    np.save(work / "x.npy", x)
    (work / "model.onnx").write_bytes(DEFAULT_MODEL_PATH.read_bytes())
    (work / "probe.py").write_text(PROBE)
    (work / "probe.mjs").write_text(NODE_PROBE)
    expected = Classifier().predict(x)
    bookworm = emu.ensure_root("bookworm")
    rows = []
    for version in versions:
        row = {"version": version}
        venv_path = emu.onnxruntime_venv(bookworm, version)
        for name in emu.ARM_PROFILES:
            proc = emu.run(
                emu.PROFILES[name], bookworm,
                [f"{venv_path}/bin/python", "/work/probe.py", "/work/model.onnx", "/work/x.npy",
                 f"/work/{name}-{version}.npy"],
                binds={work: "/work"},
            )  # fmt: skip
            row[name] = outcome(proc, work / f"{name}-{version}.npy", expected)
        python = x86_venv(version) / "bin" / "python"
        args = [str(work / "probe.py"), str(work / "model.onnx"), str(work / "x.npy")]
        proc = emu.run_x86_v2([str(python), *args, str(work / f"x86-v2-{version}.npy")])
        row["x86-v2"] = outcome(proc, work / f"x86-v2-{version}.npy", expected)
        print(json.dumps(row), flush=True)
        rows.append(row)
    trixie = emu.ensure_root(emu.NODE_SUITE)
    node = json.loads((ROOT / "runtime" / "js" / "package.json").read_text())
    row = {"version": f"node {node['dependencies']['onnxruntime-node']}"}
    binds = {ROOT: "/src", work: "/work"}
    for name in emu.ARM_PROFILES:
        argv = ["node", "/work/probe.mjs", "/work/x.npy", "/work/model.onnx", f"/work/{name}.bin",
                "/src/runtime/js/index.js"]  # fmt: skip
        proc = emu.run(emu.PROFILES[name], trixie, argv, binds=binds)
        row[name] = outcome(proc, work / f"{name}.bin", expected)
    node_x86 = shutil.which("node") or "node"  # qemu-user needs the binary's path
    argv = [node_x86, str(work / "probe.mjs"), str(work / "x.npy"), str(work / "model.onnx"),
            str(work / "x.bin"), str(ROOT / "runtime" / "js" / "index.js")]  # fmt: skip
    proc = emu.run_x86_v2(argv)
    row["x86-v2"] = outcome(proc, work / "x.bin", expected)
    print(json.dumps(row), flush=True)
    rows.append(row)
    return rows


# qemu-user's own mappings (its binary, its malloc heap, its translation buffer and threads, at
# 0x7f... on x86-64) share the process with the device program's; the guest's lie below.
QEMU_SPACE = 0x7F00_0000_0000
NOT_GUEST = ("[heap]", "[vvar]", "[vdso]", "[vsyscall]", "[stack]", "qemu-")


def rss_kib(pid: int) -> tuple[int, int]:
    """(whole process, the device program's own mappings) resident KiB, from smaps."""
    total = guest = 0
    counted = False
    try:
        with open(f"/proc/{pid}/smaps") as smaps:
            for line in smaps:
                if line.startswith("Rss:"):
                    kib = int(line.split()[1])
                    total += kib
                    guest += kib if counted else 0
                elif "-" in line.split(" ", 1)[0] and not line.split(" ", 1)[0].endswith(":"):
                    start = int(line.split("-", 1)[0], 16)
                    counted = start < QEMU_SPACE and not any(n in line for n in NOT_GUEST)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return total, guest


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """Wall seconds, peak RSS (MiB) of the whole process and of the device program in it
    (sampled every 10 ms: rusage would report the parent's RSS, inherited through vfork),
    and exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_total = peak_guest = 0
    while proc.poll() is None:
        total, guest = rss_kib(proc.pid)
        peak_total, peak_guest = max(peak_total, total), max(peak_guest, guest)
        time.sleep(0.01)
    return time.perf_counter() - start, peak_total / 1024, peak_guest / 1024, proc.returncode


def measure(
    profile: emu.Profile, root: Path, argv: list[str], work: Path, runs: int
) -> tuple[float, float, float]:
    """Medians over `runs` runs on `profile` of wall seconds and peak RSS (MiB; whole process,
    device program). Medians: a sample of smaps taken while mappings change can overcount."""
    results = []
    for _ in range(runs):
        cmd, env = emu.command(profile, root, argv, binds={work: "/work"})
        wall, total, guest, code = timed(cmd, env)
        if code != 0:
            raise RuntimeError(f"{profile.name}: {' '.join(argv)} exited {code}")
        results.append((wall, total, guest))
    return (
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
        statistics.median(r[2] for r in results),
    )


def footprint(work: Path, runs: int) -> list[dict[str, float | str]]:
    bookworm = emu.ensure_root("bookworm")
    wheel = emu.build_wheel(work / "wheel")
    venv_path = emu.install_project(bookworm, emu.PROFILES["pi3"], wheel)
    size = sum(
        p.stat().st_size for p in (bookworm / venv_path.lstrip("/")).rglob("*") if p.is_file()
    )
    lines = work / "10m.txt"
    values = np.linspace(-459.0, 10_000.0, STREAM_LINES).round(2)
    np.savetxt(lines, values, fmt="%.2f")
    rows: list[dict[str, float | str]] = []
    for name in emu.ARM_PROFILES:
        profile = emu.PROFILES[name]
        py = f"{venv_path}/bin/python"
        floor_s, floor_total, floor_rss = measure(
            profile, bookworm, [py, "-c", "import numpy, onnxruntime"], work, runs
        )
        predict_s, predict_total, predict_rss = measure(
            profile, bookworm, [f"{venv_path}/bin/fclf-edge", "predict", "33"], work, runs
        )
        stream = [f"{venv_path}/bin/fclf-edge", "predict", "-i", "/work/10m.txt", "-o", "/dev/null"]
        stream_s, stream_total, stream_rss = measure(profile, bookworm, stream, work, 3)
        row: dict[str, float | str] = {
            "profile": name, "venv_mib": size / 2**20, "predict_s": predict_s,
            "predict_rss": predict_rss, "floor_s": floor_s, "floor_rss": floor_rss,
            "stream_s": stream_s, "stream_rss": stream_rss, "predict_total": predict_total,
            "floor_total": floor_total, "stream_total": stream_total,
        }  # fmt: skip
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def exhaustive(work: Path) -> str:
    bookworm = emu.ensure_root("bookworm")
    venv_path = emu.install_project(bookworm, emu.PROFILES["pi3"], emu.build_wheel(work / "w"))
    start = time.perf_counter()
    proc = emu.run(
        emu.PROFILES["pi4"], bookworm, [f"{venv_path}/bin/fclf-edge", "verify", "--exhaustive"],
        timeout=4 * 3600,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    print(proc.stdout, proc.stderr)
    found = re.search(r"mismatches (\S+)", proc.stdout)
    return (
        f"`fclf-edge verify --exhaustive` on the pi4 profile ({datetime.date.today()}): exit "
        f"{proc.returncode}, {found.group(1) if found else '?'} mismatches in "
        f"{seconds / 60:.1f} minutes under qemu-user on a shared 2-core x86-64 host (the time is "
        "the emulator's, not a Pi 4's)."
    )


def matrix_markdown(rows: list[dict[str, str]]) -> str:
    names = [*emu.ARM_PROFILES, "x86-v2"]
    lines = [
        f"Measured {datetime.date.today()} by `python bench/devices.py --only matrix`: import, "
        f"load the bundled model, labels on {SAMPLE:,} sampled values against x86-64.",
        "",
        "| onnxruntime | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for row in rows:
        lines.append(f"| {row['version']} | " + " | ".join(row[n] for n in names) + " |")
    return "\n".join(lines)


def footprint_markdown(rows: list[dict[str, float | str]], runs: int) -> str:
    lines = [
        f"Measured {datetime.date.today()} by `python bench/devices.py --only footprint`: medians "
        f"of {runs} runs (3 for the 10M-line file); peak RSS sampled every 10 ms. Under qemu-user "
        "the translator shares the process: RSS is given for the device program's own mappings "
        "(what the board would hold), then for the whole emulated process in brackets. Seconds "
        "are the emulator's on a shared 2-core x86-64 host; only their ratio means something.",
        "",
        "| profile | venv installed | `predict 33` peak RSS | floor peak RSS | cold start / floor "
        "| 10M-line file, peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['profile']} | {r['venv_mib']:.0f} MiB "
            f"| {r['predict_rss']:.0f} MiB ({r['predict_total']:.0f}) "
            f"| {r['floor_rss']:.0f} MiB ({r['floor_total']:.0f}) "
            f"| {float(r['predict_s']) / float(r['floor_s']):.2f}× "
            f"({r['predict_s']:.1f} s / {r['floor_s']:.1f} s) "
            f"| {r['stream_rss']:.0f} MiB ({r['stream_total']:.0f}), {r['stream_s']:.0f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["matrix", "footprint", "exhaustive"])
    parser.add_argument("--versions", help="comma-separated onnxruntime versions (default: all)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    emu.check_emulation()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parts: dict[str, str] = {}
        if args.only in (None, "matrix"):
            versions = args.versions.split(",") if args.versions else releases()
            parts["matrix"] = matrix_markdown(matrix(versions, work))
        if args.only in (None, "footprint"):
            parts["footprint"] = footprint_markdown(footprint(work, args.runs), args.runs)
        if args.only == "exhaustive":
            parts["exhaustive"] = exhaustive(work)
    for name, markdown in parts.items():
        print(markdown)
        if not args.no_write:
            update_section(DOC, name, markdown)


if __name__ == "__main__":
    main()
