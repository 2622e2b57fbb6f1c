"""The end-of-training report: plain text, in raw °F units (train-model prints it)."""

from __future__ import annotations

from .placement import shown
from .run import TrainRun, training_file_record


def summary(run: TrainRun) -> str:
    """The lines train-model prints after training (docs/train.md shows them)."""
    result = run.result
    device = result.device
    if result.config.device == "auto":
        found = "CUDA available" if device.startswith("cuda") else "no CUDA on this machine"
        device += f" (chosen by --device auto: {found})"
    kind = "Newton" if result.config.objective == "logistic" else "Newton (least squares)"
    lines = [f"device          {device}"]
    if result.config.data == "file":
        lines += _data_lines(run)
    read = f"read {result.read_seconds:.3f} s, " if result.config.data == "file" else ""
    fit = result.seconds - result.read_seconds
    lines += [
        f"time            {run.seconds:.3f} s total, {read}fit {fit:.3f} s "
        f"({result.steps} {kind} steps)",
        f"objective       {result.config.objective}, final loss {result.final_loss:.6g}",
        f"fit             weight {result.fit_weight:.6f} /°F, bias {result.fit_bias:.6f}, "
        f"boundary {result.fit_boundary:.6f} °F",
    ]
    lines += _model_lines(run)
    lines.append(f"checkpoint      {run.out}")
    if run.plot is not None:
        lines.append(f"plot            {run.plot}")
    return "\n".join(lines)


def _data_lines(run: TrainRun) -> list[str]:
    record = training_file_record(run.result)
    held = f", {record['rows_holdout']:,} held out" if record["rows_holdout"] else ""
    return [
        f"data            {record['name']}: {record['rows_read']:,} rows read, "
        f"{record['rows_used']:,} used for the fit{held}, {record['rows_skipped']:,} skipped",
        f"                columns {record['input_column']!r} (°F) and "
        f"{record['label_column']!r} (label); sha256 {record['sha256']}",
    ]


def _model_lines(run: TrainRun) -> list[str]:
    result, m = run.result, run.result.metrics
    placed = {
        "refined": " (refined to the exact float32 boundary)",
        "gap middle": " (the middle of the gap)",
        "fewest errors": " (the middle of the interval with the fewest rows wrong)",
        "fit": "",
    }[result.placement]
    lines = [
        f"model           weight {result.weight:.6f} /°F, bias {result.bias:.6f}, "
        f"boundary -b/w {shown(result.boundary)} °F{placed}"
    ]
    if result.config.data == "file":
        return lines + _file_lines(run)
    return lines + [
        f"accuracy        (a) [33, 32] -> {m['question_test_labels']}: "
        f"{m['question_test_accuracy']:.2%}",
        f"                (b) every integer in [-459, 10000]: {m['integers_accuracy']:.4%} "
        f"({m['integers_errors']} wrong of {m['integers_count']})",
        f"                (c) 1,000,000-point float32 grid over [-459.67, 1000]: "
        f"{m['grid_1m_accuracy']:.4%} ({m['grid_1m_errors']} wrong)",
    ]


def _file_lines(run: TrainRun) -> list[str]:
    result, m = run.result, run.result.metrics
    assert result.label_gap is not None
    largest_0, smallest_1 = result.label_gap
    if result.separable:
        labels = [
            f"separable       yes: every reading labelled 0 is at or below {shown(largest_0)} °F "
            f"and every reading labelled 1 at or above {shown(smallest_1)} °F",
            f"                the boundary lies somewhere in the gap ({shown(largest_0)}, "
            f"{shown(smallest_1)}) °F, {smallest_1 - largest_0:.6g} °F wide; the threshold sits in "
            "its middle, as far from both classes as the data allows",
            "                without the labeller no refinement to an exact boundary is "
            "possible: readings inside the gap were never labelled",
        ]
    else:
        assert result.interval is not None
        low, high = result.interval.low, result.interval.high
        labels = [
            f"separable       no: readings labelled 0 reach up to {shown(largest_0)} °F and "
            f"readings labelled 1 down to {shown(smallest_1)} °F",
            f"                fewest rows wrong ({result.interval.errors:,}) with the threshold "
            f"anywhere in [{shown(low)}, {shown(high)}) °F; it sits in the middle",
        ]
    lines = labels + [
        f"training        accuracy {m['train_accuracy']:.4%}: {m['train_errors']:,} of "
        f"{m['train_count']:,} rows wrong"
    ]
    if "holdout_accuracy" in m:
        lines.append(
            f"held out        accuracy {m['holdout_accuracy']:.4%}: {m['holdout_errors']:,} of "
            f"{m['holdout_count']:,} rows wrong (seed {result.config.seed})"
        )
    q = m["question_test_labels"]
    lines.append(f"predicts        33 °F -> {q[0]}, 32 °F -> {q[1]}")
    return lines
