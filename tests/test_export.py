"""Export: a checked, dynamic-batch, self-describing ONNX file, gated on parity with PyTorch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import numpy_helper

from fclf_edge.export.convert import export_checkpoint
from fclf_edge.export.edge import DEFAULT_ONNX_OPSET
from fclf_edge.export.parity import ATOL_FOR_VALIDATION, check_parity, parity_inputs
from fclf_edge.runtime.errors import MismatchError
from fclf_edge.runtime.floats import next_up
from fclf_edge.runtime.formula import above_freezing
from fclf_edge.train.fit import TrainResult


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_checker_full_check_passes(onnx_path: Path) -> None:
    model = onnx.load(onnx_path)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == DEFAULT_ONNX_OPSET
    ops = [n.op_type for n in model.graph.node]
    assert ops[:2] == ["Sub", "Mul"]  # subtract first, then scale
    assert ops[-2:] == ["Greater", "Cast"]  # the label is one comparison with the threshold


def test_signature(onnx_path: Path) -> None:
    s = session(onnx_path)
    (inp,) = s.get_inputs()
    assert (inp.name, inp.type) == ("fahrenheit", "tensor(float)")
    assert isinstance(inp.shape[0], str)  # dynamic batch dimension
    assert {(o.name, o.type) for o in s.get_outputs()} == {
        ("probability", "tensor(float)"),
        ("label", "tensor(int64)"),
    }


@pytest.mark.parametrize("n", [1, 2, 7, 1_000_000])
def test_dynamic_batch(onnx_path: Path, trained: TrainResult, n: int) -> None:
    x = np.linspace(-459.67, 10_000, n, dtype=np.float32) if n > 1 else np.array([33.0], np.float32)
    probability, label = session(onnx_path).run(["probability", "label"], {"fahrenheit": x})
    assert probability.shape == label.shape == (n,)
    assert label.dtype == np.int64 and probability.dtype == np.float32
    assert np.array_equal(label, above_freezing(x))
    with torch.no_grad():
        p_ref, l_ref = trained.model(torch.from_numpy(x))
    assert np.array_equal(label, l_ref.numpy())
    assert np.max(np.abs(probability - p_ref.numpy())) <= ATOL_FOR_VALIDATION


def test_metadata_readable_with_onnxruntime(onnx_path: Path, trained: TrainResult) -> None:
    meta = session(onnx_path).get_modelmeta().custom_metadata_map
    assert float(meta["boundary_fahrenheit"]) == trained.boundary == 32.0
    assert float(meta["weight"]) == pytest.approx(trained.weight)
    assert float(meta["bias"]) == pytest.approx(trained.bias)
    assert meta["seed"] == "0"
    assert "Fahrenheit" in meta["units"]
    assert "above freezing" in meta["label_meaning"]
    assert meta["torch_version"] == str(torch.__version__)
    assert meta["onnx_version"] == onnx.__version__
    assert int(meta["parity_inputs"]) >= 1_000_000
    assert meta["parity_label_mismatches"] == "0"
    assert float(meta["parity_max_abs_diff"]) <= float(meta["parity_atol"]) <= 1e-6
    config = json.loads(meta["training_config"])
    assert config["samples"] == trained.config.samples and config["device"] == "cpu"
    assert "uniform float32 samples" in meta["training_data"]


def test_parity_inputs_cover_the_boundary_and_extremes() -> None:
    x = parity_inputs(32.0)
    assert len(x) >= 1_000_000
    assert np.float32(32.0) in x and next_up(32.0) in x and next_up(32.0, -100_000) in x
    assert np.float32(-459.67) in x and np.float32(10_000) in x


def _nudge_threshold(steps: int) -> object:
    def transform(model: onnx.ModelProto) -> None:
        for init in model.graph.initializer:
            if init.name == "threshold":
                value = numpy_helper.to_array(init)
                init.CopyFrom(numpy_helper.from_array(next_up(float(value), steps), "threshold"))

    return transform


def _scale_by(factor: float) -> object:
    def transform(model: onnx.ModelProto) -> None:
        for init in model.graph.initializer:
            if init.name == "scale":
                value = numpy_helper.to_array(init) * np.float32(factor)
                init.CopyFrom(numpy_helper.from_array(value.astype(np.float32), "scale"))

    return transform


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (_nudge_threshold(1), "label mismatches"),  # one float32 step: one input differs
        (_nudge_threshold(-3), "label mismatches"),
        (_scale_by(1.01), "probability differs"),
    ],
)
def test_parity_gate_fails_a_perturbed_graph(
    tmp_path: Path, checkpoint_path: Path, transform: object, message: str
) -> None:
    out = tmp_path / "bad.onnx"
    with pytest.raises(MismatchError, match=message):
        export_checkpoint(checkpoint_path, out, onnx_transform=transform)  # type: ignore[arg-type]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_parity_failure_keeps_an_existing_file(
    tmp_path: Path, checkpoint_path: Path, onnx_path: Path
) -> None:
    out = tmp_path / "model.onnx"
    out.write_bytes(onnx_path.read_bytes())
    with pytest.raises(MismatchError):
        export_checkpoint(checkpoint_path, out, onnx_transform=_nudge_threshold(1))  # type: ignore[arg-type]
    assert out.read_bytes() == onnx_path.read_bytes()


def test_parity_report_names_worst_cases(trained: TrainResult) -> None:
    x = np.array([31.0, 32.0, 33.0], np.float32)

    def wrong_runner(batch: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "probability": np.full(len(batch), 0.5, np.float32),
            "label": np.ones(len(batch), np.int64),
        }

    report = check_parity(trained.model, wrong_runner, x)
    assert not report.passed
    assert report.label_mismatches == 2
    text = report.describe()
    assert "worst cases" in text and "31.0" in text


def test_parity_checks_output_names(trained: TrainResult) -> None:
    report = check_parity(
        trained.model, lambda b: {"p": b, "label": b.astype(np.int64)}, np.ones(3, np.float32)
    )
    assert not report.passed and "output names" in report.failures[0]
