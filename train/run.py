"""The train-model job as a library call: train, save the checkpoint (and the plot), return."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .checkpoint import save_checkpoint
from .config import TrainConfig
from .datafile import SkipFn
from .fit import ProgressFn, TrainResult, train
from .placement import shown


@dataclass
class TrainRun:
    """A finished train-model job: the result, where it was written, and the total time."""

    result: TrainResult
    out: str
    plot: str | None
    seconds: float  # the whole job: reading, fitting, evaluating, saving, plotting


def run_training(
    config: TrainConfig,
    *,
    out: str,
    plot: str | None = None,
    progress: ProgressFn | None = None,
    on_skip: SkipFn | None = None,
) -> TrainRun:
    """Train with `config`, write the checkpoint to `out` (and the plot), and return the run.

    Nothing is printed; `report.summary` turns the run into the text train-model shows.
    """
    if plot is not None:
        from .plot import require_matplotlib

        require_matplotlib()  # fail before training, not after
    started = time.perf_counter()
    result = train(config, progress=progress, on_skip=on_skip)
    save_checkpoint(out, result.model, config, result.metrics, checkpoint_info(result))
    if plot is not None:
        from .plot import plot_training

        plot_training(result, plot)
    return TrainRun(result, out, plot, time.perf_counter() - started)


def checkpoint_info(result: TrainResult) -> dict[str, Any]:
    """How the model was made. Versions, not timestamps: the checkpoint must be reproducible."""
    info: dict[str, Any] = {
        "device": result.device.split(":")[0],
        "fit_weight": result.fit_weight,
        "fit_bias": result.fit_bias,
        "fit_boundary": result.fit_boundary,
        "steps": result.steps,
        "final_loss": result.final_loss,
        "threshold_placement": result.placement,
        "training_data": describe_data(result),
        "torch_version": str(torch.__version__),
        "numpy_version": str(np.__version__),
    }
    if result.config.data == "file":
        info["training_file"] = training_file_record(result)
    return info


def training_file_record(result: TrainResult) -> dict[str, Any]:
    """What a model trained from a file was trained on, as plain data (never the file's path).

    Keys: name, sha256, rows_read (data rows, header excluded), rows_used (rows the fit saw),
    rows_holdout, rows_skipped (invalid rows left out by --on-invalid skip), input_column,
    label_column, holdout (the fraction asked for), separable, label_gap ([largest reading
    labelled 0, smallest labelled 1] among the rows used), threshold_placement ("gap middle" or
    "fewest errors"), threshold_interval ([low, high): the thresholds with the fewest training
    rows wrong), train_accuracy, train_errors, and holdout_accuracy with --holdout.
    """
    assert result.data is not None
    data, m = result.data, result.metrics
    return {
        **{k: data.file[k] for k in ("name", "sha256", "rows_read")},
        "rows_used": len(data.x),
        "rows_holdout": 0 if data.holdout_x is None else len(data.holdout_x),
        "rows_skipped": data.file["rows_skipped"],
        "input_column": data.file["input_column"],
        "label_column": data.file["label_column"],
        "holdout": result.config.holdout,
        "separable": result.separable,
        "label_gap": list(result.label_gap) if result.label_gap is not None else None,
        "threshold_placement": result.placement,
        "threshold_interval": (
            [result.interval.low, result.interval.high] if result.interval is not None else None
        ),
        "train_accuracy": m["train_accuracy"],
        "train_errors": m["train_errors"],
        **({"holdout_accuracy": m["holdout_accuracy"]} if "holdout_accuracy" in m else {}),
    }


def describe_data(result: TrainResult) -> str:
    """One line on what the model was trained on."""
    config = result.config
    if config.data == "file":
        record = training_file_record(result)
        held = f", {record['rows_holdout']} held out" if record["rows_holdout"] else ""
        if result.separable:
            low, high = record["label_gap"]
            placed = (
                f"separable; threshold at the middle of the gap ({shown(low)}, {shown(high)}) °F"
            )
        else:
            low, high = record["threshold_interval"]
            placed = (
                f"not separable; threshold at the middle of [{shown(low)}, {shown(high)}) °F, "
                f"where the fewest rows are wrong ({record['train_errors']})"
            )
        return (
            f"{record['name']} (sha256 {record['sha256'][:12]}): {record['rows_used']} rows "
            f"used{held}, {record['rows_skipped']} skipped; column {record['input_column']!r} "
            f"labelled by {record['label_column']!r}; {placed}"
        )
    rule = (
        "label 1 when (F - 32) / 1.8 > 0"
        if config.rule_threshold is None
        else f"label 1 when F > {config.rule_threshold:g}"
    )
    if config.data == "question":
        data = "the integers -100..99 °F"
    else:
        data = (
            f"{config.samples} uniform float32 samples over "
            f"[{config.low:g}, {config.high:g}] °F (seed {config.seed})"
        )
    refine = "; threshold refined by float32 bisection" if config.refine else ""
    return f"{data}, {rule}{refine}"
