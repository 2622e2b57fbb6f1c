"""train-model --data-file: your own labelled readings, clean, noisy, or broken."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from fclf_edge.runtime.errors import InvalidInputError
from fclf_edge.runtime.floats import next_up
from fclf_edge.train.checkpoint import load_checkpoint
from fclf_edge.train.cli import main as train_main
from fclf_edge.train.config import TrainConfig
from fclf_edge.train.fit import predict_labels, train
from fclf_edge.train.placement import count_labels, fewest_errors

from .conftest import CUDA_SKIP_REASON, cli_env

BIN = Path(sys.executable).parent


def write_csv(
    path: Path, x: np.ndarray, labels: np.ndarray, header: str = "fahrenheit,label"
) -> Path:
    rows = "".join(f"{float(v)!r},{int(y)}\n" for v, y in zip(x, labels, strict=True))
    path.write_text(f"{header}\n{rows}")
    return path


def formula_labels(x: np.ndarray, threshold: float | None = None) -> np.ndarray:
    x64 = np.asarray(x, dtype=np.float32).astype(np.float64)
    if threshold is None:
        return ((x64 - 32.0) / 1.8 > 0).astype(np.int64)
    return (x64 > threshold).astype(np.int64)


def flip(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    flipped = labels.copy()
    where = np.random.default_rng(seed).random(len(labels)) < fraction
    flipped[where] = 1 - flipped[where]
    return flipped


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(train_main, ["--device", "cpu", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def question_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The question's data as a file: the integers -100..99, labelled by the formula."""
    x = np.arange(-100, 100, dtype=np.float32)
    return write_csv(tmp_path_factory.mktemp("q") / "question.csv", x, formula_labels(x))


