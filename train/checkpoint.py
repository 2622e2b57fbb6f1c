"""Checkpoints: tensors and plain data only, written atomically, loaded with weights_only=True."""

from __future__ import annotations

import io
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fclf_edge.runtime._atomic import atomic_write_bytes
from fclf_edge.runtime.errors import ModelError

from .config import TrainConfig
from .model import FahrenheitClassifier

CHECKPOINT_FORMAT = "fclf-edge-checkpoint/1"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model, how it was made, and how well it did."""

    model: FahrenheitClassifier
    config: TrainConfig
    metrics: dict[str, Any]
    info: dict[str, Any]


def save_checkpoint(
    path: str | os.PathLike[str],
    model: FahrenheitClassifier,
    config: TrainConfig,
    metrics: dict[str, Any],
    info: dict[str, Any],
) -> None:
    """Save state_dict + config + metrics + info (all plain data) atomically."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": config.to_dict(),
        "metrics": metrics,
        "info": info,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def read_payload(path: str | os.PathLike[str]) -> Any:
    """torch.load with weights_only=True; every failure becomes one ModelError line."""
    p = Path(path)
    if not p.exists():
        raise ModelError(
            f"checkpoint not found: {p} (run train-model first, or pass its --out path)"
        )
    if p.is_dir():
        raise ModelError(f"checkpoint path is a directory, not a file: {p}")
    try:
        # weights_only=True: the unpickler accepts tensors and plain containers only, so a file
        # from someone else cannot run code when loaded.
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch reports both "a forbidden global" and "not a pickle at all" this way.
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found is None:
            raise ModelError(
                f"{p} is not a readable fclf-edge checkpoint (corrupt or not a checkpoint); "
                "re-create it with train-model"
            ) from None
        what = f" ({found.group(1)})"
        raise ModelError(
            f"refused to load {p}: it holds a pickled object{what}, not only tensors and plain "
            "data; fclf-edge loads checkpoints with weights_only=True and never unpickles code "
            "(a whole model saved with torch.save(model): save its weights instead, with "
            "torch.save(model.state_dict(), PATH))"
        ) from None
    except PermissionError:
        raise ModelError(f"cannot read checkpoint {p}: permission denied") from None
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise ModelError(
            f"{p} is not a readable fclf-edge checkpoint ({type(exc).__name__}); "
            "re-create it with train-model"
        ) from None
    return payload


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Load a checkpoint written by `save_checkpoint`; refuse anything else with a ModelError."""
    return checkpoint_from_payload(read_payload(path), Path(path))


def checkpoint_from_payload(payload: Any, p: Path) -> Checkpoint:
    """Build a Checkpoint from a loaded payload; ModelError if it is not our format."""
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(
            f"{p} is not an fclf-edge checkpoint (format {CHECKPOINT_FORMAT} expected)"
        )
    try:
        state = payload["state_dict"]
        model = FahrenheitClassifier()
        model.load_state_dict(state)
        config = TrainConfig.from_dict(payload["config"])
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise ModelError(f"{p} is a damaged fclf-edge checkpoint: {exc}") from None
    return Checkpoint(
        model=model, config=config, metrics=payload["metrics"], info=payload.get("info", {})
    )
