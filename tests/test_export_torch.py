"""export-onnx through torch.onnx.export: edge-safe, quiet, reproducible, and the question's own
Linear models exported faithfully; refusals for what cannot or must not be loaded."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner

from fclf_edge.export.cli import main as export_main
from fclf_edge.export.edge import DEFAULT_ONNX_OPSET, ONNX_IR_VERSION
from fclf_edge.export.linear import BasicModel
from fclf_edge.export.parity import parity_inputs
from fclf_edge.runtime import DEFAULT_MODEL_PATH, Classifier
from fclf_edge.runtime.cli import main as runtime_main

from .conftest import cli_env

BIN = Path(sys.executable).parent
# The ten ops FahrenheitClassifier.forward runs, in order: what the exporter must produce.
TEN_OPS = ["Sub", "Mul", "Cast", "Neg", "Exp", "Add", "Reciprocal", "Cast", "Greater", "Cast"]
# Anything that looks like a path of the exporting machine.
MACHINE_PATH = re.compile(rb"(/(root|home|tmp|work|usr|opt|var)/|site-packages|\.py\b|[A-Z]:\\)")


def _question_model() -> torch.nn.Module:
    """The question's BasicModel with the weights its pipeline ends near (boundary ~16.8 °F)."""
    model = BasicModel()
    with torch.no_grad():
        model.linear.weight.fill_(0.2571)
        model.linear.bias.fill_(-4.3253)
    return model


def _spellings() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    bare = torch.nn.Linear(1, 1)
    sequential = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    with torch.no_grad():
        bare.weight.fill_(-0.5)  # a decreasing rule: label 1 below its boundary
        bare.bias.fill_(10.0)
        sequential[0].weight.fill_(1.8)
        sequential[0].bias.fill_(-57.6)
    return {"basic": _question_model(), "linear": bare, "sequential": sequential}


