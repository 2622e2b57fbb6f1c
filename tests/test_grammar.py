"""The number grammar, written once as data (tests/data/number-grammar.json), read by Python.

The same table is read by the Node package's tests (runtime/js/test/grammar.test.mjs) and by the
page's (runtime/web/test/drive.mjs through tests/test_web.py), so every reader gives each text the
same float32 or the same refusal. Here: the table against its own definition, then the public
API (`iter_predictions` on value strings) and the `fclf-edge predict` command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fclf_edge.runtime import Classifier, iter_predictions
from fclf_edge.runtime.messages import text

GRAMMAR = Path(__file__).resolve().parent / "data" / "number-grammar.json"
TABLE: dict[str, Any] = json.loads(GRAMMAR.read_text(encoding="utf-8"))
ROWS: list[dict[str, Any]] = TABLE["rows"]
ACCEPTED = [row for row in ROWS if "value" in row]
REFUSED = [row for row in ROWS if "refused" in row]
PYTHON_CLI = Path(sys.executable).parent / "fclf-edge"

# Reasons about a parsed value's range read "{shown} {reason}"; the others are the message.
RANGE_REASONS = {"reason.nan", "reason.infinity", "reason.overflow", "reason.below_absolute_zero"}

# Bit patterns written from IEEE 754 by hand, not computed: the table's computed column must
# agree with them (a check on the generator as much as on the readers).
ANCHORS = {
    "3.40282347e+38": 0x7F7FFFFF,  # float32's largest
    "3.4028235e38": 0x7F7FFFFF,
    "3.4028234663852886e38": 0x7F7FFFFF,
    "1e-45": 0x00000001,  # the smallest subnormal
    "-1e-45": 0x80000001,
    "7e-46": 0x00000000,  # below half of it: zero
    "7.1e-46": 0x00000001,
    "-0": 0x80000000,
    "1.1754943508222875e-38": 0x00800000,  # the smallest normal
    "1.1754942e-38": 0x007FFFFF,  # the largest subnormal
    "32": 0x42000000,
    "32.000001": 0x42000000,  # float32(32.000001) == 32.0
    "32.0000019073486328125": 0x42000000,  # halfway: ties to even
    "32.000002": 0x42000001,  # the float32 after 32
    "33": 0x42040000,
    "-459.67": 0xC3E5D5C3,  # float32(-459.67), the domain's low end
}


def expected_reason(row: dict[str, Any]) -> str:
    """The refusal as every reader must word it, from the message catalogue."""
    key, fields = row["refused"], row.get("fields", {})
    if key in RANGE_REASONS:
        reason = text(key, absolute_zero=TABLE["absolute_zero"])
        return text("reason.shown", value=fields["value"], reason=reason)
    return text(key, **fields)


def bits(value: float) -> int:
    return int(np.array(np.float32(value)).view(np.uint32))


def row_id(row: dict[str, Any]) -> str:
    shown = row["text"] if len(row["text"]) <= 30 else row["text"][:27] + "..."
    return repr(shown) + (" comma" if row["decimal_comma"] else "")


def test_table_covers_what_the_brief_of_the_grammar_names() -> None:
    texts = {row["text"] for row in ROWS}
    for needed in ["-0", ".5", "5.", " 33", "33\r", "3\r3", "3\n3", "nan", "inf", "0x10", "1_000"]:
        assert needed in texts, needed
    for needed in ["1,000", "", "3.40282347e+38", "3.4028235e38", "3.4028236e38", "-459.67"]:
        assert needed in texts, needed
    assert "32.000001" in texts and "1e-45" in texts
    assert any(row["decimal_comma"] for row in ACCEPTED)
    assert any(row["decimal_comma"] for row in REFUSED)
    assert len(ACCEPTED) >= 50 and len(REFUSED) >= 50


@pytest.mark.parametrize("row", ACCEPTED, ids=row_id)
def test_table_follows_its_definition(row: dict[str, Any]) -> None:
    """float32 = numpy.float32(float(value)), label = the formula on it; anchors by hand."""
    f32 = np.float32(float(row["value"]))
    assert f"0x{bits(f32):08x}" == row["float32"]
    assert repr(float(f32)) == row["float32_repr"]
    assert row["label"] == int((float(f32) - 32.0) / 1.8 > 0)
    if not row["decimal_comma"] and row["text"] in ANCHORS:
        assert int(row["float32"], 16) == ANCHORS[row["text"]]


def test_float32_edges_are_labelled_as_the_brief_says() -> None:
    by_text = {row["text"]: row for row in ROWS if not row["decimal_comma"]}
    assert by_text["3.40282347e+38"]["label"] == by_text["3.4028235e38"]["label"] == 1
    assert by_text["3.4028236e38"]["refused"] == "reason.overflow"
    assert by_text["32.000001"]["label"] == 0 and by_text["32.000002"]["label"] == 1
    assert by_text["-459.67"]["label"] == 0
    assert by_text["-459.68"]["refused"] == "reason.below_absolute_zero"


def _api(row: dict[str, Any]) -> tuple[float, int, str | None]:
    """(value, label, reason) from the public API for one row's text."""
    scored = list(
        iter_predictions(
            Classifier(), [row["text"]], on_invalid="skip", decimal_comma=row["decimal_comma"]
        )
    )
    assert len(scored) == 1 and len(scored[0].chunk) == 1
    chunk = scored[0].chunk
    return float(chunk.values[0]), int(scored[0].labels[0]), chunk.invalid.get(0)


