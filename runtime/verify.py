"""Check a model against the formula: exhaustively over float32 values, or on random samples."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .classifier import Classifier
from .floats import DOMAIN_HIGH, DOMAIN_LOW, count_floats, float_range, from_ordinal, to_ordinal
from .formula import CELSIUS_RULE, Rule

# 4M values a chunk: float32 in, int64 labels out, float64 for the formula: ~100 MiB per worker,
# two workers, so the exhaustive walk stays far under 500 MiB.
VERIFY_CHUNK = 1 << 22
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

    @property
    def rows_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds > 0 else float("inf")


def _check_chunk(
    classifier: Classifier, rule: Rule, x: npt.NDArray[np.float32]
) -> tuple[int, int, list[tuple[float, int, int]]]:
    labels, _ = classifier.predict_batch(x)
    expected = rule.label(x)
    wrong = np.flatnonzero(labels != expected)
    first = [(float(x[i]), int(labels[i]), int(expected[i])) for i in wrong[:MAX_REPORTED].tolist()]
    return len(x), len(wrong), first


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
        yield np.concatenate([by_value, by_bits])
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
    checked = mismatches = 0
    first: list[tuple[float, int, int]] = []
    # onnxruntime and numpy release the GIL on big arrays, so threads use both cores.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for x in chunks:
            pending.append(pool.submit(_check_chunk, classifier, rule, x))
            if len(pending) >= workers:
                n, bad, some = pending.pop(0).result()
                checked, mismatches = checked + n, mismatches + bad
                first.extend(some[: MAX_REPORTED - len(first)])
                if progress is not None:
                    progress(n)
        for future in pending:
            n, bad, some = future.result()
            checked, mismatches = checked + n, mismatches + bad
            first.extend(some[: MAX_REPORTED - len(first)])
            if progress is not None:
                progress(n)
    return VerifyReport(
        checked, mismatches, time.perf_counter() - started, low, high, mode, rule.name, first
    )


def expected_count(low: float, high: float) -> int:
    """How many values an exhaustive walk of [low, high] checks."""
    return count_floats(low, high)