def test_the_question_as_a_file_says_33_is_1_and_32_is_0(
    question_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.pt"
    code, stdout, stderr = invoke("--data-file", str(question_file), "--out", str(out))
    assert code == 0, stderr
    checkpoint = load_checkpoint(out)
    labels = predict_labels(checkpoint.model, np.array([33.0, 32.0], dtype=np.float32))
    assert labels.tolist() == [1, 0]
    # Separable: the labels pin the boundary to the gap (32, 33); the threshold is its middle.
    assert float(checkpoint.model.threshold) == 32.5
    assert "gap (32.0, 33.0) °F" in stdout
    assert "no refinement to an exact boundary is possible" in stdout
    assert "predicts        33 °F -> 1, 32 °F -> 0" in stdout
    assert "training        accuracy 100.0000%: 0 of 200 rows wrong" in stdout


def test_the_checkpoint_records_the_file_by_name_and_digest(
    question_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.pt"
    assert invoke("--data-file", str(question_file), "--out", str(out))[0] == 0
    info = load_checkpoint(out).info
    record = info["training_file"]
    assert record["name"] == "question.csv"
    assert record["sha256"] == hashlib.sha256(question_file.read_bytes()).hexdigest()
    assert (record["rows_read"], record["rows_used"], record["rows_skipped"]) == (200, 200, 0)
    assert (record["input_column"], record["label_column"]) == ("fahrenheit", "label")
    assert record["separable"] is True and record["label_gap"] == [32.0, 33.0]
    assert record["threshold_placement"] == "gap middle"
    assert "question.csv" in info["training_data"] and "separable" in info["training_data"]
    # Only the name: the folder the file lay in appears nowhere in the checkpoint's bytes.
    assert str(question_file.parent).encode() not in out.read_bytes()
    assert load_checkpoint(out).config.data_file == "question.csv"


def test_same_file_same_seed_same_bytes_from_any_folder(
    question_file: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "elsewhere" / "question.csv"
    copy.parent.mkdir()
    copy.write_bytes(question_file.read_bytes())
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    assert invoke("--data-file", str(question_file), "--holdout", "0.1", "--out", str(a))[0] == 0
    assert invoke("--data-file", str(copy), "--holdout", "0.1", "--out", str(b))[0] == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("low", "high", "decimals"),
    [(-40.0, 120.0, 1), (-459.67, 1000.0, None), (20.0, 200.0, 1), (0.0, 50.0, 2)],
)
def test_three_percent_flipped_labels_keep_the_boundary_within_a_degree(
    tmp_path: Path, low: float, high: float, decimals: int | None
) -> None:
    x = np.random.default_rng(7).uniform(low, high, 20_000)
    x = (np.round(x, decimals) if decimals is not None else x).astype(np.float32)
    labels = flip(formula_labels(x), 0.03, seed=8)
    path = write_csv(tmp_path / "noisy.csv", x, labels)
    result = train(TrainConfig(device="cpu", data_file=str(path), holdout=0.2))
    assert abs(result.boundary - 32.0) < 1.0
    assert not result.separable and result.placement == "fewest errors"
    m = result.metrics
    assert m["train_count"] == 16_000 and m["holdout_count"] == 4_000
    # 3 % of the labels are wrong whatever the model does; a good boundary gets little more wrong.
    assert 0.955 < m["train_accuracy"] < 0.985 and 0.955 < m["holdout_accuracy"] < 0.985
    assert m["train_errors"] == round((1 - m["train_accuracy"]) * 16_000)


@pytest.mark.parametrize("threshold", [37.5, -40.0, 451.0])
def test_a_file_labelled_at_another_threshold_learns_it_inside_its_gap(
    tmp_path: Path, threshold: float
) -> None:
    x = np.round(np.random.default_rng(3).uniform(threshold - 80, threshold + 80, 5_000), 1)
    x = x.astype(np.float32)
    labels = formula_labels(x, threshold)
    result = train(
        TrainConfig(device="cpu", data_file=str(write_csv(tmp_path / "t.csv", x, labels)))
    )
    largest_0, smallest_1 = float(x[labels == 0].max()), float(x[labels == 1].min())
    assert result.separable and result.label_gap == (largest_0, smallest_1)
    assert largest_0 <= result.boundary < smallest_1
    assert abs(result.boundary - threshold) < 0.1
    assert np.array_equal(predict_labels(result.model, x), labels)


def test_noisy_summary_lines(tmp_path: Path) -> None:
    x = np.round(np.random.default_rng(1).uniform(-40, 120, 4_000), 1).astype(np.float32)
    path = write_csv(tmp_path / "n.csv", x, flip(formula_labels(x), 0.05, seed=2))
    code, stdout, stderr = invoke(
        "--data-file", str(path), "--holdout", "0.25", "--out", str(tmp_path / "m.pt")
    )
    assert code == 0, stderr
    assert (
        "data            n.csv: 4,000 rows read, 3,000 used for the fit, 1,000 held out" in stdout
    )
    assert "separable       no:" in stdout and "fewest rows wrong" in stdout
    assert "training        accuracy " in stdout and "held out        accuracy " in stdout
    assert "(seed 0)" in stdout


def test_holdout_is_seeded(tmp_path: Path) -> None:
    x = np.round(np.random.default_rng(1).uniform(-40, 120, 2_000), 1).astype(np.float32)
    path = str(write_csv(tmp_path / "n.csv", x, flip(formula_labels(x), 0.05, seed=2)))
    runs = [
        train(TrainConfig(device="cpu", data_file=path, holdout=0.3, seed=s)) for s in (1, 1, 2)
    ]
    assert runs[0].data is not None and runs[1].data is not None and runs[2].data is not None
    assert np.array_equal(runs[0].data.x, runs[1].data.x)
    assert not np.array_equal(runs[0].data.x, runs[2].data.x)
    assert len(runs[0].data.x) == len(runs[2].data.x) == 1_400


def test_skip_bad_rows_counts_them(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "fahrenheit,label\n10,0\nabc,1\n20,0\nnan,0\n40,1\n50,2\n-500,0\n60,1\n70,\n80,1\n"
    )
    out = tmp_path / "m.pt"
    code, stdout, stderr = invoke(
        "--data-file", str(path), "--on-invalid", "skip", "--out", str(out)
    )
    assert code == 0, stderr
    assert "10 rows read, 5 used for the fit, 5 skipped" in stdout
    assert stderr.splitlines() == [
        "skipped s.csv line 3: 'abc' is not a number",
        "skipped s.csv line 5: 'nan' is not a number",
        "skipped s.csv line 7: label '2' is not 0 or 1",
        "skipped s.csv line 8: '-500' is below absolute zero (-459.67 °F)",
        "skipped s.csv line 10: label '' is not 0 or 1",
    ]
    assert load_checkpoint(out).info["training_file"]["rows_skipped"] == 5


def test_columns_by_name_or_index_and_labels_as_spreadsheets_write_them(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("when,obs,temp_f\nmon, 0 ,30\ntue,0.0,31\nwed,1.0,34\nthu,1,35\n")
    by_name = train(
        TrainConfig(device="cpu", data_file=str(path), input_column="temp_f", label_column="obs")
    )
    by_index = train(
        TrainConfig(device="cpu", data_file=str(path), input_column="2", label_column="1")
    )
    assert by_name.boundary == by_index.boundary == 32.5


BAD_FILES = {
    "empty": ("", "is empty"),
    "header only": ("fahrenheit,label\n", "no data rows"),
    "one class": ("fahrenheit,label\n30,1\n40,1\n", "only label 1"),
    "missing input column": (
        "temp,label\n30,0\n",
        "--input-column 'fahrenheit': not in the header",
    ),
    "missing label column": ("fahrenheit,obs\n30,0\n", "--label-column 'label': not in the header"),
    "label 2": ("fahrenheit,label\n30,0\n40,2\n", "line 3: label '2' is not 0 or 1"),
    "label yes": ("fahrenheit,label\n30,no\n40,yes\n", "line 2: label 'no' is not 0 or 1"),
    "label -1": ("fahrenheit,label\n30,-1\n40,1\n", "line 2: label '-1' is not 0 or 1"),
    "label 0.5": ("fahrenheit,label\n30,0\n40,0.5\n", "line 3: label '0.5' is not 0 or 1"),
    "short row": ("fahrenheit,label\n30,0\n40\n", "line 3: the row has no label column"),
    "nan": ("fahrenheit,label\n30,0\nnan,1\n", "line 3: 'nan' is not a number"),
    "inf": ("fahrenheit,label\n-inf,0\n40,1\n", "line 2: '-inf' is not a number"),
    "text": ("fahrenheit,label\n30,0\nwarm,1\n", "line 3: 'warm' is not a number"),
    "below absolute zero": ("fahrenheit,label\n-460,0\n40,1\n", "'-460' is below absolute zero"),
    "beyond float32": ("fahrenheit,label\n30,0\n1e39,1\n", "'1e39' overflows float32"),
    "empty value": ("fahrenheit,label\n30,0\n,1\n", "line 3:"),
    "decreasing": ("fahrenheit,label\n30,1\n31,1\n40,0\n41,0\n", "no rising boundary"),
    "one temperature": ("fahrenheit,label\n30,1\n30,0\n", "one temperature"),
    "binary": ("fahrenheit,label\n30,0\n\0\0\x01\x02,1\n", "line 3"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_bad_file_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    text, message = BAD_FILES[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode())
    out = tmp_path / "m.pt"
    code, stdout, stderr = invoke("--data-file", str(path), "--out", str(out))
    assert code == 2, (stdout, stderr)
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("Error: ")
    assert "Traceback" not in stderr and stdout == ""
    assert list(tmp_path.iterdir()) == [path]  # no checkpoint, no temp file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-file", "{tmp}/none.csv"], "data file not found"),
        (["--data-file", "{tmp}"], "directory"),
        (["--data-file", "{file}", "--rule-threshold", "40"], "brings its own labels"),
        (["--data-file", "{file}", "--objective", "celsius"], "only labels"),
        (["--data-file", "{file}", "--samples", "100"], "--samples cannot be used with it"),
        (["--data-file", "{file}", "--data", "question"], "conflicts with --data question"),
        (["--data-file", "{file}", "--refine"], "--refine cannot be used with it"),
        (["--holdout", "0.2"], "--holdout needs --data-file"),
        (["--label-column", "obs"], "--label-column needs --data-file"),
        (["--data-file", "{file}", "--holdout", "0.999"], "held out"),
        (["--data-file", "{file}", "--input-column", "label"], "must differ"),
    ],
)
def test_option_conflicts_exit_2(
    question_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)).replace("{file}", str(question_file)) for a in args]
    code, stdout, stderr = invoke(*args, "--out", str(tmp_path / "m.pt"))
    assert code == 2 and message in stderr, stderr
    assert not (tmp_path / "m.pt").exists()


def test_a_real_process_reports_one_line_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("fahrenheit,label\n30,0\n40,maybe\n")
    proc = subprocess.run(
        [str(BIN / "train-model"), "--data-file", "bad.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "Error: bad.csv line 3: label 'maybe' is not 0 or 1 "
        "(use --on-invalid skip to skip bad rows)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_data_question_and_its_old_spelling_seed() -> None:
    assert TrainConfig(data="seed") == TrainConfig(data="question")
    a = train(TrainConfig(device="cpu", data="seed"))
    b = train(TrainConfig(device="cpu", data="question"))
    assert a.config.data == b.config.data == "question"
    assert a.boundary == b.boundary == 32.0


def test_the_fit_agrees_with_scikit_learn(tmp_path: Path) -> None:
    """An independent solver on the same penalised loss finds the same optimum."""
    from sklearn.linear_model import LogisticRegression

    x = np.round(np.random.default_rng(5).uniform(-40, 120, 3_000), 1).astype(np.float32)
    labels = flip(formula_labels(x), 0.1, seed=6)
    result = train(
        TrainConfig(device="cpu", data_file=str(write_csv(tmp_path / "f.csv", x, labels)))
    )
    x64 = x.astype(np.float64)
    z = (x64 - x64.mean()) / x64.std()
    # Ours: mean BCE + l2/2 · a²; scikit-learn: C · sum BCE + a²/2, so C = 1 / (l2 · n).
    l2 = TrainConfig().l2
    model = LogisticRegression(C=1 / (l2 * len(x)), tol=1e-12, max_iter=10_000)
    model.fit(z[:, None], labels)
    a, c = float(model.coef_[0, 0]), float(model.intercept_[0])
    boundary = x64.mean() - c * x64.std() / a
    assert result.fit_boundary == pytest.approx(boundary, abs=1e-4)
    assert result.fit_weight == pytest.approx(a / x64.std(), rel=1e-4)


def test_newton_steps_come_from_autograd() -> None:
    """At the optimum autograd's gradient of the loss, written once in torch, is zero."""
    from fclf_edge.train.model import StandardisedLogit
    from fclf_edge.train.newton import newton_minimise

    z = torch.linspace(-2, 2, 401, dtype=torch.float64)
    y = (z > 0.3).double()
    module = StandardisedLogit(0.0, 1.0)

    def loss() -> torch.Tensor:
        bce = torch.nn.functional.binary_cross_entropy_with_logits(module(z), y)
        return bce + 0.5 * 1e-3 * module.slope**2

    seen: list[float] = []
    steps = newton_minimise(module, loss, 50, seen.append)
    assert 3 <= steps < 50 and seen == sorted(seen, reverse=True)
    grads = torch.autograd.grad(loss(), list(module.parameters()))
    assert max(abs(float(g)) for g in grads) < 1e-10
    weight, bias = module.raw()
    assert 0.29 < -bias / weight < 0.31


def test_fewest_errors_ties_go_to_the_fit() -> None:
    x = np.array([0, 1, 2, 3, 4, 5], dtype=np.float32)
    labels = np.array([0, 1, 0, 1, 1, 1])  # thresholds in [0, 1) and [2, 3) both get 1 wrong
    counts = count_labels(x, labels)
    assert fewest_errors(counts, prefer=2.4).threshold == 2.5
    assert fewest_errors(counts, prefer=0.2).threshold == 0.5
    one_step = count_labels(np.array([1.0, next_up(1.0)], dtype=np.float32), np.array([0, 1]))
    t = fewest_errors(one_step, prefer=1.0).threshold
    assert t == 1.0 and np.float32(next_up(1.0)) > t  # adjacent floats: the threshold is the 0


def test_library_errors_are_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("fahrenheit,label\n1,1\n")
    with pytest.raises(InvalidInputError, match="only label 1"):
        train(TrainConfig(device="cpu", data_file=str(path)))


def test_the_file_training_benchmark_runs(tmp_path: Path) -> None:
    """bench/train_file.py end to end on tiny files, so it cannot rot (no timing asserted)."""
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\nkept\n")
    proc = subprocess.run(
        [sys.executable, str(root / "bench" / "train_file.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n")
    assert "<!-- section:train-file -->" in text and "Smoke run" in text
    rows = [line for line in text.splitlines() if line.startswith("| 20,000 rows")]
    assert len(rows) == 4 and sum("| train-model |" in r for r in rows) == 2


def readme_block(marker: str) -> str:
    page = (Path(__file__).resolve().parents[1] / "docs" / "train.md").read_text()
    after = page.split(f"<!-- example:{marker} -->\n", 1)[1]
    return after.split("\n", 1)[1].split("```", 1)[0]  # the fenced block under the marker


def test_readme_train_on_your_own_data_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    (tmp_path / "readings.csv").write_text(readme_block("readings.csv"))
    command, *expected = readme_block("train-on-your-own-data").splitlines()
    program, *args = shlex.split(command.removeprefix("$ "))
    assert program == "train-model"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(train_main, args)
    assert result.exit_code == 0, result.output
    got = result.stderr.splitlines() + result.stdout.splitlines()

    def steady(lines: list[str]) -> list[str]:
        return [re.sub(r"[\d.]+ s", "_ s", line) for line in lines]

    assert steady(got) == steady(expected)
    assert (tmp_path / "model.pt").exists()


def test_plot_of_a_model_trained_from_a_file(question_file: Path, tmp_path: Path) -> None:
    plot = tmp_path / "p.png"
    code, stdout, stderr = invoke(
        "--data-file", str(question_file), "--out", str(tmp_path / "m.pt"), "--plot", str(plot)
    )
    assert code == 0, stderr
    data = plot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert f"plot            {plot}" in stdout


def test_a_rule_and_a_file_do_not_mix(question_file: Path) -> None:
    from fclf_edge.runtime.formula import CELSIUS_RULE

    with pytest.raises(InvalidInputError, match="its own labels"):
        train(TrainConfig(device="cpu", data_file=str(question_file)), rule=CELSIUS_RULE)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason=CUDA_SKIP_REASON)
def test_training_from_a_file_on_cuda_matches_the_cpu(tmp_path: Path) -> None:
    x = np.round(np.random.default_rng(4).uniform(-40, 120, 20_000), 1).astype(np.float32)
    path = str(write_csv(tmp_path / "n.csv", x, flip(formula_labels(x), 0.03, seed=5)))
    cpu = train(TrainConfig(device="cpu", data_file=path, holdout=0.2))
    gpu = train(TrainConfig(device="cuda", data_file=path, holdout=0.2))
    assert gpu.device.startswith("cuda")
    assert gpu.boundary == cpu.boundary
    assert gpu.metrics["train_errors"] == cpu.metrics["train_errors"]
    assert gpu.fit_weight == pytest.approx(cpu.fit_weight, rel=1e-6)


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("temp;label\n31,5;0\n32,5;1\n-40;0\n98,6;1\n", ["--decimal-comma"]),
        ("temp\tlabel\n31.5\t0\n32.5\t1\n-40\t0\n98.6\t1\n", ["--delimiter", "tab"]),
        ("temp|label\n31.5|0\n32.5|1\n-40|0\n98.6|1\n", ["--delimiter", "|"]),
    ],
)
def test_european_and_tab_exports_train_like_predict_reads_them(
    tmp_path: Path, text: str, options: list[str]
) -> None:
    data = tmp_path / "export.csv"
    data.write_text(text)
    out = tmp_path / "m.pt"
    code, stdout, stderr = invoke(
        "--data-file", str(data), "--input-column", "temp", "--out", str(out), *options
    )
    assert code == 0, stderr
    assert "4 rows read" in stdout and "gap (31.5, 32.5)" in stdout
    assert float(load_checkpoint(out).model.threshold.item()) == pytest.approx(32.0)


def test_decimal_comma_without_a_file_or_with_a_comma_delimiter_is_refused(tmp_path: Path) -> None:
    assert invoke("--decimal-comma")[0] == 2
    data = tmp_path / "c.csv"
    data.write_text("temp,label\n31,0\n33,1\n")
    code, _, stderr = invoke(
        "--data-file",
        str(data),
        "--input-column",
        "temp",
        "--decimal-comma",
        "--out",
        str(tmp_path / "m.pt"),
    )
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.pt").exists()
