"""Fit the classifier: standardise, Newton steps by autograd on two parameters, place the threshold.

Where the threshold goes depends on what the labels can say:
- with a labeller (the formula, `--rule-threshold`), refinement asks it about float32 points
  and the threshold becomes exact;
- from a data file, the labels can only choose an interval between two consecutive readings:
  the one that gets the fewest training rows wrong (for separable labels, the gap between the
  largest reading labelled 0 and the smallest labelled 1), and the threshold goes to its middle,
  as a maximum-margin classifier would put it (see `placement`).
The logistic fit gives the slope, the probability's steepness, in every case.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from fclf_edge.runtime.errors import DeviceUnavailableError, FclfError, InvalidInputError
from fclf_edge.runtime.formula import CELSIUS_RULE, Rule, threshold_rule

from .config import TrainConfig
from .data import TrainingData, integer_grid, make_inputs, split_holdout, uniform_grid
from .datafile import SkipFn, read_labelled_csv
from .model import FahrenheitClassifier, StandardisedLogit
from .newton import newton_minimise
from .placement import Interval, LabelCounts, count_labels, fewest_errors
from .refine import refine_threshold

# Called before the first Newton step and after each one with (count, loss, boundary in °F).
ProgressFn = Callable[[int, float, float], None]
# How the threshold was placed (see the module docstring).
Placement = Literal["refined", "gap middle", "fewest errors", "fit"]


@dataclass
class TrainResult:
    """What training produced and how well it does."""

    model: FahrenheitClassifier
    config: TrainConfig
    device: str
    seconds: float  # train() from start to end: reading, fitting, placing, evaluating
    # The gradient fit in raw °F units, before the threshold is placed (logit = w · F + b).
    fit_weight: float
    fit_bias: float
    fit_boundary: float
    steps: int  # Newton steps taken
    final_loss: float
    losses: list[float] = field(default_factory=list)  # before the first step, then per step
    metrics: dict[str, Any] = field(default_factory=dict)
    placement: Placement = "fit"
    # Data files: (largest reading labelled 0, smallest labelled 1) among the training rows.
    # Separable when the first is below the second: the boundary lies somewhere in that gap.
    label_gap: tuple[float, float] | None = None
    # Data files: the interval of thresholds that gets the fewest training rows wrong.
    interval: Interval | None = None
    # The training set (not saved in the checkpoint): for plots and reports.
    data: TrainingData | None = None
    read_seconds: float = 0.0  # of `seconds`: making or reading the training set

    @property
    def weight(self) -> float:
        return self.model.weight

    @property
    def bias(self) -> float:
        return self.model.bias

    @property
    def boundary(self) -> float:
        """The model's decision boundary −b/w: the threshold, in °F."""
        return float(self.model.threshold.item())

    @property
    def separable(self) -> bool:
        return self.label_gap is not None and self.label_gap[0] < self.label_gap[1]


def resolve_device(choice: str) -> torch.device:
    """Map --device to a torch.device; `cuda` without CUDA is an error, never a fallback."""
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                "--device cuda: CUDA is not available on this machine "
                f"(torch {torch.__version__}); use --device cpu or --device auto"
            )
        return torch.device("cuda")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    raise FclfError(f"--device must be auto, cpu or cuda, got {choice!r}")


def rule_for(config: TrainConfig) -> Rule | None:
    """The labelling rule the config asks for; None for a data file (its labels are given)."""
    if config.data == "file":
        return None
    return CELSIUS_RULE if config.rule_threshold is None else threshold_rule(config.rule_threshold)


def load_data(
    config: TrainConfig, rule: Rule | None, on_skip: SkipFn | None = None
) -> TrainingData:
    """The training set the config asks for: labelled by `rule`, or read from the data file."""
    if config.data != "file":
        assert rule is not None
        x = make_inputs(config)
        return TrainingData(x, rule.label(x))
    assert config.data_file is not None
    readings = read_labelled_csv(
        config.data_file,
        config.input_column,
        config.label_column,
        config.on_invalid,
        on_skip,
        delimiter=config.delimiter,
        decimal_comma=config.decimal_comma,
        encoding=config.encoding,
    )
    data = split_holdout(readings.fahrenheit, readings.labels, config.holdout, config.seed)
    data.file = readings.describe()
    return data


