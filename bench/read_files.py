"""Reading files: `fclf-edge predict --input` beside numpy.loadtxt and pandas.read_csv.

`python bench/read_files.py [--lines 10000000] [--rows 2000000] [--runs 3] [--baseline DIR]`
writes the section "read-throughput" of docs/benchmarks.md (bench/sections.py keeps it when
run.py rewrites the file) and prints the same table with a verdict per goal of issue #13.

Files, made in a temporary folder: one value per line (10M lines), a CSV `ts,temp_f,city`
(2M rows), the same CSV gzipped, and JSON Lines `{"ts": 1, "temp_f": -12.345, "city": "Oslo"}`
(2M rows); readings uniform over [-40, 120] °F with three decimals. Every figure is a whole
process (start-up included; bench/measure.py gives wall time and the peak RSS of that process
alone), the tools taking turns run by run so that load from elsewhere spreads over all of them.
fclf-edge writes its labels to /dev/null (`--output /dev/null`); the peers only parse the column
into a float64 array, checking nothing, and also report the time of the parse call alone.
`--baseline DIR` adds the same fclf-edge runs from a checkout of an earlier commit (e.g.
`git archive <commit> runtime | tar -x -C /tmp/before`), imported from there instead of this
tree; `--baseline-name "commit <commit>"` names it in the report.
--smoke shrinks every file so tests can run the script in seconds; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from run import BIN, ROOT, machine, run_process, stats  # noqa: E402
from sections import update_section  # noqa: E402

SECTION = "read-throughput"
# Issue #13's goals, rows per second of a whole process in steady state, and peak RSS.
TARGETS = {"plain lines": 4e6, "CSV column": 2e6, "gzip CSV column": 1.5e6, "CSV --append": 1e6}
MAX_RSS_MIB = 200.0
CITIES = ("Oslo", "Rome", "Nome", "Lima")


def write_files(folder: Path, lines: int, rows: int) -> dict[str, Path]:
    """The four files; readings uniform over [-40, 120] °F, three decimals (`-12.345`)."""
    rng = np.random.default_rng(13)
    paths = {
        "lines": folder / "readings.txt",
        "csv": folder / "readings.csv",
        "gzip": folder / "readings.csv.gz",
        "jsonl": folder / "readings.jsonl",
    }
    step = 1_000_000
    with paths["lines"].open("w") as f:
        for start in range(0, lines, step):
            values = rng.uniform(-40, 120, min(step, lines - start)).tolist()
            f.write("\n".join(map("{:.3f}".format, values)) + "\n")
    with paths["csv"].open("w") as csv_file, paths["jsonl"].open("w") as jsonl_file:
        csv_file.write("ts,temp_f,city\n")
        for start in range(0, rows, step):
            values = rng.uniform(-40, 120, min(step, rows - start)).tolist()
            stamps = range(start, start + len(values))
            cities = [CITIES[i % len(CITIES)] for i in stamps]
            csv_file.write(
                "".join(
                    f"{t},{v:.3f},{c}\n" for t, v, c in zip(stamps, values, cities, strict=True)
                )
            )
            jsonl_file.write(
                "".join(
                    f'{{"ts": {t}, "temp_f": {v:.3f}, "city": "{c}"}}\n'
                    for t, v, c in zip(stamps, values, cities, strict=True)
                )
            )
    # gzip's default level, what `gzip readings.csv` writes.
    with paths["csv"].open("rb") as src, gzip.open(paths["gzip"], "wb", compresslevel=6) as dst:
        while block := src.read(1 << 20):
            dst.write(block)
    return paths


def peer(tool: str, kind: str, path: str) -> None:
    """Child process: parse the temperature column with `tool`, print rows and parse time."""
    if tool == "pandas":
        import pandas as pd
    started = time.perf_counter()
    if tool == "loadtxt" and kind == "lines":
        values = np.loadtxt(path, dtype=np.float64)
    elif tool == "loadtxt":  # numpy opens .gz itself, by the file name
        values = np.loadtxt(path, delimiter=",", skiprows=1, usecols=1, dtype=np.float64)
    elif kind == "lines":
        frame = pd.read_csv(path, header=None, names=["f"], dtype={"f": np.float64})
        values = frame["f"].to_numpy()
    elif kind == "jsonl":
        values = pd.read_json(path, lines=True)["temp_f"].to_numpy(dtype=np.float64)
    else:  # compression inferred from the file name
        frame = pd.read_csv(path, usecols=["temp_f"], dtype={"temp_f": np.float64})
        values = frame["temp_f"].to_numpy()
    parse = time.perf_counter() - started
    print(json.dumps({"rows": len(values), "parse_s": parse}))


def cases(paths: dict[str, Path], rows: dict[str, int]) -> list[dict[str, Any]]:
    """What runs: (input, tool, arguments, rows)."""
    out = ["--output", "/dev/null"]
    ours: list[tuple[str, list[str], int]] = [
        ("plain lines", ["--input", str(paths["lines"]), *out], rows["lines"]),
        ("CSV column", ["--input", str(paths["csv"]), "-c", "temp_f", *out], rows["csv"]),
        ("gzip CSV column", ["--input", str(paths["gzip"]), "-c", "temp_f", *out], rows["csv"]),
        (
            "CSV --append",
            ["--input", str(paths["csv"]), "-c", "temp_f", "--append", *out],
            rows["csv"],
        ),
        ("JSON Lines field", ["--input", str(paths["jsonl"]), "-c", "temp_f", *out], rows["csv"]),
    ]
    table = [
        {"input": name, "tool": "fclf-edge", "args": args, "rows": n} for name, args, n in ours
    ]
    peers = [
        ("plain lines", "lines", "lines", rows["lines"]),
        ("CSV column", "csv", "csv", rows["csv"]),
        ("gzip CSV column", "csv", "gzip", rows["csv"]),
    ]
    for name, kind, file, n in peers:
        for tool in ("loadtxt", "pandas"):
            table.append(
                {
                    "input": name,
                    "tool": "numpy.loadtxt" if tool == "loadtxt" else "pandas.read_csv",
                    "peer": [tool, kind, str(paths[file])],
                    "rows": n,
                }
            )
    table.append(
        {
            "input": "JSON Lines field",
            "tool": "pandas.read_json",
            "peer": ["pandas", "jsonl", str(paths["jsonl"])],
            "rows": rows["csv"],
        }
    )
    return table


def baseline_launcher(checkout: Path, folder: Path) -> list[str]:
    """A command that runs `fclf-edge` from an earlier checkout: a package folder whose
    `fclf_edge.runtime` is that checkout's runtime/, found first on PYTHONPATH."""
    package = folder / "baseline" / "fclf_edge"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "runtime").symlink_to(checkout.resolve() / "runtime")
    return ["env", f"PYTHONPATH={package.parent}", sys.executable, "-m", "fclf_edge.runtime"]


