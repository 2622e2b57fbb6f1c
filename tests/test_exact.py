"""Exactness: every float32 near the boundary, and millions across the domain, as the rule says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from fclf_edge.runtime import Classifier
from fclf_edge.runtime.floats import DOMAIN_HIGH, DOMAIN_LOW, from_ordinal, to_ordinal
from fclf_edge.runtime.formula import CELSIUS_RULE, Rule, threshold_rule
from fclf_edge.runtime.verify import verify
from fclf_edge.train.checkpoint import load_checkpoint

STEPS = 10_000  # float32 neighbours on each side of the boundary
SAMPLES = 10_000_000


def true_boundary(rule: Rule) -> int:
    """Ordinal of the last float32 the rule labels 0 (found independently of training)."""
    lo, hi = (int(v) for v in to_ordinal([DOMAIN_LOW, DOMAIN_HIGH]))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if rule.label(from_ordinal([mid]))[0] == 0:
            lo = mid
        else:
            hi = mid
    return lo


def neighbourhood(rule: Rule) -> np.ndarray:
    centre = true_boundary(rule)
    return from_ordinal(np.arange(centre - STEPS, centre + STEPS + 1))


def assert_exact(model_path: Path, rule: Rule, checkpoint: Path | None = None) -> None:
    clf = Classifier(model_path)
    x = neighbourhood(rule)
    labels, p = clf.predict_with_proba(x)
    expected = rule.label(x)
    assert np.array_equal(labels, expected)
    assert expected[: STEPS + 1].sum() == 0 and expected[STEPS + 1 :].all()  # the boundary is in x
    assert np.all(np.diff(p) >= 0)
    if checkpoint is not None:
        model = load_checkpoint(checkpoint).model
        with torch.no_grad():
            p_torch, l_torch = model(torch.from_numpy(x))
        assert np.array_equal(labels, l_torch.numpy())
        assert np.max(np.abs(p - p_torch.numpy())) <= 1e-6
    report = verify(clf, samples=SAMPLES, seed=7, rule=rule)
    assert report.checked == SAMPLES
    assert report.mismatches == 0 and report.probability_violations == 0


def test_default_export_is_exact(onnx_path: Path, checkpoint_path: Path) -> None:
    assert_exact(onnx_path, CELSIUS_RULE, checkpoint_path)


def test_bundled_model_is_exact() -> None:
    assert_exact(Classifier().path, CELSIUS_RULE)


@pytest.mark.parametrize("threshold", [37.5, -40.0, 98.6])
def test_other_rules_are_learned_exactly(
    export_rule: Callable[[float], Path], threshold: float
) -> None:
    path = export_rule(threshold)
    assert_exact(path, threshold_rule(threshold), path.with_suffix(".pt"))
    # And the model really learned that rule, not the freezing point.
    assert Classifier(path).boundary != 32.0


def test_exhaustive_walk_around_the_boundary() -> None:
    clf = Classifier()
    report = verify(clf, low=31.0, high=33.0, exhaustive=True)
    assert report.checked == 786_433  # every float32 in [31, 33]
    assert report.mismatches == 0 and report.probability_violations == 0


def test_exhaustive_walk_through_zero_counts_both_zeros() -> None:
    report = verify(Classifier(), low=-1e-3, high=1e-3, exhaustive=True)
    assert report.checked == 2 * int(to_ordinal([1e-3])[0]) + 2
    assert report.mismatches == 0


def test_verify_catches_a_wrong_model(export_rule: Callable[[float], Path]) -> None:
    """The 37.5 °F model checked against the freezing formula must fail, and say where."""
    report = verify(Classifier(export_rule(37.5)), low=30.0, high=40.0, exhaustive=True)
    assert report.mismatches > 0
    x, got, want = report.first[0]
    assert 32.0 < x <= 37.5 and (got, want) == (0, 1)
