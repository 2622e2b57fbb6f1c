"""The runtime API: inputs of every shape, clear errors, the bundled model, threads."""

from __future__ import annotations

import functools
import math
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fclf_edge.runtime import (
    DEFAULT_MODEL_PATH,
    Classifier,
    FclfError,
    InvalidInputError,
    ModelError,
    above_freezing,
)


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier()


def test_bundled_model_is_shipped_and_loads(clf: Classifier) -> None:
    assert clf.path == DEFAULT_MODEL_PATH and DEFAULT_MODEL_PATH.is_file()
    assert clf.boundary == 32.0
    assert clf.predict(33) == 1 and clf.predict(32) == 0


def test_scalars_give_scalars(clf: Classifier) -> None:
    assert isinstance(clf.predict(33.0), int)
    assert isinstance(clf.predict(np.float64(33.0)), int)
    p = clf.predict_proba(33.0)
    assert isinstance(p, float) and 0.5 < p < 1
    assert clf.predict_proba(32.0) == 0.5


@pytest.mark.parametrize(
    "values",
    [
        [33.0, 32.0, -40.0],
        (33, 32, -40),
        np.array([33, 32, -40], dtype=np.int16),
        np.array([33, 32, -40], dtype=np.int64),
        np.array([33, 32, -40], dtype=np.float16),
        np.array([33, 32, -40], dtype=np.float32),
        np.array([33, 32, -40], dtype=np.float64),
        np.array([[33], [32], [-40]], dtype=np.float64),
        np.array([33, 32, 40], dtype=np.uint8)[[0, 1]].tolist() + [-40],
    ],
)
def test_batches_of_any_real_dtype(clf: Classifier, values: object) -> None:
    labels = clf.predict(values)  # type: ignore[call-overload]
    assert isinstance(labels, np.ndarray) and labels.dtype == np.int64
    assert labels.tolist() == [1, 0, 0]


def test_empty_batch(clf: Classifier) -> None:
    assert clf.predict([]).shape == (0,)


def test_proba_is_monotone_and_crosses_half_at_the_boundary(clf: Classifier) -> None:
    x = np.linspace(-459.67, 10_000, 200_001, dtype=np.float32)
    labels, p = clf.predict_with_proba(x)
    assert np.all(np.diff(p) >= 0)
    assert np.all(p[labels == 1] >= 0.5) and np.all(p[labels == 0] <= 0.5)
    assert np.array_equal(labels, above_freezing(x))


@pytest.mark.parametrize(
    ("values", "index"),
    [
        (float("nan"), 0),
        (float("inf"), 0),
        (-459.68, 0),
        (1e39, 0),
        (10**400, 0),
        ([1.0, 10**400], 1),
        ([1.0, 2.0, float("nan")], 2),
        ([1.0, -1e39], 1),
        (np.array([1.0, 2.0, -500.0]), 2),
        (np.array([[1.0], [-np.inf]]), 1),
        ([1.0, "a"], 1),
        ([1.0, None], 1),
        ([True, 1.0], 0),
    ],
)
def test_invalid_values_name_the_first_bad_index(
    clf: Classifier, values: object, index: int | None
) -> None:
    with pytest.raises(InvalidInputError) as info:
        clf.predict(values)  # type: ignore[call-overload]
    if index is not None:
        assert info.value.index == index
    assert isinstance(info.value, FclfError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "values",
    ["33", b"33", np.zeros((2, 2)), np.array([1 + 2j]), np.array(["1"]), {"a": 1}, True],
)
def test_non_numbers_are_invalid_input(clf: Classifier, values: object) -> None:
    with pytest.raises(InvalidInputError):
        clf.predict(values)  # type: ignore[call-overload]


def test_absolute_zero_itself_is_valid(clf: Classifier) -> None:
    assert clf.predict(-459.67) == 0
    assert clf.predict(np.float32(-459.67)) == 0


def test_thread_safety(clf: Classifier) -> None:
    rng = np.random.default_rng(1)
    inputs = rng.uniform(-100, 200, 10_000).astype(np.float32)
    serial = [clf.predict(float(v)) for v in inputs]
    results: dict[int, list[int]] = {}

    def worker(k: int) -> None:
        results[k] = [clf.predict(float(v)) for v in inputs]

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert all(results[k] == serial for k in range(8))


def test_session_options(onnx_path: Path) -> None:
    c = Classifier(onnx_path, threads=2, providers=["CPUExecutionProvider"], allow_spinning=True)
    assert c.session.get_session_options().intra_op_num_threads == 2
    assert c.predict([33.0, 32.0]).tolist() == [1, 0]
    default = Classifier(onnx_path)
    options = default.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_unknown_provider_is_a_model_error(onnx_path: Path) -> None:
    with pytest.raises(ModelError):
        Classifier(onnx_path, providers=["NoSuchExecutionProvider"])


def test_repr_and_metadata(clf: Classifier) -> None:
    assert "boundary=32.0" in repr(clf)
    assert clf.metadata["parity_label_mismatches"] == "0"
    assert len(clf.sha256) == 64 and clf.size > 0


def test_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "python-api.md").read_text()
    block = page.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "docs/python-api.md", "exec"), {})  # noqa: S102 - our own documentation
    assert capsys.readouterr().out.startswith("1 value nan at index 1")


def test_unreadable_model_is_a_model_error(
    onnx_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod 000 does not stop root (CI runs as root), so make the read itself fail.
    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ModelError, match="permission denied"):
        Classifier(onnx_path)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.floats(), st.integers(min_value=-(10**40), max_value=10**40)), max_size=8)
)
def test_any_numbers_give_labels_or_the_first_bad_index(values: list[float]) -> None:
    clf = _shared()
    limit = float(np.finfo(np.float32).max)

    def valid(v: float) -> bool:
        f = float(v)
        return math.isfinite(f) and abs(f) <= limit and np.float32(f) >= np.float32(-459.67)

    bad = next((i for i, v in enumerate(values) if not valid(v)), None)
    if bad is None:
        labels = clf.predict(values)
        assert labels.tolist() == [int(np.float32(float(v)) > 32) for v in values]
    else:
        with pytest.raises(InvalidInputError) as info:
            clf.predict(values)
        assert info.value.index == bad


@functools.cache
def _shared() -> Classifier:
    return Classifier()