def train(
    config: TrainConfig,
    rule: Rule | None = None,
    progress: ProgressFn | None = None,
    on_skip: SkipFn | None = None,
) -> TrainResult:
    """Train a FahrenheitClassifier on labels from `rule` (default: the config's) or its file.

    Args:
        config: what to train on and how.
        rule: a labeller to use instead of the config's formula (not with a data file).
        progress: called before the first Newton step and after each (for a progress bar).
        on_skip: told about each row `--on-invalid skip` leaves out of a data file.

    Raises:
        InvalidInputError: unusable data (one class only, a bad file, a decreasing rule).
        DeviceUnavailableError: `device="cuda"` without CUDA.
    """
    started = time.perf_counter()
    if rule is not None and config.data == "file":
        raise InvalidInputError("a data file brings its own labels: pass no rule with it")
    rule = rule or rule_for(config)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)

    data = load_data(config, rule, on_skip)
    read_seconds = time.perf_counter() - started
    x, labels = data.x, data.labels
    _require_two_classes(config, data)
    counts = count_labels(x, labels) if config.data == "file" else None
    fit = _fit(config, rule, x, labels, counts, device, progress)
    fit_weight, fit_bias = fit.module.raw()
    if not (np.isfinite(fit_weight) and np.isfinite(fit_bias)) or fit_weight <= 0:
        raise InvalidInputError(
            f"the fit found no rising boundary (weight {fit_weight:.6g} /°F, bias {fit_bias:.6g}):"
            " label 1 must mean the warmer side, more often than not"
        )
    fit_boundary = -fit_bias / fit_weight

    placement: Placement = "fit"
    threshold = fit_boundary
    label_gap = interval = None
    if counts is not None:
        label_gap = (
            float(counts.values[counts.zeros > 0].max()),
            float(counts.values[counts.ones > 0].min()),
        )
        interval = fewest_errors(counts, fit_boundary)
        threshold = interval.threshold
        placement = "gap middle" if interval.errors == 0 else "fewest errors"
    elif config.refine:
        assert rule is not None
        placement = "refined"
        threshold = refine_threshold(rule.label, fit_boundary, config.low, config.high)
    model = FahrenheitClassifier(scale=fit_weight, threshold=threshold).to(device)
    seconds = time.perf_counter() - started

    result = TrainResult(
        model=model,
        config=config,
        device=str(device),
        seconds=seconds,
        fit_weight=fit_weight,
        fit_bias=fit_bias,
        fit_boundary=fit_boundary,
        steps=fit.steps,
        final_loss=fit.losses[-1],
        losses=fit.losses,
        placement=placement,
        label_gap=label_gap,
        interval=interval,
        data=data,
        read_seconds=read_seconds,
    )
    if rule is None:
        result.metrics = evaluate_file(model, data)
    else:
        result.metrics = evaluate(model, rule, x, labels)
    return result


@dataclass
class _Fit:
    module: StandardisedLogit
    steps: int
    losses: list[float]


