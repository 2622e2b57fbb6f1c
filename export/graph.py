"""The ONNX graph, written out op by op from the checkpoint's two numbers.

    fahrenheit ─ Sub(threshold) ─ Mul(scale) ─ Cast(double) ─ Neg ─ Exp ─ Add(1) ─ Reciprocal
         │                                                  ─ Cast(float) ─ probability (float32)
         └──── Greater(threshold) ─ Cast(int64) ───────────────────────────── label (int64)

We write the graph rather than trace it because exactness lives in the op order: the label is one
float32 comparison with the learned threshold, which is exact for every input, and the logit
subtracts before it scales. A traced Linear would become Gemm/MatMul+Add (w·x + b), which rounds
near the boundary.

The sigmoid is evaluated in double precision and rounded once to float32. onnxruntime's float32
Sigmoid (and float32 Exp) are fast approximations that are not monotone: over all float32 logits
in [-110, 110] the Sigmoid op steps backwards 12 million times by an ulp. In double precision the
error is far below float32's spacing, so the probability is monotone in the input (checked
exhaustively by `fclf-edge verify --exhaustive`). The price is throughput: onnxruntime runs the
whole graph whichever outputs are requested, and its double-precision Exp is several times slower
than a float32 Sigmoid (bench/run.py measures both variants). `label` never depends on it.

These are the ops FahrenheitClassifier.forward runs, in the same order, so
PyTorch and onnxruntime make bit-identical decisions; the parity gate checks it on every export.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fclf_edge.runtime.metadata import INPUT_NAME, LABEL_OUTPUT, PROBABILITY_OUTPUT

# Opset 17 (onnxruntime >= 1.12, 2022) has every op used here with unchanged semantics since
# opset 13; IR version 8 is what that generation of runtimes and the C/C++/C#/Java/JS bindings
# read. Newer values would only lock out older devices.
DEFAULT_ONNX_OPSET = 17
ONNX_IR_VERSION = 8

BATCH_DIM = "batch"
GRAPH_NAME = "fahrenheit_above_freezing"


def build_model(
    scale: float,
    threshold: float,
    metadata: Mapping[str, str],
    opset: int = DEFAULT_ONNX_OPSET,
) -> onnx.ModelProto:
    """Build the graph for `scale · (F − threshold)`, with `metadata` as metadata_props."""
    initializers = [
        numpy_helper.from_array(np.array(threshold, dtype=np.float32), name="threshold"),
        numpy_helper.from_array(np.array(scale, dtype=np.float32), name="scale"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float64), name="one"),
    ]
    nodes = [
        helper.make_node("Sub", [INPUT_NAME, "threshold"], ["offset"], name="offset"),
        helper.make_node("Mul", ["offset", "scale"], ["logit"], name="logit"),
        helper.make_node("Cast", ["logit"], ["logit64"], name="logit64", to=TensorProto.DOUBLE),
        helper.make_node("Neg", ["logit64"], ["minus_logit"], name="minus_logit"),
        helper.make_node("Exp", ["minus_logit"], ["odds_against"], name="odds_against"),
        helper.make_node("Add", ["odds_against", "one"], ["denominator"], name="denominator"),
        helper.make_node("Reciprocal", ["denominator"], ["probability64"], name="probability64"),
        helper.make_node(
            "Cast",
            ["probability64"],
            [PROBABILITY_OUTPUT],
            name="probability",
            to=TensorProto.FLOAT,
        ),
        helper.make_node("Greater", [INPUT_NAME, "threshold"], ["above"], name="above"),
        helper.make_node("Cast", ["above"], [LABEL_OUTPUT], name="label", to=TensorProto.INT64),
    ]
    graph = helper.make_graph(
        nodes,
        GRAPH_NAME,
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [BATCH_DIM])],
        outputs=[
            helper.make_tensor_value_info(PROBABILITY_OUTPUT, TensorProto.FLOAT, [BATCH_DIM]),
            helper.make_tensor_value_info(LABEL_OUTPUT, TensorProto.INT64, [BATCH_DIM]),
        ],
        initializer=initializers,
        doc_string="Input: temperatures in °F. label 1 = above freezing (C > 0); "
        "probability = sigmoid(scale * (fahrenheit - threshold)), in double precision.",
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="fclf-edge",
        ir_version=ONNX_IR_VERSION,
        doc_string="fclf-edge Fahrenheit above-freezing classifier",
    )
    set_metadata(model, metadata)
    return model


def set_metadata(model: onnx.ModelProto, metadata: Mapping[str, str]) -> None:
    """Replace metadata_props with `metadata`, sorted by key so the bytes are reproducible."""
    del model.metadata_props[:]
    for key in sorted(metadata):
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = str(metadata[key])
