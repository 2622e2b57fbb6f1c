"""export-onnx: convert a checkpoint to ONNX, gated on PyTorch/onnxruntime parity."""

from __future__ import annotations

import time

import click

from fclf_edge.runtime.cliutil import (
    EntryCommand,
    errors_to_exit_codes,
    progress_bar,
    require,
    stderr_is_tty,
)


@click.command(
    cls=EntryCommand,  # console script: SIGTERM, guarded stdout, flush, fast exit, exit codes
    help="Convert a train-model checkpoint, or the state_dict of a one-input Linear model, to "
    "a self-describing ONNX model with torch.onnx.export.\n\n"
    "Accepted state_dict spellings: linear.weight/linear.bias (a module with self.linear = "
    "nn.Linear(1, 1)), weight/bias (nn.Linear(1, 1)), 0.weight/0.bias (nn.Sequential(nn.Linear"
    "(1, 1), nn.Sigmoid())); a whole pickled model is refused (exit 3).\n\n"
    "Before writing, PyTorch and onnxruntime are run on over a million inputs; any label "
    "difference, or a probability difference above the ATOL, fails the export with exit code 1 "
    "and writes nothing.",
)
@click.version_option(package_name="fclf-edge")
@click.argument("checkpoint", type=click.Path(dir_okay=True), default="model.pt", required=False)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="model.onnx",
    show_default=True,
    help="ONNX file to write (atomically, only after the parity gate passes).",
)
@click.option(
    "--ort",
    is_flag=True,
    help="Also write OUT with the .ort suffix (ORT format, for onnxruntime's minimal builds) "
    "and its .required_operators.config, through onnxruntime's converter.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def main(checkpoint: str, out: str, ort: bool, quiet: bool) -> None:
    """CHECKPOINT defaults to model.pt, train-model's default output."""
    with errors_to_exit_codes():
        require("torch", "onnx", "onnxscript", extra="train", command="export-onnx")
        from .convert import export_checkpoint
        from .parity import ATOL_FOR_VALIDATION, PARITY_INPUTS

        started = time.perf_counter()
        with progress_bar(PARITY_INPUTS, "parity gate", stderr_is_tty() and not quiet) as bar:
            result = export_checkpoint(
                checkpoint, out, ort=ort, progress=bar.update if bar else None
            )
        if quiet:
            return
        r = result.parity
        m = result.metadata
        click.echo(
            "\n".join(
                [
                    f"wrote           {result.path} ({result.size} bytes, opset {m['opset']})",
                    f"model           boundary {m['boundary_fahrenheit']} °F, "
                    f"weight {m['weight']}, bias {m['bias']}",
                    *([f"source          {m['source_model']}"] if "source_model" in m else []),
                    f"parity gate     {r.inputs:,} inputs: {r.label_mismatches} label mismatches, "
                    f"max |p_torch - p_onnx| {r.max_abs_diff:.3g} "
                    f"(ATOL {ATOL_FOR_VALIDATION:g}): passed",
                    *(
                        [f"ort             {result.ort_path} (+ .required_operators.config)"]
                        if result.ort_path
                        else []
                    ),
                    f"time            {time.perf_counter() - started:.2f} s",
                ]
            )
        )
