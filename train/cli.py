"""train-model: fit the classifier and save a checkpoint."""

from __future__ import annotations

from typing import Any

import click

from fclf_edge.runtime.cliutil import (
    EXIT_CODES_HELP,
    EntryCommand,
    errors_to_exit_codes,
    require,
    stderr_is_tty,
)

from .config import TrainConfig

_DEFAULTS = TrainConfig()


@click.command(
    cls=EntryCommand,  # console script: SIGTERM, guarded stdout, flush, fast exit
    help="Train the Fahrenheit above-freezing classifier and save a checkpoint.\n\n"
    "Labels come from the formula C = (F - 32) / 1.8 (label 1 when C > 0) applied to samples; "
    "the model learns the boundary from them.\n\n" + EXIT_CODES_HELP,
)
@click.version_option(package_name="fclf-edge")
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default=_DEFAULTS.device,
    show_default=True,
    help="Compute device. auto takes CUDA when present; cuda without CUDA exits with code 4.",
)
@click.option(
    "--data",
    type=click.Choice(["range", "seed"]),
    default=_DEFAULTS.data,
    show_default=True,
    help="range: real-valued samples over [--low, --high]; seed: the integers -100..99.",
)
@click.option("--samples", type=click.IntRange(min=2), default=_DEFAULTS.samples, show_default=True)
@click.option("--low", type=float, default=_DEFAULTS.low, show_default=True, help="°F")
@click.option("--high", type=float, default=_DEFAULTS.high, show_default=True, help="°F")
@click.option(
    "--objective",
    type=click.Choice(["logistic", "celsius"]),
    default=_DEFAULTS.objective,
    show_default=True,
    help="logistic: classify; celsius: fit the logit to the Celsius value (weights 5/9, -160/9).",
)
@click.option(
    "--l2",
    type=click.FloatRange(min=0.0, min_open=True),
    default=_DEFAULTS.l2,
    show_default=True,
    help="Ridge penalty on the standardised slope (logistic).",
)
@click.option(
    "--max-steps", type=click.IntRange(min=1), default=_DEFAULTS.max_steps, show_default=True
)
@click.option(
    "--refine/--no-refine",
    default=_DEFAULTS.refine,
    show_default=True,
    help="Bisect to the exact float32 boundary by asking the labeller.",
)
@click.option("--seed", type=int, default=_DEFAULTS.seed, show_default=True)
@click.option(
    "--rule-threshold",
    type=float,
    default=None,
    help="Label F > this value instead of the Celsius formula.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="model.pt",
    show_default=True,
    help="Checkpoint to write (atomically).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also draw the loss curve and the learned probability to this PNG "
    "(needs the 'plot' extra).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def main(out: str, plot: str | None, quiet: bool, **options: Any) -> None:
    with errors_to_exit_codes():
        config = TrainConfig(**options)
        require("torch", extra="train", command="train-model")
        from .run import run_training  # torch is imported here, after argument parsing

        run_training(
            config, out=out, plot=plot, quiet=quiet, progress=stderr_is_tty() and not quiet
        )
