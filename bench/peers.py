"""The alternatives a user would otherwise pick, implemented faithfully for the benchmark.

- the question's pipeline: Linear(1, 1) + Sigmoid, BCELoss, per-sample SGD (lr 0.1) for 1000
  epochs over the integers -100..99, raw inputs, as the learner wrote it;
- scikit-learn's LogisticRegression on the same integers, exported with skl2onnx;
- a PyTorch Linear + Sigmoid exported by hand with torch.onnx.export (the dynamo exporter).

Run as a script (`python bench/peers.py seed|sklearn EPOCHS`) for whole-process timings.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

SEED_X = np.arange(-100, 100, dtype=np.float32)


def seed_labels(x: np.ndarray) -> np.ndarray:
    return ((x.astype(np.float64) - 32.0) / 1.8 > 0).astype(np.float32)


def train_seed_pipeline(epochs: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The question's model and loop. Returns weight, bias, boundary, fit seconds."""
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    loss_fn = torch.nn.BCELoss()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    xs = torch.from_numpy(SEED_X).reshape(-1, 1)
    ys = torch.from_numpy(seed_labels(SEED_X)).reshape(-1, 1)
    started = time.perf_counter()
    for _ in range(epochs):
        for x, y in zip(xs, ys, strict=True):
            optimiser.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimiser.step()
    seconds = time.perf_counter() - started
    w = float(model[0].weight.item())
    b = float(model[0].bias.item())
    return {"weight": w, "bias": b, "boundary": -b / w, "fit_seconds": seconds, "model": model}


def seed_pipeline_labels(model: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        p = model(torch.from_numpy(x.astype(np.float32)).reshape(-1, 1)).numpy().ravel()
    return (p > 0.5).astype(np.int64)


def train_sklearn() -> dict[str, Any]:
    """LogisticRegression with default settings on the question's integers."""
    from sklearn.linear_model import LogisticRegression

    x = SEED_X.reshape(-1, 1)
    y = seed_labels(SEED_X).astype(np.int64)
    started = time.perf_counter()
    clf = LogisticRegression().fit(x, y)
    seconds = time.perf_counter() - started
    w, b = float(clf.coef_[0, 0]), float(clf.intercept_[0])
    return {"weight": w, "bias": b, "boundary": -b / w, "fit_seconds": seconds, "model": clf}


def sklearn_to_onnx(clf: Any) -> bytes:
    """skl2onnx export: float input [N, 1], outputs label and probabilities (no ZipMap)."""
    from skl2onnx import to_onnx

    onx = to_onnx(
        clf,
        np.zeros((2, 1), dtype=np.float32),
        options={id(clf): {"zipmap": False}},
        target_opset=17,
    )
    data: bytes = onx.SerializeToString()
    return data


def hand_torch_export(weight: float, bias: float) -> bytes:
    """What a user writes by hand: Linear + Sigmoid through torch.onnx.export (dynamo)."""
    import io
    import warnings

    import torch

    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.fill_(weight)
        model[0].bias.fill_(bias)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model,
            (torch.zeros(2, 1),),
            dynamo=True,
            input_names=["fahrenheit"],
            output_names=["probability"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=18,
            verbose=False,
        )
    assert program is not None
    buffer = io.BytesIO()
    program.save(buffer)  # type: ignore[arg-type]
    return buffer.getvalue()


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "seed":
        result = train_seed_pipeline(int(sys.argv[2]))
    else:
        result = train_sklearn()
    print(f"boundary {result['boundary']:.6f}")


def graph_variants(scale: float, threshold: float) -> dict[str, bytes]:
    """Alternatives to the shipped graph, same parameters, for the throughput comparison."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def build(nodes: list[Any], outputs: list[tuple[str, int]]) -> bytes:
        used = {name for node in nodes for name in node.input}
        graph = helper.make_graph(
            nodes,
            "variant",
            [helper.make_tensor_value_info("fahrenheit", TensorProto.FLOAT, ["batch"])],
            [helper.make_tensor_value_info(n, t, ["batch"]) for n, t in outputs],
            initializer=[
                numpy_helper.from_array(np.array(value, np.float32), name)
                for name, value in (("threshold", threshold), ("scale", scale))
                if name in used
            ],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model.SerializeToString()

    label = [
        helper.make_node("Greater", ["fahrenheit", "threshold"], ["above"]),
        helper.make_node("Cast", ["above"], ["label"], to=TensorProto.INT64),
    ]
    float32_sigmoid = [
        helper.make_node("Sub", ["fahrenheit", "threshold"], ["offset"]),
        helper.make_node("Mul", ["offset", "scale"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    return {
        "label only (Greater + Cast)": build(label, [("label", TensorProto.INT64)]),
        "label + float32 Sigmoid probability": build(
            float32_sigmoid + label,
            [("probability", TensorProto.FLOAT), ("label", TensorProto.INT64)],
        ),
    }
