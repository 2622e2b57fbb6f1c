"""The library's streaming API: what `fclf-edge predict` runs, for apps that score streams."""

from __future__ import annotations

import doctest
import gzip
import io
import queue
import subprocess
import sys
import threading

import numpy as np
import pytest

import fclf_edge.runtime
from fclf_edge.runtime import (
    Classifier,
    InvalidInputError,
    InvalidRowError,
    iter_predictions,
    open_input,
    predict_stream,
)
from fclf_edge.runtime import stream as stream_module

from .conftest import cli_env


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier()


def test_module_example_runs() -> None:
    result = doctest.testmod(stream_module, raise_on_error=False)
    assert result.attempted >= 4 and result.failed == 0


def test_exported_from_the_package() -> None:
    for name in ("predict_stream", "iter_predictions", "open_input", "InvalidRowError"):
        assert name in fclf_edge.runtime.__all__
        assert getattr(fclf_edge.runtime, name).__doc__


def test_iter_predictions_gives_arrays_aligned_with_rows(classifier: Classifier) -> None:
    data = gzip.compress(b"city;temp_f\nOslo;33\nRome;warm\nNome;-40\n")
    skipped: list[tuple[int, str]] = []
    scored = list(
        iter_predictions(
            classifier,
            io.BytesIO(data),
            column="temp_f",
            extra=("city",),
            proba=True,
            on_invalid="skip",
            on_skip=lambda line, reason: skipped.append((line, reason)),
        )
    )
    (chunk,) = scored
    assert chunk.labels.tolist() == [1, -1, 0]
    assert chunk.probabilities is not None and np.isnan(chunk.probabilities[1])
    assert chunk.chunk.lines.tolist() == [2, 3, 4]
    assert chunk.chunk.extra == {"city": ["Oslo", "Rome", "Nome"]}
    assert skipped == [(3, "'warm' is not a number")]


def test_invalid_row_error_names_the_line(classifier: Classifier) -> None:
    out = io.BytesIO()
    with pytest.raises(InvalidRowError, match="line 3: 'x' is not a number") as info:
        predict_stream(classifier, io.BytesIO(b"33\n32\nx\n"), out)
    assert info.value.line == 3 and isinstance(info.value, InvalidInputError)
    assert out.getvalue() == b""  # the chunk with the bad row is never partly written


def test_values_as_strings_and_chunking(classifier: Classifier) -> None:
    out = io.BytesIO()
    summary = predict_stream(classifier, ["33", "32,5"], out, decimal_comma=True, fmt="csv")
    assert (summary.rows, summary.skipped, summary.kind) == (2, 0, "lines")
    assert out.getvalue() == b"line,fahrenheit,label\n1,33.0,1\n2,32.5,1\n"
    data = b"".join(b"%d\n" % v for v in range(-400, 600))
    scored = list(iter_predictions(classifier, io.BytesIO(data), chunk_lines=100))
    assert len(scored) > 5 and max(len(s.chunk) for s in scored) <= 100
    labels = np.concatenate([s.labels for s in scored])
    assert np.array_equal(labels, (np.arange(-400, 600) > 32).astype(np.int64))


def test_open_input_reports_the_layout() -> None:
    opened = open_input(io.BytesIO("a\tt\r\n1\t33\r\n".encode("utf-16")), "t", keep_records=True)
    assert (opened.kind, opened.delimiter, opened.header) == ("csv", "\t", ["a", "t"])
    assert (opened.encoding, opened.compression) == ("utf-16-le", None)
    (chunk,) = opened
    assert chunk.records == [b"1\t33\r"] and chunk.values.tolist() == [33.0]


def test_bad_options_are_refused(classifier: Classifier) -> None:
    with pytest.raises(InvalidInputError, match="on_invalid"):
        predict_stream(classifier, ["33"], io.BytesIO(), on_invalid="ignore")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="for files"):
        predict_stream(classifier, ["33"], io.BytesIO(), column="t")
    with pytest.raises(InvalidInputError, match="open\\(path, 'rb'\\)"):
        predict_stream(classifier, "temps.csv", io.BytesIO())


def test_a_live_pipe_is_scored_as_lines_arrive() -> None:
    """Each line is answered before stdin closes: a sensor feed can be piped in."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fclf_edge.runtime", "predict", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=cli_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True)
    reader.start()
    try:
        for value, label in ((b"33\n", b"1\n"), (b"-40\n", b"0\n")):
            proc.stdin.write(value)
            proc.stdin.flush()
            assert lines.get(timeout=30) == label
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        reader.join(timeout=30)
        stdout.close()
