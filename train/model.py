"""The PyTorch model: a one-input linear classifier with a sigmoid, in threshold form.

logit = scale · (fahrenheit − threshold) is the same family as Linear(1, 1) (weight = scale,
bias = −scale · threshold) but decides exactly: `fahrenheit > threshold` is a single float32
comparison, so every float32 input gets the label the learned boundary implies. A traced
Linear would become Gemm (w·x + b), which rounds near the boundary.

torch.onnx.export turns `forward` into ten ONNX ops in this order (fclf_edge.export.edge):

    fahrenheit ─ Sub(threshold) ─ Mul(scale) ─ Cast(double) ─ Neg ─ Exp ─ Add(1) ─ Reciprocal
         │                                                  ─ Cast(float) ─ probability (float32)
         └──── Greater(threshold) ─ Cast(int64) ───────────────────────────── label (int64)

so PyTorch and onnxruntime make bit-identical decisions; the parity gate checks it on every
export. The sigmoid is evaluated in double precision and rounded once to float32: onnxruntime's
float32 Sigmoid (and float32 Exp) are fast approximations that are not monotone (over all
float32 logits in [-110, 110] its Sigmoid steps backwards 12 million times by an ulp). In double
precision the error is far below float32's spacing, so the probability is monotone in the input
(checked exhaustively by `fclf-edge verify --exhaustive`). The price is throughput: onnxruntime
runs the whole graph whichever outputs are requested (bench/run.py measures the variants).
"""

from __future__ import annotations

import torch
from torch import nn


class FahrenheitClassifier(nn.Module):
    """Maps °F (float32, shape [batch]) to (probability float32, label int64)."""

    def __init__(self, scale: float = 1.0, threshold: float = 0.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float32), requires_grad=False)
        self.threshold = nn.Parameter(
            torch.tensor(threshold, dtype=torch.float32), requires_grad=False
        )

    def forward(self, fahrenheit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Subtract first, then scale: one correctly rounded subtraction keeps the sign exact.
        logit = (fahrenheit - self.threshold) * self.scale
        # Sigmoid in double precision, rounded once: monotone in the input (see the docstring).
        probability = torch.reciprocal(torch.exp(-logit.double()) + 1.0).float()
        label = (fahrenheit > self.threshold).to(torch.int64)
        return probability, label

    @property
    def weight(self) -> float:
        """Slope in raw °F units (logit per °F)."""
        return float(self.scale.item())

    @property
    def bias(self) -> float:
        """Intercept in raw °F units: weight · F + bias is the logit."""
        return -float(self.scale.item()) * float(self.threshold.item())


class StandardisedLogit(nn.Module):
    """What the fit trains: logit = slope · z + intercept on standardised inputs z.

    z = (F − mean) / std puts both parameters on the same scale (raw °F of magnitude 100–1000
    make the loss surface badly conditioned; that is why plain SGD on raw inputs crawls).
    Float64, so Newton's last steps are not lost to rounding; the deployed model is float32.
    """

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.mean, self.std = mean, std
        self.slope = nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
        self.intercept = nn.Parameter(torch.tensor(0.0, dtype=torch.float64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.slope * z + self.intercept

    def standardise(self, fahrenheit: torch.Tensor) -> torch.Tensor:
        return (fahrenheit.double() - self.mean) / self.std

    def raw(self) -> tuple[float, float]:
        """(weight, bias) in raw °F units: a·(F − mean)/std + c = weight · F + bias."""
        a, c = float(self.slope.detach()), float(self.intercept.detach())
        return a / self.std, c - a * self.mean / self.std