# Where the Python reader still departs from the table: each one a strict xfail, so fixing the
# reader fails the test until the mark goes.
PYTHON_GAPS: dict[str, str] = {}  # text -> why the Python reader still differs (none now)


def _gaps(rows: list[dict[str, Any]]) -> list[Any]:
    return [
        pytest.param(row, marks=pytest.mark.xfail(strict=True, reason=PYTHON_GAPS[row["text"]]))
        if row["text"] in PYTHON_GAPS
        else row
        for row in rows
    ]


@pytest.mark.parametrize("row", _gaps(ROWS), ids=row_id)
def test_api_reads_each_row_as_the_table_says(row: dict[str, Any]) -> None:
    value, label, reason = _api(row)
    if "value" in row:
        assert reason is None
        assert f"0x{bits(value):08x}" == row["float32"]
        assert label == row["label"]
    else:
        assert reason == expected_reason(row)
        assert label == -1


@pytest.mark.parametrize("decimal_comma", [False, True], ids=["point", "comma"])
def test_cli_reads_each_row_as_the_table_says(decimal_comma: bool) -> None:
    """All rows of one decimal mark in one `fclf-edge predict --on-invalid skip` run."""
    rows = [
        row
        for row in ROWS
        if row["decimal_comma"] == decimal_comma and row["text"] not in PYTHON_GAPS
    ]
    args = [str(PYTHON_CLI), "predict", "--on-invalid", "skip"]
    args += ["--decimal-comma"] if decimal_comma else []
    proc = subprocess.run(
        [*args, "--", *(row["text"] for row in rows)], capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode().split("\n")
    err = proc.stderr.decode().split("\n")
    want_out, want_err = [], []
    for n, row in enumerate(rows, start=1):
        if "value" in row:
            want_out.append(str(row["label"]))
        else:
            want_out.append("skipped")
            reason = expected_reason(row)
            want_err.append(text("cli.skipped_row", where="argument", line=n, reason=reason))
    skipped = len(want_err)
    want_err.append(text("cli.skipped_summary", skipped=skipped, rows=len(rows), where="argument"))
    assert out == [*want_out, ""]
    assert err == [*want_err, ""]


@pytest.mark.parametrize(
    "row",
    [row for row in REFUSED if row["text"] in ("nan", "3.4028236e38", "-459.68", "", "32,5")],
    ids=row_id,
)
def test_cli_stops_at_a_refused_row_with_exit_2(row: dict[str, Any]) -> None:
    extra = ["--decimal-comma"] if row["decimal_comma"] else []
    proc = subprocess.run(
        [str(PYTHON_CLI), "predict", *extra, "--", "33", row["text"]],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    message = text("cli.invalid_row", where="argument", line=2, reason=expected_reason(row))
    assert proc.stderr.decode() == text("cli.error", message=message) + "\n"
