"""Training: the default run is exact, other rules are learned too, devices behave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fclf_edge.runtime.errors import DeviceUnavailableError, FclfError
from fclf_edge.runtime.floats import next_up
from fclf_edge.runtime.formula import above_freezing, threshold_rule
from fclf_edge.train.config import TrainConfig
from fclf_edge.train.data import integer_grid, uniform_grid
from fclf_edge.train.fit import TrainResult, predict_labels, resolve_device, train
from fclf_edge.train.refine import refine_threshold

from .conftest import CUDA_SKIP_REASON


def test_default_training_meets_the_bar(trained: TrainResult) -> None:
    m = trained.metrics
    assert m["question_test_labels"] == [1, 0]  # 33 -> 1, 32 -> 0
    assert m["question_test_accuracy"] == 1.0
    assert m["integers_accuracy"] == 1.0 and m["integers_count"] == 10_460
    assert m["grid_1m_accuracy"] == 1.0 and m["grid_1m_count"] == 1_000_000
    assert abs(trained.boundary - 32.0) <= 1e-3
    # The gradient fit alone gets close; refinement makes it exact.
    assert abs(trained.fit_boundary - 32.0) < 0.1
    assert trained.boundary == 32.0
    assert np.isfinite(trained.weight) and 0 < trained.weight < 100
    assert np.isfinite(trained.bias)
    assert trained.bias == pytest.approx(-trained.weight * 32.0, rel=1e-6)


def test_training_recomputed_metrics_agree(trained: TrainResult) -> None:
    grid, ints = uniform_grid(), integer_grid()
    assert np.array_equal(predict_labels(trained.model, grid), above_freezing(grid))
    assert np.array_equal(predict_labels(trained.model, ints), above_freezing(ints))


def test_converges_with_finite_weights_on_the_question_data() -> None:
    result = train(TrainConfig(device="cpu", data="seed", refine=False))
    # Integers -100..99 only pin the boundary to the gap (32, 33): the fit lands inside it.
    assert 32.0 < result.fit_boundary < 33.0
    assert np.isfinite(result.fit_weight) and result.fit_weight > 0
    assert result.metrics["question_test_labels"] == [1, 0]
    assert result.metrics["train_accuracy"] == 1.0


@pytest.mark.parametrize("threshold", [37.5, -40.0, 98.6, 0.0, -459.0, 451.0])
def test_learns_other_rules(threshold: float) -> None:
    """The boundary comes from the labels: another rule gives another, exact, boundary."""
    rule = threshold_rule(threshold)
    result = train(TrainConfig(device="cpu", rule_threshold=threshold))
    t = result.boundary
    assert rule.label(np.float32(t)) == 0 and rule.label(next_up(t)) == 1
    assert abs(t - threshold) <= 1e-3
    assert result.metrics["integers_accuracy"] == 1.0
    assert result.metrics["grid_1m_accuracy"] == 1.0


def test_unrefined_fit_is_close_but_not_exact(trained: TrainResult) -> None:
    """Without refinement the boundary is the gradient fit's, within its sample spacing."""
    result = train(TrainConfig(device="cpu", refine=False))
    assert result.boundary == pytest.approx(np.float32(result.fit_boundary))
    assert abs(result.boundary - 32.0) < 0.1


def test_celsius_objective_recovers_the_expected_weights() -> None:
    result = train(TrainConfig(device="cpu", objective="celsius"))
    assert result.fit_weight == pytest.approx(5 / 9, abs=1e-5)
    assert result.fit_bias == pytest.approx(-160 / 9, abs=1e-5)
    assert result.boundary == 32.0
    assert result.metrics["grid_1m_accuracy"] == 1.0
    assert result.metrics["integers_accuracy"] == 1.0


def test_one_class_data_is_a_clear_error() -> None:
    with pytest.raises(FclfError, match="only label"):
        train(TrainConfig(device="cpu", rule_threshold=5000.0))


def test_seed_changes_the_data_not_the_boundary() -> None:
    a = train(TrainConfig(device="cpu", seed=1))
    b = train(TrainConfig(device="cpu", seed=2))
    assert a.fit_boundary != b.fit_boundary
    assert a.boundary == b.boundary == 32.0


@pytest.mark.parametrize("start", [-400.0, 0.0, 31.99, 32.0, 32.01, 900.0])
def test_refine_finds_the_last_negative_float(start: float) -> None:
    t = refine_threshold(above_freezing, start, -459.67, 1000.0)
    assert t == 32.0
    assert above_freezing(np.float32(t)) == 0 and above_freezing(next_up(t)) == 1


def test_refine_without_a_boundary_fails() -> None:
    with pytest.raises(FclfError, match="no boundary"):
        refine_threshold(above_freezing, 0.0, 40.0, 100.0)


def test_cpu_device() -> None:
    assert resolve_device("cpu").type == "cpu"


def test_auto_device_picks_cuda_only_when_present() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cuda_request_without_cuda_is_an_error() -> None:
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
        return
    with pytest.raises(DeviceUnavailableError, match="CUDA is not available"):
        resolve_device("cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason=CUDA_SKIP_REASON)
def test_cuda_training_matches_cpu(trained: TrainResult) -> None:
    gpu = train(TrainConfig(device="cuda"))
    assert gpu.device.startswith("cuda")
    assert gpu.boundary == trained.boundary
    assert gpu.weight == pytest.approx(trained.weight, rel=1e-6)
    assert gpu.metrics["grid_1m_accuracy"] == 1.0
    grid = uniform_grid()
    assert np.array_equal(predict_labels(gpu.model, grid), predict_labels(trained.model, grid))


def test_every_train_model_option_maps_to_the_config() -> None:
    """One dataclass holds every training knob; the CLI adds only I/O options."""
    from dataclasses import fields

    from fclf_edge.train.cli import main

    options = {p.name for p in main.params if p.name not in ("version", "help")}
    io_only = {"out", "plot", "quiet"}
    assert options - io_only == {f.name for f in fields(TrainConfig)}
    source = (Path(__file__).resolve().parents[1] / "train" / "config.py").read_text()
    for f in fields(TrainConfig):
        # each default carries a why-comment on the line(s) just above it
        before = source.split(f"    {f.name}: ")[0].rstrip().splitlines()[-1]
        assert before.strip().startswith("#"), f.name


def test_the_library_returns_the_run_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fclf_edge.train.report import summary
    from fclf_edge.train.run import run_training

    run = run_training(TrainConfig(device="cpu", data="question"), out=str(tmp_path / "m.pt"))
    assert capsys.readouterr() == ("", "")
    assert run.result.boundary == 32.0 and (tmp_path / "m.pt").exists()
    text = summary(run)
    assert "boundary -b/w 32.0 °F (refined to the exact float32 boundary)" in text
    assert text.endswith(f"checkpoint      {tmp_path / 'm.pt'}")
