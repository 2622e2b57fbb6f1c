"""The runtime needs numpy, onnxruntime and click only: no torch, no onnx, ever."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import cli_env

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "onnx", "onnxscript", "sklearn", "matplotlib")

PROBE = """
import json, sys
import fclf_edge.runtime
import fclf_edge.runtime.cli
from fclf_edge.runtime import Classifier
labels = Classifier().predict([33.0, 32.0]).tolist()
print(json.dumps({"labels": labels, "modules": sorted(sys.modules)}))
"""


def test_runtime_imports_no_torch_or_onnx() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=cli_env(), timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["labels"] == [1, 0]
    loaded = {m.split(".")[0] for m in data["modules"]}
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "onnxruntime" in loaded and "numpy" in loaded


# Everything `fclf-edge predict 33` may import beyond what the interpreter has loaded before
# it starts. Third-party packages and our own modules are asserted exactly; standard-library
# modules must come from this list (the interpreter version decides a few of them, so on
# another version some may be missing, never added). File readers, CSV, JSON, compression,
# tempfile and dataclasses stay off this path: they load only when an input needs them.
START_UP_THIRD_PARTY = {"click", "fclf_edge", "numpy", "onnxruntime"}
START_UP_OWN = {
    "fclf_edge",
    "fclf_edge.runtime",
    "fclf_edge.runtime._atomic",
    "fclf_edge.runtime.classifier",
    "fclf_edge.runtime.cli",
    "fclf_edge.runtime.cliutil",
    "fclf_edge.runtime.errors",
    "fclf_edge.runtime.floats",
    "fclf_edge.runtime.messages",  # the accessor only: the catalogue is read on first message
    "fclf_edge.runtime.reader",
    "fclf_edge.runtime.reader.grammar",
    "fclf_edge.runtime.reader.plain",
    "fclf_edge.runtime.reader.types",
    "fclf_edge.runtime.metadata",
    "fclf_edge.runtime.outputs",
    "fclf_edge.runtime.stream",
    "fclf_edge.runtime.validate",
}
START_UP_STDLIB = {
    # numpy, onnxruntime and click's own needs
    "_ast", "_compat_pickle", "_contextvars", "_ctypes", "_datetime", "_locale", "_opcode",
    "_pickle", "_struct", "_typing", "_uuid", "_weakrefset", "ast", "collections",
    "contextvars", "ctypes", "datetime", "dis", "gettext", "inspect", "linecache", "locale",
    "math", "numbers", "opcode", "pickle", "platform", "struct", "textwrap", "threading",
    "token", "tokenize", "typing", "uuid", "weakref",
    # the console entry point's SIGTERM handling
    "signal",
}  # fmt: skip

# Runs the console script's own entry point (so the stdout guard and signal handling it installs
# count too) and reports, as it exits through os._exit, every module imported since start-up.
PROBE_ENTRY = """
import os, sys
before = set(sys.modules)
def report(code, exit=os._exit):
    os.write(2, ("\\nMODULES " + repr(sorted(set(sys.modules) - before)) + "\\n").encode())
    exit(code)
os._exit = report
sys.argv = ["fclf-edge", *sys.argv[1:]]
from fclf_edge.runtime.cli import run
run()
"""


def imports_of(*args: str) -> tuple[str, set[str]]:
    """Run `fclf-edge ARGS` as the console script does: its stdout and the modules it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE_ENTRY, *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    errors, _, modules = proc.stderr.rpartition("\nMODULES ")
    assert proc.returncode == 0 and modules, proc.stderr
    return proc.stdout.strip(), set(eval(modules))  # noqa: S307 - our own printed list


def test_predict_start_up_imports_only_the_allow_list() -> None:
    output, modules = imports_of("predict", "33")
    assert output == "1"
    top = {m.split(".")[0] for m in modules}
    assert top - sys.stdlib_module_names == START_UP_THIRD_PARTY
    assert {m for m in modules if m.startswith("fclf_edge")} == START_UP_OWN
    outside = (top & sys.stdlib_module_names) - START_UP_STDLIB
    assert not outside, f"not on the start-up allow-list: {sorted(outside)}"
    assert not top & set(HEAVY)


@pytest.mark.parametrize(
    ("data", "suffix", "loaded", "absent"),
    [
        (b"33\n32\n", "txt", set(), {"gzip", "bz2", "lzma", "csv", "json", "zlib"}),
        (b"t,c\n33,x\n", "csv", {"csv"}, {"gzip", "bz2", "lzma", "json"}),
        (gzip.compress(b"33\n32\n"), "gz", {"gzip"}, {"bz2", "lzma", "csv", "json"}),
        (bz2.compress(b"33\n32\n"), "bz2", {"bz2"}, {"gzip", "lzma", "csv", "json"}),
        (lzma.compress(b"33\n32\n"), "xz", {"lzma"}, {"gzip", "bz2", "csv", "json"}),
    ],
)
def test_file_readers_import_only_what_the_input_needs(
    tmp_path: Path, data: bytes, suffix: str, loaded: set[str], absent: set[str]
) -> None:
    path = tmp_path / f"in.{suffix}"
    path.write_bytes(data)
    column = ["--column", "t"] if suffix == "csv" else []
    output, modules = imports_of("predict", "-i", str(path), *column)
    assert output.split() == ["1", "0"][: len(output.split())] and output
    top = {m.split(".")[0] for m in modules}
    assert loaded <= top and not absent & top, sorted(top)
    assert not top & set(HEAVY)


@pytest.mark.slow
def test_torch_free_venv(tmp_path: Path) -> None:
    """`pip install .` with no extras gives a working fclf-edge and no torch."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in cli_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            cwd=tmp_path,
        )

    install = run(
        "python",
        "-m",
        "pip",
        "install",
        "-q",
        "-c",
        str(ROOT / "constraints.txt"),
        str(ROOT),
        timeout=900,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    predict = run("fclf-edge", "predict", "33", "32")
    assert (predict.returncode, predict.stdout) == (0, "1\n0\n"), predict.stderr
    for module in ("torch", "onnx"):
        probe = run("python", "-c", f"import {module}")
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr
    names = {
        p["name"].lower()
        for p in json.loads(run("python", "-m", "pip", "list", "--format", "json").stdout)
    }
    assert {"numpy", "onnxruntime", "click", "fclf-edge"} <= names
    assert not names & {"torch", "onnx", "onnxscript"}
    verify = run("fclf-edge", "verify", "--samples", "100000")
    assert verify.returncode == 0 and "mismatches 0" in verify.stdout, verify.stderr
    # train-model is installed too, but needs the 'train' extra: exit 5 and the install command.
    no_torch = run("train-model", "--out", str(tmp_path / "m.pt"))
    assert no_torch.returncode == 5, no_torch.stderr
    assert "pip install 'fclf-edge[train]'" in no_torch.stderr


SERVER_LIBRARIES = {"uvicorn", "httptools", "uvloop", "orjson", "h11", "anyio", "starlette"}


def test_predict_imports_no_server_library() -> None:
    """`fclf-edge serve` is a command of the same CLI; `predict` never loads the server's stack."""
    import importlib.util

    assert importlib.util.find_spec("uvicorn") is not None, "the serve extra is not installed"
    output, modules = imports_of("predict", "33")
    assert output == "1"
    top = {m.split(".")[0] for m in modules}
    assert not top & SERVER_LIBRARIES, sorted(top & SERVER_LIBRARIES)
    assert not any(m.startswith("fclf_edge.runtime.serve") for m in modules)
