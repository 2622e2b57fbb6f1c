"""train-model: fit the classifier and save a checkpoint."""

from __future__ import annotations

from typing import Any

import click

from fclf_edge.runtime.cliutil import (
    BoundedInt,
    EntryCommand,
    FiniteFloat,
    errors_to_exit_codes,
    progress_bar,
    require,
    stderr_is_tty,
)
from fclf_edge.runtime.errors import InvalidInputError

from .config import TrainConfig

_DEFAULTS = TrainConfig()


@click.command(
    cls=EntryCommand,  # console script: SIGTERM, guarded stdout, flush, fast exit, exit codes
    help="Train the Fahrenheit above-freezing classifier and save a checkpoint.\n\n"
    "Labels come from the formula C = (F - 32) / 1.8 (label 1 when C > 0) applied to samples, "
    "or from your own readings with --data-file; the model learns the boundary from them.",
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
    type=click.Choice(["range", "question", "seed"]),
    default=_DEFAULTS.data,
    show_default=True,
    help="range: real-valued samples over [--low, --high]; question: the question's integers "
    "-100..99 (also spelt seed). --data-file replaces both.",
)
@click.option(
    "--data-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Train on your own labelled readings: a CSV with a header row.",
)
@click.option(
    "--input-column",
    default=_DEFAULTS.input_column,
    show_default=True,
    help="Temperature column of --data-file (°F): header NAME or 0-based INDEX.",
)
@click.option(
    "--label-column",
    default=_DEFAULTS.label_column,
    show_default=True,
    help="Label column of --data-file (0 or 1): header NAME or 0-based INDEX.",
)
@click.option(
    "--holdout",
    type=FiniteFloat(min=0.0, max=1.0, max_open=True),
    default=_DEFAULTS.holdout,
    show_default=True,
    metavar="FRACTION",
    help="Hold this fraction of --data-file's rows out of the fit (chosen by --seed) and report "
    "accuracy on them.",
)
@click.option(
    "--on-invalid",
    type=click.Choice(["error", "skip"]),
    default=_DEFAULTS.on_invalid,
    show_default=True,
    help="For --data-file: error stops at the first bad row (exit 2); skip reports each bad row "
    "on stderr and trains on the rest.",
)
@click.option(
    "--delimiter",
    default=None,
    help="CSV delimiter of --data-file (one character, or 'tab'); default: detected among "
    ", ; TAB | as in fclf-edge predict.",
)
@click.option(
    "--decimal-comma",
    is_flag=True,
    default=_DEFAULTS.decimal_comma,
    help="--data-file writes 32,5 for 32.5 (not with a ',' delimiter).",
)
@click.option(
    "--encoding",
    default=None,
    help="Text encoding of --data-file (any codec Python knows, e.g. cp1252, latin-1, "
    "utf-16-le); default: UTF-8, or UTF-16 by its byte-order mark.",
)
# At most 2**26 (256 times the default): ~24 bytes each at peak, 1.6 GB; more adds nothing to a
# two-parameter fit that the refinement makes exact anyway.
@click.option(
    "--samples", type=BoundedInt(min=2, max=2**26), default=_DEFAULTS.samples, show_default=True
)
# The range's ends are temperatures: the runtime's own input checks (absolute zero, float32).
@click.option(
    "--low", type=FiniteFloat(temperature=True), default=_DEFAULTS.low, show_default=True, help="°F"
)
@click.option(
    "--high",
    type=FiniteFloat(temperature=True),
    default=_DEFAULTS.high,
    show_default=True,
    help="°F",
)
@click.option(
    "--objective",
    type=click.Choice(["logistic", "celsius"]),
    default=_DEFAULTS.objective,
    show_default=True,
    help="logistic: classify; celsius: fit the logit to the Celsius value (weights 5/9, -160/9).",
)
@click.option(
    "--l2",
    type=FiniteFloat(min=0.0, min_open=True),
    default=_DEFAULTS.l2,
    show_default=True,
    help="Ridge penalty on the standardised slope (logistic).",
)
@click.option("--max-steps", type=BoundedInt(min=1), default=_DEFAULTS.max_steps, show_default=True)
@click.option(
    "--refine/--no-refine",
    default=_DEFAULTS.refine,
    show_default=True,
    help="Bisect to the exact float32 boundary by asking the labeller (not with --data-file: "
    "a file has no labeller).",
)
# A 32-bit seed, as fclf-edge verify --seed takes.
@click.option(
    "--seed", type=BoundedInt(min=0, max=2**32 - 1), default=_DEFAULTS.seed, show_default=True
)
@click.option(
    "--rule-threshold",
    type=FiniteFloat(float32=True),  # the model's threshold is a float32
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
        if str(options.get("delimiter")).lower() in ("tab", "\\t"):
            options["delimiter"] = "\t"  # as fclf-edge predict: a tab is hard to type
        config = TrainConfig(**options)
        _check_file_options(config)
        require("torch", extra="train", command="train-model")
        from .report import summary  # torch is imported here, after argument parsing
        from .run import run_training

        def skipped(message: str) -> None:
            click.echo(message, err=True)

        with progress_bar(config.max_steps, "training", stderr_is_tty() and not quiet) as bar:
            tick = None
            if bar is not None:

                def tick(step: int, loss: float, boundary: float) -> None:
                    bar.label = f"training  loss {loss:.3e}  boundary {boundary:.5f} °F"
                    bar.update(1)

            run = run_training(config, out=out, plot=plot, progress=tick, on_skip=skipped)
            if bar is not None:
                bar.update(config.max_steps)  # converged early: fill the bar
        if not quiet:
            click.echo(summary(run))


def _check_file_options(config: TrainConfig) -> None:
    """Options that shape generated samples mean nothing with --data-file: say so, don't ignore."""
    ctx = click.get_current_context()
    explicit = {
        name
        for name in ("data", "samples", "low", "high", "refine")
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }
    if not ctx.params["refine"]:
        explicit.discard("refine")  # --no-refine is what a file gets anyway
    if config.data_file is not None and explicit:
        names = ", ".join(f"--{n}" for n in sorted(explicit))
        raise InvalidInputError(
            f"--data-file brings its own readings and labels: {names} cannot be used with it"
        )
    if config.data_file is None:
        for name in (
            "input_column",
            "label_column",
            "on_invalid",
            "delimiter",
            "decimal_comma",
            "encoding",
        ):
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
                raise InvalidInputError(f"--{name.replace('_', '-')} needs --data-file PATH")
