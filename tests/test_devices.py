"""The kit on the devices it is for, emulated (bench/emulation.py): Raspberry Pi 3, Jetson Nano,
Raspberry Pi 4 and 5 (Debian 12 arm64 on their own cores under qemu-user, with their kernel's view
of the CPU), Node 20 on a Pi 5 with Debian 13, and an x86-64 box without AVX (Nehalem).

Each profile installs fclf-edge as the README tells a device owner, then must give the x86-64
answers: labels identical on ~3.1M values, probabilities bit for bit (any last-bit difference is
reported with its values), a clean stderr. onnxruntime 1.21.0 is the control: it must die with
SIGILL on the Cortex-A53, A57 and A72, and pip must refuse to install it beside fclf-edge.
These tests fail, never skip, where emulation cannot be set up (`bash .ci/emulation.sh`).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import emulation as emu
from fclf_edge.runtime import Classifier
from fclf_edge.runtime.floats import from_ordinal, to_ordinal

pytestmark = pytest.mark.devices

ROOT = Path(__file__).resolve().parents[1]
KNOWN_BAD = "onnxruntime==1.21.0"  # SIGILL at import on Cortex-A53, A57, A72 (docs/devices.md)

API = """
import sys
import numpy as np
from fclf_edge.runtime import Classifier
classifier = Classifier()
assert classifier.predict(33.0) == 1 and classifier.predict(32.0) == 0
assert classifier.predict([33, 32, -40]).tolist() == [1, 0, 0]
assert 0.5 < classifier.predict_proba(33.0) < 1.0
x = np.load(sys.argv[1])
labels, probabilities = classifier.predict_with_proba(x)
np.savez(sys.argv[2], label=labels, probability=probabilities)
features = np._core._multiarray_umath.__cpu_features__
print(classifier.boundary, features.get("ASIMDDP", features.get("AVX")))
"""


def hidden_style_values() -> np.ndarray:
    """Every integer in [-459, 10000], a 1M-point grid of [-459.67, 1000] and the 2^20 float32
    values either side of 32 °F: 3,107,613 values."""
    integers = np.arange(-459, 10001, dtype=np.float32)
    grid = np.linspace(-459.67, 1000.0, 1_000_000, dtype=np.float32)
    centre = int(to_ordinal(np.array([32.0], dtype=np.float32))[0])
    around = from_ordinal(np.arange(centre - 2**20, centre + 2**20 + 1, dtype=np.int64))
    return np.concatenate([integers, grid, around]).astype(np.float32)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """The values, and this x86-64 machine's labels and probabilities for them."""
    folder = tmp_path_factory.mktemp("devices")
    x = hidden_style_values()
    np.save(folder / "x.npy", x)
    labels, probabilities = Classifier().predict_with_proba(x)
    return folder, labels, probabilities


