"""Check a model against the formula: exhaustively over float32 values, or on random samples."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .classifier import Classifier
from .floats import DOMAIN_HIGH, DOMAIN_LOW, float_range, from_ordinal, to_ordinal
from .formula import CELSIUS_RULE, Rule

if TYPE_CHECKING:
    import numpy.typing as npt

# 2M values a chunk: float32 in; int64 labels, float32 and float64 probabilities, float64 for the
# formula: ~100 MiB per worker at peak. Two workers keep the whole walk near 250 MiB (< 500 MiB).
VERIFY_CHUNK = 1 << 21
MAX_REPORTED = 10


@dataclass
class VerifyReport:
    """How many values were checked and which ones the model got wrong."""

    checked: int
    mismatches: int
    seconds: float
    low: float
    high: float
    mode: str
    rule: str
    first: list[tuple[float, int, int]] = field(default_factory=list)  # (x, model, formula)
    # Probability checks: steps where p decreases as x increases, and labels on the wrong side
    # of 0.5 (label 1 needs p >= 0.5, label 0 needs p <= 0.5).
    probability_violations: int = 0
    # The lowest and highest input the model gets wrong: how far its boundary is from the rule's.
    wrong_span: tuple[float, float] | None = None

    @property
    def rows_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class _ChunkResult:
    n: int
    wrong: int
    first: list[tuple[float, int, int]]
    probability_violations: int
    p_first: float
    p_last: float
    wrong_span: tuple[float, float] | None


def _check_chunk(classifier: Classifier, rule: Rule, x: npt.NDArray[np.float32]) -> _ChunkResult:
    """Labels against the rule; probabilities monotone (x is sorted) and on the label's side."""
    labels, p = classifier.predict_batch(x, proba=True)
    if p is None:  # pragma: no cover - predict_batch returns it when proba=True
        raise RuntimeError("no probability output")
    expected = rule.label(x)
    wrong = np.flatnonzero(labels != expected)
    first = [(float(x[i]), int(labels[i]), int(expected[i])) for i in wrong[:MAX_REPORTED].tolist()]
    violations = int(np.count_nonzero(np.diff(p) < 0))
    violations += int(np.count_nonzero((labels == 1) & (p < 0.5)))
    violations += int(np.count_nonzero((labels == 0) & (p > 0.5)))
    span = (float(x[wrong].min()), float(x[wrong].max())) if len(wrong) else None
    return _ChunkResult(len(x), len(wrong), first, violations, float(p[0]), float(p[-1]), span)


def sample_values(low: float, high: float, n: int, seed: int) -> Iterator[npt.NDArray[np.float32]]:
    """`n` random float32 values in [low, high], in chunks.

    Half are uniform in value (where temperatures are), half uniform over the float32 values
    themselves (every bit pattern equally likely, so tiny magnitudes and both zeros get tested).
    """
    rng = np.random.default_rng(seed)
    lo, hi = (int(v) for v in to_ordinal([low, high]))
    done = 0
    while done < n:
        size = min(VERIFY_CHUNK, n - done)
        half = size // 2
        by_value = rng.uniform(low, high, half).astype(np.float32)
        by_value = np.clip(by_value, np.float32(low), np.float32(high))
        by_bits = from_ordinal(rng.integers(lo, hi, size - half, endpoint=True))
        # Sorted, so the probability's monotonicity can be checked along the chunk.
        yield np.sort(np.concatenate([by_value, by_bits]))
        done += size


def verify(
    classifier: Classifier,
    *,
    low: float = float(DOMAIN_LOW),
    high: float = float(DOMAIN_HIGH),
    exhaustive: bool = False,
    samples: int = 1_000_000,
    seed: int = 0,
    rule: Rule = CELSIUS_RULE,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Compare the model's labels with `rule` on every float32 in [low, high] or on samples."""
    started = time.perf_counter()
    if exhaustive:
        chunks: Iterator[npt.NDArray[np.float32]] = float_range(low, high, VERIFY_CHUNK)
        mode = "exhaustive"
    else:
        chunks = sample_values(low, high, samples, seed)
        mode = f"{samples:,} samples (seed {seed})"
    report = VerifyReport(0, 0, 0.0, low, high, mode, rule.name)
    last_p: float | None = None

    def collect(result: _ChunkResult) -> None:
        nonlocal last_p
        report.checked += result.n
        report.mismatches += result.wrong
        report.first.extend(result.first[: MAX_REPORTED - len(report.first)])
        report.probability_violations += result.probability_violations
        if result.wrong_span is not None:
            lo, hi = result.wrong_span
            if report.wrong_span is not None:
                lo, hi = min(lo, report.wrong_span[0]), max(hi, report.wrong_span[1])
            report.wrong_span = (lo, hi)
        # Exhaustive chunks arrive in increasing x: the step between chunks counts too.
        if exhaustive and last_p is not None and result.p_first < last_p:
            report.probability_violations += 1
        last_p = result.p_last
        if progress is not None:
            progress(result.n)

    # onnxruntime and numpy release the GIL on big arrays, so threads use both cores.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for x in chunks:
            pending.append(pool.submit(_check_chunk, classifier, rule, x))
            if len(pending) >= workers:
                collect(pending.pop(0).result())
        for future in pending:
            collect(future.result())
    report.seconds = time.perf_counter() - started
    return report