@pytest.fixture(scope="module")
def user_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Each spelling saved as its author would (state_dict), and exported: name -> (pt, onnx)."""
    folder = tmp_path_factory.mktemp("user")
    out: dict[str, tuple[Path, Path]] = {}
    for name, module in _spellings().items():
        pt, onnx_file = folder / f"{name}.pt", folder / f"{name}.onnx"
        torch.save(module.state_dict(), pt)
        result = CliRunner().invoke(export_main, [str(pt), "--out", str(onnx_file)])
        assert result.exit_code == 0, result.output
        out[name] = (pt, onnx_file)
    return out


def _author_labels(module: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """The decision as the author's model makes it: its Linear layer's logit > 0."""
    linear = next(m for m in module.modules() if isinstance(m, torch.nn.Linear))
    with torch.no_grad():
        logit = linear(torch.from_numpy(x).unsqueeze(-1)).squeeze(-1)
    return (logit > 0).to(torch.int64).numpy()


def test_trained_model_is_the_exporters_ten_ops_edge_safe(onnx_path: Path) -> None:
    model = onnx.load(onnx_path)
    assert [n.op_type for n in model.graph.node] == TEN_OPS
    assert model.ir_version == ONNX_IR_VERSION == 8
    assert [(o.domain, o.version) for o in model.opset_import] == [("", DEFAULT_ONNX_OPSET)]
    assert model.producer_name == "pytorch"
    for node in model.graph.node:
        assert not node.metadata_props and not node.doc_string
    for value in [*model.graph.input, *model.graph.output]:
        assert not value.metadata_props
    assert not model.graph.value_info
    assert not MACHINE_PATH.search(onnx_path.read_bytes())


def test_bundled_model_is_edge_safe_too() -> None:
    data = DEFAULT_MODEL_PATH.read_bytes()
    model = onnx.load_from_string(data)
    assert [n.op_type for n in model.graph.node] == TEN_OPS
    assert model.ir_version == 8 and not MACHINE_PATH.search(data)


def test_export_is_quiet_and_byte_identical_across_processes_and_folders(
    tmp_path: Path, checkpoint_path: Path, user_models: dict[str, tuple[Path, Path]]
) -> None:
    digests = []
    for folder in ("a", "deeper/b"):
        where = tmp_path / folder
        where.mkdir(parents=True)
        for source in (checkpoint_path, user_models["basic"][0]):
            proc = subprocess.run(
                [str(BIN / "export-onnx"), str(source), "--out", "out.onnx"],
                cwd=where,
                capture_output=True,
                text=True,
                env=cli_env(),
                timeout=300,
            )
            assert proc.returncode == 0, proc.stderr
            assert proc.stderr == ""  # nothing from PyTorch, onnxscript or onnx
            lines = proc.stdout.splitlines()
            assert [line.split()[0] for line in lines][:2] == ["wrote", "model"]
            assert not any("warn" in line.lower() for line in lines)
            digests.append((where / "out.onnx").read_bytes())
    assert digests[0] == digests[2] and digests[1] == digests[3]  # same source, same bytes
    assert digests[0] != digests[1]


@pytest.mark.parametrize("name", ["basic", "linear", "sequential"])
def test_user_linear_models_export_faithfully(
    user_models: dict[str, tuple[Path, Path]], name: str
) -> None:
    pt, onnx_file = user_models[name]
    module = _spellings()[name]
    model = onnx.load(onnx_file)
    assert model.ir_version == 8 and not MACHINE_PATH.search(onnx_file.read_bytes())
    clf = Classifier(onnx_file)
    x = parity_inputs(float(np.clip(clf.boundary or 0.0, -459.67, 10_000)))
    labels, probabilities = clf.predict_with_proba(x)
    assert np.array_equal(labels, _author_labels(module, x))
    with torch.no_grad():
        out = module(torch.from_numpy(x).unsqueeze(-1)).squeeze(-1)
    expected_p = out if name != "linear" else torch.sigmoid(out)
    assert np.max(np.abs(probabilities - expected_p.numpy())) <= 1e-6
    linear = next(m for m in module.modules() if isinstance(m, torch.nn.Linear))
    w, b = float(linear.weight.item()), float(linear.bias.item())
    assert clf.boundary == pytest.approx(-b / w, rel=1e-6)
    assert "state_dict" in clf.metadata["source_model"]


def test_question_model_verify_says_how_far_and_info_shows_the_boundary(
    user_models: dict[str, tuple[Path, Path]],
) -> None:
    onnx_file = str(user_models["basic"][1])
    result = CliRunner().invoke(runtime_main, ["verify", "--model", onnx_file, "-n", "100000"])
    assert result.exit_code == 1
    assert "boundary   model 16.82" in result.output
    assert re.search(r"mismatches [\d,]+ \(\d+\.\d+%\)", result.output)
    info = CliRunner().invoke(runtime_main, ["info", "--model", onnx_file])
    assert info.exit_code == 0
    assert re.search(r"boundary   16\.82\d+ °F \(1 = this model's logit", info.output)
    # 33 and 32 are both above the question model's boundary: it calls 32 °F positive.
    predict = CliRunner().invoke(runtime_main, ["predict", "--model", onnx_file, "33", "32"])
    assert predict.output == "1\n1\n"


def test_re_export_gives_the_same_bytes(
    tmp_path: Path, user_models: dict[str, tuple[Path, Path]]
) -> None:
    pt, first = user_models["sequential"]
    again = tmp_path / "again.onnx"
    assert CliRunner().invoke(export_main, [str(pt), "--out", str(again)]).exit_code == 0
    assert again.read_bytes() == first.read_bytes()


class _Payload:
    """A pickled object whose loading would run code: it must never be unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    files: dict[str, tuple[Path, str]] = {}

    def save(name: str, obj: object, message: str) -> None:
        path = folder / f"{name}.pt"
        torch.save(obj, path)
        files[name] = (path, message)

    save("whole_model", _question_model(), "torch.save(model.state_dict(), PATH)")
    save("code", {"x": _Payload(folder / "pwned")}, "pickled object")
    save("other_keys", {"fc.weight": torch.ones(1, 1), "fc.bias": torch.ones(1)}, "not a one-input")
    save("extra_key", {**torch.nn.Linear(1, 1).state_dict(), "step": torch.ones(1)}, "not a one")
    save("two_inputs", torch.nn.Linear(2, 1).state_dict(), "only Linear(1, 1)")
    save("two_outputs", torch.nn.Linear(1, 2).state_dict(), "only Linear(1, 1)")
    nan = torch.nn.Linear(1, 1).state_dict()
    nan["weight"] = torch.full((1, 1), float("nan"))
    save("nan", nan, "not finite")
    inf = {"0.weight": torch.ones(1, 1), "0.bias": torch.full((1,), float("inf"))}
    save("inf", inf, "not finite")
    zero = {"linear.weight": torch.zeros(1, 1), "linear.bias": torch.ones(1)}
    save("zero", zero, "weight is 0")
    save("list", [torch.ones(1)], "not an fclf-edge checkpoint")
    save("mixed", {"weight": torch.ones(1, 1), "note": "hello"}, "neither an fclf-edge")
    return files