def _fit(
    config: TrainConfig,
    rule: Rule | None,
    x: np.ndarray,
    labels: np.ndarray,
    counts: LabelCounts | None,
    device: torch.device,
    progress: ProgressFn | None,
) -> _Fit:
    """Minimise the objective over the standardised slope and intercept by Newton steps.

    With `counts` (a data file), each distinct (reading, label) pair enters the loss once,
    weighted by how many rows carry it: the same loss as one term per row, and readings logged
    to a tenth of a degree make 10 million rows a few thousand terms.
    """
    weights = None
    if counts is not None:
        has_1, has_0 = counts.ones > 0, counts.zeros > 0
        x = np.concatenate([counts.values[has_1], counts.values[has_0]])
        labels = np.concatenate([np.ones(int(has_1.sum())), np.zeros(int(has_0.sum()))])
        weights = np.concatenate([counts.ones[has_1], counts.zeros[has_0]]).astype(np.float64)
    x64 = x.astype(np.float64)
    if weights is None:
        mean, std = float(x64.mean()), float(x64.std())
    else:
        mean = float(np.average(x64, weights=weights))
        std = float(np.sqrt(np.average((x64 - mean) ** 2, weights=weights)))
    if not std > 0:
        raise InvalidInputError(
            f"every training reading is {float(x[0])!r} °F: one temperature has no boundary"
        )
    module = StandardisedLogit(mean, std).to(device)
    z = module.standardise(torch.from_numpy(x).to(device))
    del x64
    loss_fn: Callable[[], torch.Tensor]
    if config.objective == "celsius":
        assert rule is not None
        score = torch.from_numpy(rule.score(x)).to(device)

        def loss_fn() -> torch.Tensor:
            # Least squares of the logit on the Celsius value: quadratic, so one Newton step
            # lands on the optimum.
            loss: torch.Tensor = ((module(z) - score) ** 2).mean()
            return loss

    else:
        y = torch.from_numpy(labels.astype(np.float64)).to(device)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        ridge = 0.5 * config.l2
        if weights is None:

            def loss_fn() -> torch.Tensor:
                return bce(module(z), y) + ridge * module.slope**2

        else:
            w = torch.from_numpy(weights).to(device)
            rows = float(weights.sum())

            def loss_fn() -> torch.Tensor:
                return bce(module(z), y, weight=w, reduction="sum") / rows + ridge * module.slope**2

    losses: list[float] = []

    def report(loss: float) -> None:
        losses.append(loss)
        if progress is not None:
            weight, bias = module.raw()
            progress(len(losses), loss, -bias / weight if weight != 0 else float("nan"))

    steps = newton_minimise(module, loss_fn, config.max_steps, report)
    return _Fit(module, steps, losses)


def _require_two_classes(config: TrainConfig, data: TrainingData) -> None:
    x, labels = data.x, data.labels
    if labels.min() != labels.max():
        return
    only = int(labels[0])
    if config.data != "file":
        raise InvalidInputError(
            f"the training data has only label {only}: no boundary in "
            f"[{float(x.min())}, {float(x.max())}] °F to learn"
        )
    where = "the rows left after --holdout have" if data.holdout_x is not None else "has"
    raise InvalidInputError(
        f"data file {data.file['name']} {where} only label {only} ({len(x)} rows): "
        "a boundary needs readings of both classes"
    )


@torch.no_grad()
def predict_labels(model: FahrenheitClassifier, x: np.ndarray) -> np.ndarray:
    """Labels from the PyTorch model on its own device."""
    device = model.threshold.device
    _, label = model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device))
    labels: np.ndarray = label.cpu().numpy()
    return labels


def evaluate(
    model: FahrenheitClassifier, rule: Rule, train_x: np.ndarray, train_labels: np.ndarray
) -> dict[str, Any]:
    """Accuracy on the question's test, the integers, a 1M float32 grid and the training set."""
    sets = {
        "question_test": np.array([33.0, 32.0], dtype=np.float32),
        "integers": integer_grid(),
        "grid_1m": uniform_grid(),
    }
    metrics: dict[str, Any] = {}
    for name, values in sets.items():
        predicted = predict_labels(model, values)
        wrong = int(np.count_nonzero(predicted != rule.label(values)))
        metrics[f"{name}_accuracy"] = 1.0 - wrong / len(values)
        metrics[f"{name}_errors"] = wrong
        metrics[f"{name}_count"] = len(values)
    predicted = predict_labels(model, train_x)
    metrics["train_accuracy"] = float(np.mean(predicted == train_labels))
    metrics["question_test_labels"] = [int(v) for v in predict_labels(model, sets["question_test"])]
    return metrics


def evaluate_file(model: FahrenheitClassifier, data: TrainingData) -> dict[str, Any]:
    """Accuracy against the file's own labels: on the training rows, and on held-out rows.

    There is no formula to compare with: the labels are the truth the model is measured by.
    """
    metrics: dict[str, Any] = {}
    parts = [("train", data.x, data.labels)]
    if data.holdout_x is not None and data.holdout_labels is not None:
        parts.append(("holdout", data.holdout_x, data.holdout_labels))
    for name, x, labels in parts:
        wrong = int(np.count_nonzero(predict_labels(model, x) != labels))
        metrics[f"{name}_accuracy"] = 1.0 - wrong / len(x)
        metrics[f"{name}_errors"] = wrong
        metrics[f"{name}_count"] = len(x)
    question = np.array([33.0, 32.0], dtype=np.float32)
    metrics["question_test_labels"] = [int(v) for v in predict_labels(model, question)]
    return metrics
