"""Fit the classifier: standardise, L-BFGS on two parameters, then refine the threshold."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from fclf_edge.runtime.errors import DeviceUnavailableError, FclfError
from fclf_edge.runtime.formula import CELSIUS_RULE, Rule, threshold_rule

from .config import TrainConfig
from .data import integer_grid, make_inputs, uniform_grid
from .model import FahrenheitClassifier
from .refine import refine_threshold

# Called after every loss evaluation with (evaluation number, loss, current boundary in °F).
ProgressFn = Callable[[int, float, float], None]


@dataclass
class TrainResult:
    """What training produced and how well it does."""

    model: FahrenheitClassifier
    config: TrainConfig
    device: str
    seconds: float
    # The gradient fit in raw °F units, before refinement (logit = fit_weight · F + fit_bias).
    fit_weight: float
    fit_bias: float
    fit_boundary: float
    steps: int
    final_loss: float
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

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


def rule_for(config: TrainConfig) -> Rule:
    """The labelling rule the config asks for."""
    return CELSIUS_RULE if config.rule_threshold is None else threshold_rule(config.rule_threshold)


def train(
    config: TrainConfig,
    rule: Rule | None = None,
    progress: ProgressFn | None = None,
) -> TrainResult:
    """Train a FahrenheitClassifier on labels from `rule` (default: the config's rule)."""
    started = time.perf_counter()
    rule = rule or rule_for(config)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)

    x = make_inputs(config)
    labels = rule.label(x)
    if labels.min() == labels.max():
        raise FclfError(
            f"the training data has only label {int(labels[0])}: no boundary in "
            f"[{float(x.min())}, {float(x.max())}] °F to learn"
        )
    # Standardise: raw inputs of magnitude 100-1000 make the loss surface badly conditioned,
    # which is why plain SGD on raw °F crawls. Training runs in float64; the model is float32.
    mean, std = float(x.astype(np.float64).mean()), float(x.astype(np.float64).std())
    z = torch.from_numpy((x.astype(np.float64) - mean) / std).to(device)
    if config.objective == "celsius":
        target = torch.from_numpy(rule.score(x)).to(device)
    else:
        target = torch.from_numpy(labels.astype(np.float64)).to(device)

    losses: list[float] = []

    def report(params: torch.Tensor, loss: float) -> None:
        losses.append(loss)
        if progress is not None:
            a_now, c_now = float(params[0]), float(params[1])
            boundary = mean - c_now * std / a_now if a_now != 0 else float("nan")
            progress(len(losses), loss, boundary)

    if config.objective == "celsius":
        params = _fit_least_squares(z, target, report)
    else:
        params = _fit_logistic(z, target, config.l2, config.max_steps, report)
    a_fit, c_fit = float(params[0]), float(params[1])
    # Back to raw °F: logit = a·(F − mean)/std + c = w·F + b.
    fit_weight = a_fit / std
    fit_bias = c_fit - a_fit * mean / std
    if not (np.isfinite(fit_weight) and np.isfinite(fit_bias)) or fit_weight <= 0:
        raise FclfError(
            f"training diverged or found a decreasing rule (weight {fit_weight}, bias {fit_bias})"
        )
    fit_boundary = -fit_bias / fit_weight

    threshold = fit_boundary
    if config.refine:
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
        steps=len(losses),
        final_loss=losses[-1],
        losses=losses,
    )
    result.metrics = evaluate(model, rule, x, labels)
    return result


def _logistic_loss(z: torch.Tensor, y: torch.Tensor, l2: float, params: torch.Tensor) -> float:
    logit = params[0] * z + params[1]
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
    return float(bce) + 0.5 * l2 * float(params[0]) ** 2


def _fit_logistic(
    z: torch.Tensor,
    y: torch.Tensor,
    l2: float,
    max_steps: int,
    report: Callable[[torch.Tensor, float], None],
) -> torch.Tensor:
    """Minimise mean BCE-with-logits + l2/2 · a² over (a, c) by damped Newton steps.

    Two parameters make the exact 2x2 Hessian free, and Newton converges in tens of steps
    where first-order methods take thousands. Backtracking keeps every step a descent step.
    """
    params = torch.tensor([1.0, 0.0], dtype=torch.float64, device=z.device)
    loss = _logistic_loss(z, y, l2, params)
    report(params, loss)
    for _ in range(max_steps):
        p = torch.sigmoid(params[0] * z + params[1])
        r = p - y
        grad = torch.stack([(r * z).mean() + l2 * params[0], r.mean()])
        s = p * (1 - p)
        sz = s * z
        hess = torch.stack(
            [
                torch.stack([(sz * z).mean() + l2, sz.mean()]),
                torch.stack([sz.mean(), s.mean()]),
            ]
        )
        step = torch.linalg.solve(hess, grad)
        decrease = float(grad @ step)  # Newton decrement²: the predicted loss decrease, doubled
        if decrease < 1e-20:
            break
        t = 1.0
        while True:
            candidate = params - t * step
            new_loss = _logistic_loss(z, y, l2, candidate)
            if new_loss <= loss - 0.25 * t * decrease or t < 1e-10:
                break
            t *= 0.5
        params, loss = candidate, new_loss
        report(params, loss)
    return params


def _fit_least_squares(
    z: torch.Tensor,
    target: torch.Tensor,
    report: Callable[[torch.Tensor, float], None],
) -> torch.Tensor:
    """Least squares of the logit a·z + c on the target: one solve is the exact solution."""
    start = torch.zeros(2, dtype=torch.float64, device=z.device)
    report(start, float((target**2).mean()))
    # Normal equations: z is standardised, so the 2x2 system is perfectly conditioned.
    design = torch.stack([z, torch.ones_like(z)], dim=1)
    params: torch.Tensor = torch.linalg.solve(design.T @ design, design.T @ target)
    report(params, float(((params[0] * z + params[1] - target) ** 2).mean()))
    return params


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
