"""The train-model job: train, report, save (and plot)."""

from __future__ import annotations

import time
from typing import Any

import click
import numpy as np
import torch

from fclf_edge.runtime.cliutil import progress_bar

from .checkpoint import save_checkpoint
from .config import TrainConfig
from .fit import ProgressFn, TrainResult, train


def run_training(
    config: TrainConfig, *, out: str, plot: str | None, quiet: bool, progress: bool
) -> TrainResult:
    """Train with `config`, print the summary, write the checkpoint (and the plot)."""
    if plot is not None:
        from .plot import require_matplotlib

        require_matplotlib()  # fail before training, not after
    started = time.perf_counter()
    with progress_bar(config.max_steps, "training", progress) as bar:
        tick: ProgressFn | None = None
        if bar is not None:

            def update(step: int, loss: float, boundary: float) -> None:
                bar.label = f"training  loss {loss:.3e}  boundary {boundary:.5f} °F"
                bar.update(1)

            tick = update
        result = train(config, progress=tick)
        if bar is not None:
            bar.update(config.max_steps)  # converged early: fill the bar
    save_checkpoint(out, result.model, config, result.metrics, checkpoint_info(result))
    if plot is not None:
        from .plot import plot_training

        plot_training(result, plot)
    if not quiet:
        click.echo(summary(result, time.perf_counter() - started, out, plot))
    return result


def checkpoint_info(result: TrainResult) -> dict[str, Any]:
    """How the model was made. Versions, not timestamps: the checkpoint must be reproducible."""
    return {
        "device": result.device.split(":")[0],
        "fit_weight": result.fit_weight,
        "fit_bias": result.fit_bias,
        "fit_boundary": result.fit_boundary,
        "steps": result.steps,
        "final_loss": result.final_loss,
        "training_data": describe_data(result.config),
        "torch_version": str(torch.__version__),
        "numpy_version": str(np.__version__),
    }


def describe_data(config: TrainConfig) -> str:
    """One line on what the model was trained on."""
    rule = (
        "label 1 when (F - 32) / 1.8 > 0"
        if config.rule_threshold is None
        else f"label 1 when F > {config.rule_threshold:g}"
    )
    if config.data == "seed":
        data = "the integers -100..99 °F"
    else:
        data = (
            f"{config.samples} uniform float32 samples over "
            f"[{config.low:g}, {config.high:g}] °F (seed {config.seed})"
        )
    refine = "; threshold refined by float32 bisection" if config.refine else ""
    return f"{data}, {rule}{refine}"


def summary(result: TrainResult, seconds: float, out: str, plot: str | None) -> str:
    """The end-of-training report, in raw °F units."""
    m = result.metrics
    device = result.device
    if result.config.device == "auto":
        found = "CUDA available" if device.startswith("cuda") else "no CUDA on this machine"
        device += f" (chosen by --device auto: {found})"
    lines = [
        f"device          {device}",
        f"time            {seconds:.3f} s total, fit {result.seconds:.3f} s "
        f"({result.steps} {'Newton' if result.config.objective == 'logistic' else 'solve'} steps)",
        f"objective       {result.config.objective}, final loss {result.final_loss:.6g}",
        f"fit             weight {result.fit_weight:.6f} /°F, bias {result.fit_bias:.6f}, "
        f"boundary {result.fit_boundary:.6f} °F",
        f"model           weight {result.weight:.6f} /°F, bias {result.bias:.6f}, "
        f"boundary -b/w {result.boundary!r} °F"
        + (" (refined to the exact float32 boundary)" if result.config.refine else ""),
        f"accuracy        (a) [33, 32] -> {m['question_test_labels']}: "
        f"{m['question_test_accuracy']:.2%}",
        f"                (b) every integer in [-459, 10000]: {m['integers_accuracy']:.4%} "
        f"({m['integers_errors']} wrong of {m['integers_count']})",
        f"                (c) 1,000,000-point float32 grid over [-459.67, 1000]: "
        f"{m['grid_1m_accuracy']:.4%} ({m['grid_1m_errors']} wrong)",
        f"checkpoint      {out}",
    ]
    if plot is not None:
        lines.append(f"plot            {plot}")
    return "\n".join(lines)
