"""Checkpoints: plain data only, refused when they carry pickled objects, written atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import torch

from fclf_edge.runtime._atomic import atomic_write_bytes
from fclf_edge.runtime.errors import FclfError, ModelError
from fclf_edge.train.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from fclf_edge.train.fit import TrainResult


class Payload:
    """Stands for any object a hostile checkpoint could smuggle in through pickle."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > /dev/null",))


def test_round_trip(checkpoint_path: Path, trained: TrainResult) -> None:
    loaded = load_checkpoint(checkpoint_path)
    assert float(loaded.model.threshold) == trained.boundary
    assert float(loaded.model.scale) == pytest.approx(trained.weight)
    assert loaded.config == trained.config
    assert loaded.metrics["grid_1m_accuracy"] == 1.0
    assert loaded.info["torch_version"] == str(torch.__version__)


def test_checkpoint_holds_only_plain_data(checkpoint_path: Path) -> None:
    payload = torch.load(checkpoint_path, weights_only=True)
    assert payload["format"] == CHECKPOINT_FORMAT
    assert set(payload["state_dict"]) == {"scale", "threshold"}
    assert isinstance(payload["config"], dict) and isinstance(payload["metrics"], dict)


def test_pickled_object_is_refused(tmp_path: Path, checkpoint_path: Path) -> None:
    payload = torch.load(checkpoint_path, weights_only=True)
    payload["metrics"]["extra"] = Payload()
    evil = tmp_path / "evil.pt"
    torch.save(payload, evil)
    with pytest.raises(ModelError, match="refused to load .*pickled object"):
        load_checkpoint(evil)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable"),
        (b"not a checkpoint at all", "not a readable"),
        (None, "not an fclf-edge checkpoint"),  # a valid torch file of another kind
    ],
)
def test_foreign_files_are_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "x.pt"
    if content is None:
        torch.save({"weights": torch.zeros(3)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        load_checkpoint(path)


def test_truncated_checkpoint_is_refused(tmp_path: Path, checkpoint_path: Path) -> None:
    data = checkpoint_path.read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a readable"):
        load_checkpoint(path)


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(ModelError, match="directory"):
        load_checkpoint(tmp_path)


def test_interrupted_write_keeps_the_previous_file(
    tmp_path: Path, checkpoint_path: Path, trained: TrainResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.pt"
    target.write_bytes(checkpoint_path.read_bytes())
    before = target.read_bytes()

    def failing_save(obj: object, f: io.BytesIO) -> None:
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(target, trained.model, trained.config, {}, {})
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temp file left behind


def test_atomic_write_failure_during_write_keeps_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_bytes(target, b"new contents")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_atomic_write_to_missing_folder_is_clear(tmp_path: Path) -> None:
    with pytest.raises(FclfError, match="cannot write"):
        atomic_write_bytes(tmp_path / "no" / "such" / "file", b"x")
