"""Regenerate the bundled default model: `python -m fclf_edge.export.bundle [--out PATH]`.

Runs what a user runs, train-model and export-onnx with default settings (on the CPU, so the
bytes do not depend on a GPU being present), and writes runtime/models/fahrenheit.onnx.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import click

from fclf_edge.runtime.classifier import DEFAULT_MODEL_PATH
from fclf_edge.runtime.cliutil import errors_to_exit_codes


def build_default_model(out: str | Path) -> str:
    """Train and export the default model to `out`; return the file's sha256."""
    from fclf_edge.train.config import TrainConfig
    from fclf_edge.train.run import run_training

    from .convert import export_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(tmp) / "model.pt"
        run_training(TrainConfig(device="cpu"), out=str(checkpoint))
        export_checkpoint(checkpoint, out)
    return hashlib.sha256(Path(out).read_bytes()).hexdigest()


@click.command(help="Regenerate the bundled default model with default settings on the CPU.")
@click.option(
    "--out", type=click.Path(dir_okay=False), default=str(DEFAULT_MODEL_PATH), show_default=True
)
def main(out: str) -> None:
    with errors_to_exit_codes():
        digest = build_default_model(out)
        click.echo(f"wrote {out}\nsha256 {digest}")


if __name__ == "__main__":
    main()