def test_refusals_exit_3_with_one_line_and_nothing_written(tmp_path: Path) -> None:
    for name, (path, message) in _bad_files(tmp_path).items():
        out = tmp_path / f"{name}.onnx"
        proc = subprocess.run(
            [str(BIN / "export-onnx"), str(path), "--out", str(out), "--ort"],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=300,
        )
        assert proc.returncode == 3, (name, proc.stderr)
        assert message in proc.stderr, (name, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        assert not out.exists() and not out.with_suffix(".ort").exists()
    assert not (tmp_path / "pwned").exists()  # nothing was unpickled or executed
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".pt"] * len(_bad_files(tmp_path))


def test_ort_format_model_runs_with_identical_labels(tmp_path: Path, checkpoint_path: Path) -> None:
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(export_main, [str(checkpoint_path), "--out", str(out), "--ort"])
    assert result.exit_code == 0, result.output
    ort_file = out.with_suffix(".ort")
    assert ort_file.read_bytes()[4:8] == b"ORTM"  # the flatbuffers file identifier
    config = out.with_suffix(".required_operators.config").read_text()
    assert "ai.onnx;" in config and "Greater" in config and "m.ort" in config
    assert not MACHINE_PATH.search(config.encode())
    x = parity_inputs(32.0)
    onnx_clf, ort_clf = Classifier(out), Classifier(ort_file)
    assert np.array_equal(ort_clf.predict(x), onnx_clf.predict(x))
    assert ort_clf.metadata == onnx_clf.metadata and ort_clf.boundary == 32.0
    for args in (["predict", "33", "32"], ["info"], ["verify", "-n", "20000"]):
        run = CliRunner().invoke(runtime_main, [args[0], "--model", str(ort_file), *args[1:]])
        assert run.exit_code == 0, run.output
    assert CliRunner().invoke(runtime_main, ["predict", "-m", str(ort_file), "33"]).output == "1\n"


def test_ort_goes_beside_a_symlinks_target_and_needs_a_file(
    tmp_path: Path, checkpoint_path: Path
) -> None:
    real = tmp_path / "models" / "m.onnx"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.onnx"
    link.symlink_to(real)
    result = CliRunner().invoke(export_main, [str(checkpoint_path), "--out", str(link), "--ort"])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and real.with_suffix(".ort").exists()
    assert not (tmp_path / "link.ort").exists()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = CliRunner().invoke(export_main, [str(checkpoint_path), "--out", str(fifo), "--ort"])
    assert result.exit_code == 2 and "--ort needs --out to be a file path" in result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_the_train_extra_brings_what_the_exporter_needs(
    checkpoint_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    train = re.search(r"^train = \[(.*?)^\]", pyproject, re.M | re.S)
    assert train is not None
    names = set(re.findall(r'^\s*"([\w-]+)', train.group(1), re.M))
    assert {"torch", "onnx", "onnxscript"} <= names  # torch.onnx.export(dynamo=True) needs all
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxscript" else real_find_spec(name, *a),
    )
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(export_main, [str(checkpoint_path), "--out", str(out)])
    assert result.exit_code == 5 and "onnxscript" in result.output
    assert "pip install 'fclf-edge[train]'" in result.output and not out.exists()
