"""fclf_edge.train: fit the Fahrenheit classifier in PyTorch (needs the 'train' extra)."""

from __future__ import annotations

from .config import TrainConfig

__all__ = ["TrainConfig"]