def run_case(case: dict[str, Any], launcher: list[str]) -> dict[str, float]:
    if "peer" in case:
        wall, rss_kib, stdout = run_process([sys.executable, __file__, "--peer", *case["peer"]])
        figures = json.loads(stdout)
        if figures["rows"] != case["rows"]:
            raise RuntimeError(f"{case['tool']} read {figures['rows']} rows of {case['rows']}")
        return {"wall_s": wall, "rss_mib": rss_kib / 1024, "parse_s": figures["parse_s"]}
    wall, rss_kib, _ = run_process([*launcher, "predict", *case["args"]])
    return {"wall_s": wall, "rss_mib": rss_kib / 1024}


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    paths = write_files(folder, args.lines, args.rows)
    load = os.getloadavg()[0]
    table = cases(paths, {"lines": args.lines, "csv": args.rows})
    launchers = {"after": [str(BIN / "fclf-edge")]}
    if args.baseline:
        launchers["before"] = baseline_launcher(args.baseline, folder)
    for case in table:
        case["runs"] = {name: [] for name in launchers} if "args" in case else {"peer": []}
    # Cold start: the console script; with a baseline, both trees also through `python -m`
    # (the baseline can only be run that way), so that the two compare like for like.
    cold_launchers = {"after": launchers["after"]}
    if args.baseline:
        cold_launchers["before, python -m"] = launchers["before"]
        cold_launchers["after, python -m"] = [sys.executable, "-m", "fclf_edge.runtime"]
    cold: dict[str, list[float]] = {name: [] for name in cold_launchers}
    for run in range(args.runs):  # round robin: each tool sees the same spread of load
        for case in table:
            for name, runs in case["runs"].items():
                runs.append(run_case(case, launchers.get(name, [])))
        print(f"round {run + 1} of {args.runs} done", file=sys.stderr)
    for _ in range(args.cold_runs):
        for name, launcher in cold_launchers.items():
            cold[name].append(run_process([*launcher, "predict", "33"])[0])
    sizes = {k: p.stat().st_size for k, p in paths.items()}
    return {"table": table, "cold": cold, "bytes": sizes, "load": (load, os.getloadavg()[0])}


def rate(case: dict[str, Any], runs: list[dict[str, float]]) -> str:
    """Rows/s in millions: median (slowest–fastest run)."""
    r = stats([case["rows"] / m["wall_s"] / 1e6 for m in runs])
    return f"{r.median:.2f} M/s ({r.low:.2f}–{r.high:.2f})"