@pytest.fixture(scope="module")
def bookworm() -> Path:
    emu.check_emulation()  # raises: the tests fail, never skip
    return emu.ensure_root("bookworm")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel under test: FCLF_DEVICE_WHEEL (e.g. a release's), else built from this tree."""
    given = os.environ.get("FCLF_DEVICE_WHEEL")
    return Path(given) if given else emu.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def device_venv(bookworm: Path, wheel: Path) -> str:
    """The README's device install (`pip install` of the runtime, pinned), on the Pi 3's core."""
    return emu.install_project(bookworm, emu.PROFILES["pi3"], wheel)


def compare(name: str, got: Path, labels: np.ndarray, probabilities: np.ndarray) -> list[str]:
    """Labels must be identical; returns one line per probability that differs in any bit."""
    result = np.load(got)
    assert np.array_equal(result["label"], labels), f"{name}: labels differ from x86-64"
    device_bits = result["probability"].astype(np.float32).view(np.uint32)
    differ = np.flatnonzero(device_bits != probabilities.view(np.uint32))
    x = np.load(got.parent / "x.npy")
    return [
        f"{name}: p({x[i]!r}) = {result['probability'][i]!r} here, {probabilities[i]!r} on x86-64"
        for i in differ[:20].tolist()
    ] + ([f"{name}: ... {len(differ)} in all"] if len(differ) > 20 else [])


@pytest.mark.parametrize("name", emu.ARM_PROFILES)
def test_predict_api_and_labels_as_on_x86(
    name: str, bookworm: Path, device_venv: str, reference: tuple[Path, np.ndarray, np.ndarray]
) -> None:
    profile = emu.PROFILES[name]
    folder, labels, probabilities = reference
    (folder / "values.txt").write_text("33\n32\n-40\n98.6\n")
    binds = {folder: "/work"}
    fclf = f"{device_venv}/bin/fclf-edge"
    host = {"args": "1\n0\n0\n", "file": "1\n0\n0\n1\n", "stdin": "1\n0\n"}
    for case, argv, stdin in (
        ("args", [fclf, "predict", "33", "32", "-40"], None),
        ("file", [fclf, "predict", "--input", "/work/values.txt"], None),
        ("stdin", [fclf, "predict", "--input", "-"], "33\n32\n"),
    ):
        proc = emu.run(profile, bookworm, argv, binds=binds, input=stdin)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, host[case], ""), (name, case)

    out = f"/work/{name}.npz"
    proc = emu.run(
        profile,
        bookworm,
        [f"{device_venv}/bin/python", "-c", API, "/work/x.npy", out],
        binds=binds,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    boundary, dotprod = proc.stdout.split()
    assert float(boundary) == Classifier().boundary
    # The core is the profile's: of these, only the Cortex-A76 has the dot-product instructions.
    assert dotprod == str("asimddp" in profile.features), proc.stdout
    differences = compare(name, folder / f"{name}.npz", labels, probabilities)
    print("\n".join(differences) or f"{name}: every probability bit-identical to x86-64")
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize("name", emu.ARM_PROFILES)
def test_verify_sample(name: str, bookworm: Path, device_venv: str) -> None:
    proc = emu.run(
        emu.PROFILES[name], bookworm, [f"{device_venv}/bin/fclf-edge", "verify", "--quiet"]
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    assert "checked    1,000,000 values" in proc.stdout, proc.stdout
    assert "mismatches 0 (0.0000%)" in proc.stdout, proc.stdout
    assert "probability 0 violations" in proc.stdout, proc.stdout


@pytest.mark.parametrize("name", ["pi3", "jetson-nano", "pi4"])
def test_known_bad_onnxruntime_dies_with_sigill(name: str, bookworm: Path) -> None:
    """The control: the emulation reproduces the crash the pyproject's exclusion is for."""
    venv = emu.onnxruntime_venv(bookworm, KNOWN_BAD.split("==")[1])
    proc = emu.run(emu.PROFILES[name], bookworm, [f"{venv}/bin/python", "-c", "import onnxruntime"])
    assert proc.returncode == -signal.SIGILL, (proc.returncode, proc.stderr[-1000:])


def test_pip_refuses_the_known_bad_onnxruntime(
    bookworm: Path, device_venv: str, wheel: Path
) -> None:
    pip = f"{device_venv}/bin/pip"
    argv = [pip, "install", "--dry-run", "--ignore-installed", f"/work/{wheel.name}", KNOWN_BAD]
    proc = emu.run(emu.PROFILES["pi4"], bookworm, argv, binds={wheel.parent: "/work"})
    assert proc.returncode != 0, proc.stdout
    assert "ResolutionImpossible" in proc.stderr, proc.stderr[-2000:]


def test_node_on_pi5_debian13(reference: tuple[Path, np.ndarray, np.ndarray]) -> None:
    if not (ROOT / "runtime" / "js" / "node_modules" / "onnxruntime-node").exists():
        pytest.fail("runtime/js/node_modules missing: ONNXRUNTIME_NODE_INSTALL=skip npm ci ...")
    emu.check_emulation()
    trixie = emu.ensure_root(emu.NODE_SUITE)
    folder, labels, probabilities = reference
    pi5 = emu.PROFILES["pi5"]
    binds = {ROOT: "/src", folder: "/work"}
    cli = "/src/runtime/js/bin/fclf-edge.mjs"
    proc = emu.run(pi5, trixie, ["node", "--version"])
    assert proc.stdout.startswith("v20."), proc.stdout
    proc = emu.run(pi5, trixie, ["node", cli, "predict", "33", "32", "-40"], binds=binds)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n0\n0\n", "")
    proc = emu.run(pi5, trixie, ["node", cli, "info", "--json"], binds=binds)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert json.loads(proc.stdout)
    proc = emu.run(pi5, trixie, ["node", cli, "verify", "--quiet"], binds=binds, timeout=900)
    assert proc.returncode == 0 and proc.stderr == "", proc.stdout + proc.stderr
    script = folder / "labels.mjs"
    script.write_text(NODE_LABELS)
    proc = emu.run(pi5, trixie, ["node", "/work/labels.mjs"], binds=binds, timeout=900)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    got = np.fromfile(folder / "node-labels.bin", dtype=np.uint8)
    assert np.array_equal(got, labels.astype(np.uint8)), "Node labels differ from x86-64"
    bits = np.fromfile(folder / "node-proba.bin", dtype=np.uint32)
    differ = np.flatnonzero(bits != probabilities.view(np.uint32))
    assert len(differ) == 0, f"{len(differ)} Node probabilities differ from x86-64"


NODE_LABELS = """
import { readFileSync, writeFileSync } from 'node:fs';
import { Classifier } from '/src/runtime/js/index.js';
const raw = readFileSync('/work/x.npy');
const header = raw.readUInt16LE(8);
const x = new Float32Array(raw.buffer.slice(raw.byteOffset + 10 + header));
const classifier = await Classifier.load();
const labels = await classifier.predict(x);
const proba = await classifier.predictProba(x);
writeFileSync('/work/node-labels.bin', Uint8Array.from(labels));
writeFileSync('/work/node-proba.bin', new Uint8Array(Float32Array.from(proba).buffer));
"""


def test_x86_v2_nehalem(reference: tuple[Path, np.ndarray, np.ndarray]) -> None:
    emu.check_emulation()
    features = "import numpy; f = numpy._core._multiarray_umath.__cpu_features__; "
    proc = emu.run_x86_v2([sys.executable, "-c", features + "print(f['SSE42'], f['AVX'])"])
    assert proc.stdout == "True False\n", proc.stdout + proc.stderr  # x86-64-v2, no AVX
    proc = emu.run_x86_v2([sys.executable, "-m", "fclf_edge.runtime", "predict", "33", "32"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n0\n", "")
    folder, labels, probabilities = reference
    proc = emu.run_x86_v2(
        [sys.executable, "-c", API, str(folder / "x.npy"), str(folder / "x86-v2.npz")],
        timeout=900,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    differences = compare("x86-v2", folder / "x86-v2.npz", labels, probabilities)
    assert not differences, "\n".join(differences)
