"""`train-model --plot FILE.png`: the loss curve and the learned probability around the boundary."""

from __future__ import annotations

import io
import os

import numpy as np
import torch

from fclf_edge.runtime._atomic import atomic_write_bytes
from fclf_edge.runtime.errors import MissingDependencyError

from .fit import TrainResult, rule_for


def require_matplotlib() -> None:
    """Fail early, with the install command, when the 'plot' extra is missing."""
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "--plot needs matplotlib, which is not installed: pip install 'fclf-edge[plot]'"
        ) from None


def plot_training(result: TrainResult, path: str | os.PathLike[str]) -> None:
    """Draw two panels (loss over steps; probability vs °F near the boundary) to a PNG."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none wanted on a server
    import matplotlib.pyplot as plt

    boundary = result.boundary
    rule = rule_for(result.config)  # None for a data file: its labels are drawn instead
    width = max(10.0 / max(result.weight, 1e-6), 1.0)  # ±10 logits around the boundary
    x = np.linspace(boundary - width, boundary + width, 2001, dtype=np.float32)
    with torch.no_grad():
        model = result.model.cpu()
        probability, _ = model(torch.from_numpy(x))

    fig, (loss_ax, prob_ax) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    # losses[0] is the loss at the starting point, before the first step.
    steps = np.arange(len(result.losses))
    loss_ax.semilogy(steps, result.losses, marker="o", markersize=3)
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("loss (log scale)")
    loss_ax.set_title(f"{result.config.objective} loss, {result.steps} steps on {result.device}")
    loss_ax.grid(True, which="both", alpha=0.3)

    prob_ax.plot(x, probability.numpy(), label="learned probability")
    if rule is not None:
        prob_ax.step(x, rule.label(x), where="post", linestyle="--", label=f"formula: {rule.name}")
    elif result.data is not None:
        centres, share = _share_of_ones(result.data.x, result.data.labels, x[0], x[-1])
        prob_ax.plot(centres, share, "o", markersize=3, label="share labelled 1 in the file")
    prob_ax.axvline(boundary, color="red", linewidth=1, label=f"boundary {boundary!r} °F")
    prob_ax.axhline(0.5, color="grey", linewidth=0.5)
    prob_ax.set_xlabel("temperature (°F)")
    prob_ax.set_ylabel("P(label = 1)")
    prob_ax.set_title(
        f"weight {result.weight:.4f} /°F, bias {result.bias:.4f}, boundary {boundary!r} °F"
    )
    prob_ax.legend(loc="upper left", fontsize=8)
    prob_ax.grid(True, alpha=0.3)
    fig.tight_layout()

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def _share_of_ones(
    x: np.ndarray, labels: np.ndarray, low: float, high: float, bins: int = 40
) -> tuple[np.ndarray, np.ndarray]:
    """The fraction of readings labelled 1 in each of `bins` bins over [low, high] (non-empty)."""
    edges = np.linspace(low, high, bins + 1)
    inside = (x >= low) & (x <= high)
    counts, _ = np.histogram(x[inside], edges)
    ones, _ = np.histogram(x[inside & (labels == 1)], edges)
    centres = (edges[:-1] + edges[1:]) / 2
    seen = counts > 0
    return centres[seen], ones[seen] / counts[seen]
