"""Bring your own Linear model: the one-input linear classifiers people save as a state_dict.

The spellings accepted are the ones `model.state_dict()` gives for the usual ways of writing a
one-input logistic model:

- the question's `BasicModel` (`self.linear = nn.Linear(1, 1)` + sigmoid): `linear.weight`,
  `linear.bias`;
- a bare `nn.Linear(1, 1)`: `weight`, `bias`;
- `nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())`: `0.weight`, `0.bias`.

The export is faithful to the author's model: its decision is its own logit `w·x + b > 0`
(computed by the same Linear layer), its probability the sigmoid of that logit. Nothing is
re-fitted or refined: `fclf-edge verify` then says how far that decision is from the rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from fclf_edge.runtime.errors import ModelError

# state_dict key prefix -> how the author wrote the model.
SPELLINGS: dict[str, str] = {
    "linear.": "BasicModel (self.linear = nn.Linear(1, 1), then a sigmoid)",
    "": "nn.Linear(1, 1)",
    "0.": "nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())",
}


class BasicModel(nn.Module):
    """The question's model, as its author wrote it: Linear(1, 1) then Sigmoid."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.sigmoid(self.linear(x))
        return out


class LinearClassifier(nn.Module):
    """°F [batch] -> (probability, label) around an author's module, with its own Linear layer.

    `author` is the rebuilt original; `linear` is its Linear layer. The logit is that layer's
    output, so the exported decision is bit for bit the author's `w·x + b > 0`.
    """

    def __init__(self, author: nn.Module, linear: nn.Linear) -> None:
        super().__init__()
        self.author = author
        self.linear = linear

    def forward(self, fahrenheit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # In the layer's own precision: a float64 model decides in float64, as its author's
        # module does on the same (float32) temperature. A no-op for float32 weights.
        x = fahrenheit.to(self.linear.weight.dtype).unsqueeze(-1)
        logit = self.linear(x).squeeze(-1)
        probability = torch.sigmoid(logit).to(torch.float32)
        label = (logit > 0).to(torch.int64)
        return probability, label


class AuthorReference(nn.Module):
    """The parity gate's reference: the author's module run as written, on inputs [batch, 1].

    The probability is the author's own output (its sigmoid; a bare Linear gets one applied);
    the label is its Linear layer's logit > 0.
    """

    def __init__(self, author: nn.Module, linear: nn.Linear, has_sigmoid: bool) -> None:
        super().__init__()
        self.author = author
        self.linear = linear
        self.has_sigmoid = has_sigmoid

    def forward(self, fahrenheit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = fahrenheit.to(self.linear.weight.dtype).unsqueeze(-1)
        out = self.author(x).squeeze(-1)
        probability = out if self.has_sigmoid else torch.sigmoid(out)
        label = (self.linear(x).squeeze(-1) > 0).to(torch.int64)
        return probability.to(torch.float32), label


@dataclass
class LinearModel:
    """A user's one-input linear model, rebuilt from its state_dict."""

    spelling: str
    weight: float
    bias: float
    export: LinearClassifier
    reference: AuthorReference

    @property
    def boundary(self) -> float:
        """Where the logit w·x + b crosses zero, in °F."""
        return -self.bias / self.weight

    @property
    def label_meaning(self) -> str:
        side = "above" if self.weight > 0 else "below"
        sign = "-" if self.bias < 0 else "+"
        return (
            f"1 = this model's logit {self.weight:.6g} * F {sign} {abs(self.bias):.6g} > 0, "
            f"i.e. F {side} {self.boundary:.6g}; 0 otherwise (the author's own decision, "
            "not the formula's)"
        )


def is_linear_state_dict(payload: Any) -> bool:
    """True for a plain mapping of names to tensors (any keys): a state_dict, not our format."""
    return (
        isinstance(payload, Mapping)
        and "format" not in payload
        and len(payload) > 0
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in payload.items())
    )


def linear_from_state_dict(state: Mapping[str, torch.Tensor], source: str) -> LinearModel:
    """Rebuild the author's model from `state`; ModelError for anything else."""
    keys = set(state)
    prefix = next((p for p in SPELLINGS if keys == {f"{p}weight", f"{p}bias"}), None)
    if prefix is None:
        shown = ", ".join(sorted(keys)[:6]) + (", ..." if len(keys) > 6 else "")
        raise ModelError(
            f"{source}: state_dict keys [{shown}] are not a one-input linear model; expected "
            "linear.weight + linear.bias, weight + bias, or 0.weight + 0.bias"
        )
    weight, bias = state[f"{prefix}weight"], state[f"{prefix}bias"]
    if tuple(weight.shape) != (1, 1) or tuple(bias.shape) != (1,):
        raise ModelError(
            f"{source}: weight shape {tuple(weight.shape)} and bias shape {tuple(bias.shape)}; "
            "only Linear(1, 1) (one input, one output) can be exported"
        )
    if not (weight.is_floating_point() and bias.is_floating_point()):
        raise ModelError(f"{source}: weight and bias must be floating point")
    # float32 and float64 models are exported in their own precision (the parity gate runs
    # the author's module in it). Half precision is refused rather than silently widened:
    # its arithmetic would differ from the author's near the boundary.
    dtypes = {weight.dtype, bias.dtype}
    if not dtypes <= {torch.float32, torch.float64} or len(dtypes) > 1:
        shown = " and ".join(sorted(str(d).replace("torch.", "") for d in dtypes))
        raise ModelError(
            f"{source}: weights are {shown}; export supports float32 or float64 weights "
            "(one of them for both): convert the model with .float() or .double() first"
        )
    dtype = weight.dtype
    w, b = float(weight.item()), float(bias.item())
    if not (math.isfinite(w) and math.isfinite(b)):
        raise ModelError(f"{source}: the weights are not finite (weight {w}, bias {b})")
    if w == 0.0:
        raise ModelError(f"{source}: weight is 0: the model gives every temperature one label")

    linear = nn.Linear(1, 1)
    author: nn.Module
    if prefix == "linear.":
        author = BasicModel()
        author.linear = linear
    elif prefix == "0.":
        author = nn.Sequential(linear, nn.Sigmoid())
    else:
        author = linear
    author.to(dtype)
    author.load_state_dict(dict(state))
    author.eval()
    return LinearModel(
        spelling=SPELLINGS[prefix],
        weight=float(linear.weight.item()),
        bias=float(linear.bias.item()),
        export=LinearClassifier(author, linear).eval(),
        reference=AuthorReference(author, linear, has_sigmoid=prefix != "").eval(),
    )