def verdicts(results: dict[str, Any]) -> list[str]:
    lines = []
    for case in results["table"]:
        if case["tool"] != "fclf-edge":
            continue
        runs = case["runs"]["after"]
        median = stats([case["rows"] / m["wall_s"] for m in runs]).median
        peak = max(m["rss_mib"] for m in runs)
        goal = TARGETS.get(case["input"])
        speed = (
            f"≥ {goal / 1e6:g} M rows/s: {median / 1e6:.2f} M/s → "
            + ("met" if median >= goal else "**missed**")
            if goal
            else "no speed goal"
        )
        memory = f"peak RSS < {MAX_RSS_MIB:.0f} MiB: {peak:.0f} MiB → " + (
            "met" if peak < MAX_RSS_MIB else "**missed**"
        )
        lines.append(f"- {case['input']}: {speed}; {memory}")
    return lines


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    before = bool(args.baseline)
    sizes = results["bytes"]
    lines = [
        "## Read throughput (`fclf-edge predict --input` beside numpy and pandas)",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()}, Python "
        f"{platform.python_version()}, by `python bench/read_files.py"
        f"{' --smoke' if args.smoke else ''}`. Files: {args.lines:,} lines of one value "
        f"({sizes['lines'] / 2**20:.0f} MiB); a CSV `ts,temp_f,city` of {args.rows:,} rows "
        f"({sizes['csv'] / 2**20:.0f} MiB, gzipped {sizes['gzip'] / 2**20:.0f} MiB); JSON Lines "
        f'`{{"ts": 1, "temp_f": -12.345, "city": "Oslo"}}` ({sizes["jsonl"] / 2**20:.0f} '
        "MiB); readings like `-12.345`. Whole processes, start-up included, the tools taking "
        f"turns over {args.runs} round{'s' if args.runs > 1 else ''}: rows/s median "
        "(slowest–fastest), and the largest peak RSS. fclf-edge validates every value and "
        "writes a label per row to /dev/null; numpy and pandas only parse the column to "
        "float64 (their *parse* column: the call alone, without start-up and imports).",
        "",
    ]
    if args.smoke:
        lines += ["**Smoke run: tiny files, the figures mean nothing.**", ""]
    head = "| input | tool | rows/s, whole process | parse call | peak RSS |"
    lines += [head, "|---|---|---:|---:|---:|"]
    order = [case["input"] for case in results["table"]]
    for case in sorted(results["table"], key=lambda c: order.index(c["input"])):
        for name, runs in sorted(case["runs"].items(), reverse=True):  # before, after
            tool = case["tool"] + (f" ({name})" if before and name != "peer" else "")
            parse = (
                f"{case['rows'] / stats([m['parse_s'] for m in runs]).median / 1e6:.2f} M/s"
                if "parse_s" in runs[0]
                else ""
            )
            peak = max(m["rss_mib"] for m in runs)
            lines.append(
                f"| {case['input']} | {tool} | {rate(case, runs)} | {parse} | {peak:.0f} MiB |"
            )
    cold = {name: stats(walls) for name, walls in results["cold"].items()}
    said = ", ".join(
        f"{name} {c.median * 1000:.0f} ms ({c.low * 1000:.0f}–{c.high * 1000:.0f})"
        for name, c in cold.items()
    )
    lines += [
        "",
        "Goals (issue #13, whole process; the verdict takes the median):",
        *verdicts(results),
        f"- Cold start of `fclf-edge predict 33`, {args.cold_runs} runs: {said}.",
    ]
    lines += [
        "",
        "How: a block of plain short numbers (sign, at most 8 digits each side of the decimal "
        "mark) is parsed by `runtime/reader/fastpath.py` with a few numpy passes, 8 digits per "
        "64-bit word, giving exactly the floats `float()` gives; one value per line and an "
        "unquoted CSV column with the same number of cells on every row take this path. "
        "Anything else in a block (spaces, exponents, quotes, short rows, bad text) sends that "
        "block to the per-value parser, which names each invalid row as before. JSON Lines: "
        "a chunk's lines are parsed by one `json.loads` call as an array when that provably "
        "reads each line as it would alone. numpy and pandas check nothing: they take `nan`, "
        "`inf` and values below absolute zero, and stop at the first bad row without naming "
        "every one.",
    ]
    if before:
        lines.append(f"Before: {args.baseline_name or args.baseline.name}; after: this tree.")
    start, end = results["load"]
    lines.append(
        f"Load average (1 min) {start:.1f} at the start and {end:.1f} at the end, on "
        f"{os.cpu_count()} cores: other work shares this machine, so the fastest run is the "
        "least disturbed."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=20)
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit")
    parser.add_argument("--baseline-name", help="what the baseline is, for the report")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--peer", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer(*args.peer)
        return
    if args.smoke:
        args.lines, args.rows, args.runs, args.cold_runs = 20_000, 20_000, 1, 1
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(args, Path(tmp))
    text = markdown(results, args)
    print(text)
    update_section(args.out, SECTION, text)
    print(f"wrote section {SECTION!r} of {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
