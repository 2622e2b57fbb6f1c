"""Export time, parity gate included: torch.onnx.export (what export-onnx does) against building
the same ten-op graph directly with onnx.helper (the kit's earlier exporter), on the same model.

Prints the figures and writes section "export" of docs/benchmarks.md.
`python bench/export.py [--runs N] [--out-dir DIR]`
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from sections import update_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_S = 10.0


def direct_graph(scale: float, threshold: float) -> bytes:
    """The ten ops written out with onnx.helper: the baseline the exporter replaced."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def node(op: str, inputs: list[str], output: str, **attrs: int) -> onnx.NodeProto:
        return helper.make_node(op, inputs, [output], name=output, **attrs)

    nodes = [
        node("Sub", ["fahrenheit", "threshold"], "offset"),
        node("Mul", ["offset", "scale"], "logit"),
        node("Cast", ["logit"], "logit64", to=TensorProto.DOUBLE),
        node("Neg", ["logit64"], "minus_logit"),
        node("Exp", ["minus_logit"], "odds_against"),
        node("Add", ["odds_against", "one"], "denominator"),
        node("Reciprocal", ["denominator"], "probability64"),
        node("Cast", ["probability64"], "probability", to=TensorProto.FLOAT),
        node("Greater", ["fahrenheit", "threshold"], "above"),
        node("Cast", ["above"], "label", to=TensorProto.INT64),
    ]
    graph = helper.make_graph(
        nodes,
        "direct",
        [helper.make_tensor_value_info("fahrenheit", TensorProto.FLOAT, ["batch"])],
        [
            helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
        ],
        initializer=[
            numpy_helper.from_array(np.array(threshold, np.float32), "threshold"),
            numpy_helper.from_array(np.array(scale, np.float32), "scale"),
            numpy_helper.from_array(np.array(1.0, np.float64), "one"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args()

    from fclf_edge.export.convert import export_checkpoint
    from fclf_edge.export.parity import check_parity, onnxruntime_runner, parity_inputs
    from fclf_edge.train.checkpoint import load_checkpoint

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        ckpt = tmp / "model.pt"
        subprocess.run(
            [str(BIN / "train-model"), "--device", "cpu", "-q", "--out", str(ckpt)], check=True
        )
        model = load_checkpoint(ckpt).model.eval()
        scale, threshold = float(model.scale.item()), float(model.threshold.item())
        inputs = parity_inputs(threshold)

        def direct() -> None:
            data = direct_graph(scale, threshold)
            assert check_parity(model, onnxruntime_runner(data), inputs).passed

        export_checkpoint(ckpt, tmp / "warm.onnx")  # first call pays one-off imports
        in_process = {
            "torch.onnx.export + edge post-processing + parity gate (export-onnx)": timed(
                lambda: export_checkpoint(ckpt, tmp / "m.onnx"), args.runs
            ),
            "direct onnx.helper graph + the same parity gate (earlier exporter)": timed(
                direct, args.runs
            ),
        }
        whole = timed(
            lambda: subprocess.run(
                [str(BIN / "export-onnx"), "-q", str(ckpt), "--out", str(tmp / "p.onnx")],
                check=True,
            ),
            args.runs,
        )
        whole_ort = timed(
            lambda: subprocess.run(
                [str(BIN / "export-onnx"), "-q", "--ort", str(ckpt), "--out", str(tmp / "q.onnx")],
                check=True,
            ),
            max(1, args.runs // 2),
        )
    rows = [f"| {name} | {fmt(values)} |" for name, values in in_process.items()]
    md = "\n".join(
        [
            "## Export time (parity gate included)",
            "",
            f"Measured {datetime.date.today().isoformat()} by `python bench/export.py`; seconds, "
            "median (min–max, n).",
            "",
            "| what | seconds |",
            "|---|---|",
            f"| `export-onnx` whole process (torch import, export, gate, write) | {fmt(whole)} |",
            f"| `export-onnx --ort` whole process (+ ORT conversion and its check) "
            f"| {fmt(whole_ort)} |",
            *[f"| in-process: {row[2:]}" for row in rows],
            "",
            f"- Target: export including the parity gate ≤ {TARGET_S:g} s: "
            f"{statistics.median(whole):.2f} s → "
            f"{'met' if statistics.median(whole) <= TARGET_S else 'missed'}",
        ]
    )
    update_section(args.out_dir / "benchmarks.md", "export", md)
    print(md)


if __name__ == "__main__":
    main()
