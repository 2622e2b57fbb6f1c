"""Writes that never hurt: full disks, symlinks, FIFOs, devices, sockets, stdout and signals."""

from __future__ import annotations

import errno
import io
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fclf_edge.export.cli import main as export_main
from fclf_edge.runtime import WriteError, _atomic
from fclf_edge.runtime._atomic import atomic_write_bytes, atomic_writer, guard_stream
from fclf_edge.runtime.cli import main as edge
from fclf_edge.runtime.errors import EXIT_WRITE
from fclf_edge.train.cli import main as train_main

from .conftest import cli_env

BIN = Path(sys.executable).parent
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NEEDS_ROOT = "needs root (mount, mknod); CI runs the suite as root, so it runs there"
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
TEMP_NAME = re.compile(r"^\.(.+)\.[0-9a-f]{8}\.tmp$")
FULL = "No space left on device"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def edge_run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(edge, args)
    return result.exit_code, result.stdout, result.stderr


def command(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run an installed console script as a real process (the entry point under test)."""
    return subprocess.run(
        [str(BIN / name), *args], capture_output=True, text=True, env=cli_env(), timeout=120
    )


# --- the error mapping, simulated ---------------------------------------------------------


def test_fsync_failure_is_a_write_error_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")

    def full_fsync(fd: int) -> None:
        raise ENOSPC

    monkeypatch.setattr(os, "fsync", full_fsync)
    with pytest.raises(WriteError) as caught:
        atomic_write_bytes(target, b"new")
    assert str(caught.value) == f"cannot write {target}: {FULL}"
    assert caught.value.exit_code == EXIT_WRITE == 6
    assert (caught.value.path, caught.value.reason) == (str(target), FULL)
    assert isinstance(caught.value, OSError)  # callers that caught OSError still do
    assert target.read_bytes() == b"old" and names(tmp_path) == ["out.txt"]


class _FullRaw(io.RawIOBase):
    """A raw file on a full disk: every write fails with ENOSPC."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise ENOSPC


@pytest.mark.parametrize("size", [10, 1_000_000], ids=["fails-at-flush", "fails-in-write"])
def test_write_failure_removes_temp_and_keeps_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old model")

    def open_on_full_disk(fd: int, mode: str) -> io.BufferedWriter:
        os.close(fd)
        return io.BufferedWriter(_FullRaw())

    monkeypatch.setattr(_atomic, "open", open_on_full_disk, raising=False)
    with pytest.raises(WriteError, match=f"cannot write {re.escape(str(target))}: {FULL}"):
        atomic_write_bytes(target, b"x" * size)
    assert target.read_bytes() == b"old model" and names(tmp_path) == ["model.onnx"]


def test_rename_failure_and_cli_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "labels.txt"
    target.write_text("previous\n")

    def read_only_replace(src: str, dst: str) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", read_only_replace)
    code, out, err = edge_run(["predict", "33", "--output", str(target)])
    assert code == 6 and out == ""
    assert err == f"Error: cannot write {target}: Read-only file system\n"
    assert target.read_text() == "previous\n" and names(tmp_path) == ["labels.txt"]


def test_swallowed_write_error_never_publishes_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def open_on_full_disk(fd: int, mode: str) -> io.BufferedWriter:
        os.close(fd)
        return io.BufferedWriter(_FullRaw())

    monkeypatch.setattr(_atomic, "open", open_on_full_disk, raising=False)
    with pytest.raises(WriteError):
        with atomic_writer(target) as f:
            with pytest.raises(WriteError):
                f.write(b"x" * 1_000_000)
            # The caller ignores the error and leaves the block normally: still no rename.
    assert target.read_bytes() == b"old" and names(tmp_path) == ["out.bin"]


def test_missing_folder_directory_target_and_unwritable_output_exit_6(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "out.txt"
    code, _, err = edge_run(["predict", "33", "--output", str(missing)])
    assert (code, err) == (6, f"Error: cannot write {missing}: No such file or directory\n")
    with pytest.raises(WriteError, match="it is a directory"):
        atomic_write_bytes(tmp_path, b"x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(WriteError, match="Not a directory"):
        atomic_write_bytes(blocker / "out.txt", b"x")


def test_guard_stream_maps_errors_and_lets_a_broken_pipe_through() -> None:
    class Failing(io.BytesIO):
        def __init__(self, exc: OSError) -> None:
            super().__init__()
            self.exc = exc

        def write(self, data: object) -> int:
            raise self.exc

    guarded = guard_stream(Failing(ENOSPC))
    with pytest.raises(WriteError, match=f"^cannot write standard output: {FULL}$"):
        guarded.write(b"1\n")
    with pytest.raises(WriteError):  # the same error again: nothing more gets through
        guarded.flush()
    guarded = guard_stream(Failing(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    with pytest.raises(BrokenPipeError):
        guarded.write(b"1\n")
    sink = io.BytesIO()
    guarded = guard_stream(sink, "log.txt")
    assert guarded.write(b"ok") == 2
    guarded.close()
    assert sink.getvalue() == b"ok" and not sink.closed  # the stream stays its owner's


# --- regular files: temp name, permissions, fsync -----------------------------------------


def test_temp_file_is_obviously_named_beside_the_target(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_writer(target) as f:
        f.write(b"data")
        (temp,) = [n for n in names(tmp_path)]
        match = TEMP_NAME.match(temp)
        assert match and match.group(1) == "out.txt"
    assert names(tmp_path) == ["out.txt"] and target.read_bytes() == b"data"


def test_permissions_new_file_follows_umask_existing_keeps_its_mode(tmp_path: Path) -> None:
    old_umask = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "new.txt", b"x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640
    secret = tmp_path / "secret.txt"
    secret.write_text("old")
    secret.chmod(0o600)
    atomic_write_bytes(secret, b"new")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_bytes() == b"new"


def test_file_then_folder_are_fsynced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.txt"
    synced: list[tuple[str, bytes | None]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        synced.append((kind, target.read_bytes() if target.exists() else None))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    atomic_write_bytes(target, b"durable")
    # The data is synced before the rename, the folder after it (so the rename survives).
    assert synced == [("file", None), ("folder", b"durable")]


# --- targets that are not regular files -----------------------------------------------------


def test_symlink_target_is_replaced_and_the_link_kept(tmp_path: Path) -> None:
    links, files = tmp_path / "links", tmp_path / "files"
    links.mkdir()
    files.mkdir()
    real = files / "real.txt"
    real.write_text("old\n")
    real.chmod(0o640)
    (links / "hop").symlink_to(real)
    link = links / "link"
    link.symlink_to("hop")  # a relative link to a link
    code, out, err = edge_run(["predict", "33", "32", "--output", str(link)])
    assert (code, out) == (0, ""), err
    assert link.is_symlink() and os.readlink(link) == "hop" and (links / "hop").is_symlink()
    assert real.read_text() == "1\n0\n" and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert names(links) == ["hop", "link"] and names(files) == ["real.txt"]  # no temp files


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to("made.txt")
    atomic_write_bytes(link, b"x")
    assert link.is_symlink() and (tmp_path / "made.txt").read_bytes() == b"x"


def test_symlink_loop_is_a_write_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(WriteError, match="Too many levels of symbolic links"):
        atomic_write_bytes(tmp_path / "a", b"x")


def _read_in_thread(read_all: Callable[[], bytes]) -> Callable[[], bytes]:
    """Start a reader; the returned function joins it and gives what it read."""
    got: list[bytes] = []

    def read() -> None:
        got.append(read_all())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def result() -> bytes:
        reader.join(timeout=30)
        assert not reader.is_alive()
        return got[0]

    return result


def test_fifo_reader_gets_the_output_and_the_fifo_stays(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = _read_in_thread(fifo.read_bytes)
    code, _, err = edge_run(["predict", "33", "32", "--output", str(fifo)])
    assert code == 0, err
    assert received() == b"1\n0\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and names(tmp_path) == ["pipe"]


def test_unix_socket_listener_gets_the_output(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    if len(str(path)) > 100:
        pytest.skip(f"socket path {path} is beyond AF_UNIX's 108-byte limit")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def accept() -> bytes:
        conn, _ = server.accept()
        with conn, conn.makefile("rb") as f:
            return f.read()

    try:
        received = _read_in_thread(accept)
        code, _, err = edge_run(["predict", "33", "--output", str(path)])
        assert code == 0, err
        assert received() == b"1\n"
    finally:
        server.close()
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    if not IS_ROOT:
        pytest.skip(NEEDS_ROOT)
    path = tmp_path / "null"
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return path


@pytest.fixture
def full_device(tmp_path: Path) -> Path:
    """A device where every write fails with ENOSPC: our own node as root, else /dev/full."""
    if IS_ROOT:
        path = tmp_path / "full"
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        return path
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system (Linux has it)")
    return Path("/dev/full")


def test_device_node_is_written_and_stays_a_device(null_device: Path) -> None:
    code, _, err = edge_run(["predict", "33", "--output", str(null_device)])
    assert code == 0, err
    st = os.lstat(null_device)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert names(null_device.parent) == ["null"]


def test_full_device_is_exit_6_and_stays_a_device(full_device: Path) -> None:
    code, out, err = edge_run(["predict", "33", "--output", str(full_device)])
    assert (code, out, err) == (6, "", f"Error: cannot write {full_device}: {FULL}\n")
    assert stat.S_ISCHR(os.lstat(full_device).st_mode)


def test_export_onnx_to_a_full_device_keeps_the_device(
    full_device: Path, checkpoint_path: Path
) -> None:
    result = CliRunner().invoke(
        export_main, [str(checkpoint_path), "--out", str(full_device), "--quiet"]
    )
    assert result.exit_code == 6, result.output
    assert result.stderr == f"Error: cannot write {full_device}: {FULL}\n"
    assert stat.S_ISCHR(os.lstat(full_device).st_mode)


def test_output_dev_stdout_writes_to_our_stdout_and_keeps_the_link(tmp_path: Path) -> None:
    proc = command("fclf-edge", "predict", "33", "32", "--output", "/dev/stdout")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n0\n", "")
    assert os.path.islink("/dev/stdout")
    # Through the descriptor itself, as a shell does: `>>` appends rather than truncating.
    log = tmp_path / "log.txt"
    log.write_text("header\n")
    with log.open("a") as appended:
        code = subprocess.run(
            [str(BIN / "fclf-edge"), "predict", "33", "--output", "/dev/stdout"],
            stdout=appended,
            env=cli_env(),
            timeout=60,
        ).returncode
    assert code == 0 and log.read_text() == "header\n1\n"


# --- a real full filesystem (a 64 KiB tmpfs) ------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    if not IS_ROOT:
        pytest.skip(NEEDS_ROOT)
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _fill(folder: Path) -> None:
    """Take every free block of the filesystem under `folder`."""
    with open(folder / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_predict_output_on_a_full_disk(small_tmpfs: Path, tmp_path: Path) -> None:
    out = small_tmpfs / "labels.txt"
    out.write_text("previous\n")
    values = tmp_path / "many.txt"
    values.write_text("33\n" * 100_000)  # 200 KB of labels for a 64 KiB filesystem
    proc = command("fclf-edge", "predict", "-i", str(values), "--output", str(out))
    assert (proc.returncode, proc.stdout) == (6, "")
    assert proc.stderr == f"Error: cannot write {out}: {FULL}\n"
    assert out.read_text() == "previous\n" and names(small_tmpfs) == ["labels.txt"]


def test_train_model_out_on_a_full_disk(small_tmpfs: Path) -> None:
    out = small_tmpfs / "model.pt"
    out.write_bytes(b"old checkpoint")
    _fill(small_tmpfs)
    result = CliRunner().invoke(train_main, ["--device", "cpu", "--out", str(out), "--quiet"])
    assert result.exit_code == 6, result.output
    assert result.stderr == f"Error: cannot write {out}: {FULL}\n"
    assert out.read_bytes() == b"old checkpoint" and names(small_tmpfs) == ["filler", "model.pt"]


def test_export_onnx_out_on_a_full_disk(small_tmpfs: Path, checkpoint_path: Path) -> None:
    out = small_tmpfs / "model.onnx"
    out.write_bytes(b"old model")
    _fill(small_tmpfs)
    result = CliRunner().invoke(export_main, [str(checkpoint_path), "--out", str(out), "-q"])
    assert result.exit_code == 6, result.output
    assert result.stderr == f"Error: cannot write {out}: {FULL}\n"
    assert out.read_bytes() == b"old model" and names(small_tmpfs) == ["filler", "model.onnx"]


def test_read_only_filesystem_is_exit_6(small_tmpfs: Path) -> None:
    out = small_tmpfs / "labels.txt"
    out.write_text("previous\n")
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    code, _, err = edge_run(["predict", "33", "--output", str(out)])
    assert (code, err) == (6, f"Error: cannot write {out}: Read-only file system\n")
    assert out.read_text() == "previous\n"


# --- standard output on a full device -------------------------------------------------------


def _stdout_to_full(name: str, *args: str, buffered: bool = False) -> tuple[int, str]:
    env = cli_env()
    if buffered:
        env.pop("PYTHONUNBUFFERED")
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [str(BIN / name), *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    return proc.returncode, proc.stderr


needs_dev_full = pytest.mark.skipif(
    not Path("/dev/full").exists(), reason="no /dev/full on this system (Linux has it)"
)
STDOUT_FULL = f"Error: cannot write standard output: {FULL}\n"


@needs_dev_full
@pytest.mark.parametrize("buffered", [False, True], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize(
    "args",
    [
        ["predict", "33", "32"],
        ["predict", "--format", "json", "--proba", "33"],
        ["info", "--json"],
        ["verify", "--samples", "1000"],
        ["--help"],
    ],
)
def test_fclf_edge_stdout_on_a_full_device(args: list[str], buffered: bool) -> None:
    assert _stdout_to_full("fclf-edge", *args, buffered=buffered) == (6, STDOUT_FULL)


@needs_dev_full
def test_train_and_export_stdout_on_a_full_device(tmp_path: Path, checkpoint_path: Path) -> None:
    ckpt = tmp_path / "m.pt"
    assert _stdout_to_full("train-model", "--device", "cpu", "--out", str(ckpt)) == (
        6,
        STDOUT_FULL,
    )
    assert ckpt.exists()  # the checkpoint was written; only the summary could not be
    onnx_file = tmp_path / "m.onnx"
    code, err = _stdout_to_full("export-onnx", str(checkpoint_path), "--out", str(onnx_file))
    assert (code, err) == (6, STDOUT_FULL)


# --- signals --------------------------------------------------------------------------------


def _catches(pid: int, sig: int) -> bool:
    """Whether process `pid` has installed a handler for `sig` (Linux's /proc status)."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    caught = next(line for line in status if line.startswith("SigCgt:")).split()[1]
    return bool(int(caught, 16) >> (sig - 1) & 1)


def _default_signals() -> None:
    """In the child: undo a SIG_IGN inherited from a shell that started the suite in the
    background, which Python and the commands would otherwise keep."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [(signal.SIGTERM, 143, "Terminated.\n"), (signal.SIGINT, 130, "Interrupted.\n")],
    ids=["SIGTERM", "SIGINT"],
)
def test_signal_during_predict_leaves_no_partial_or_temp_file(
    tmp_path: Path, sig: int, code: int, message: str
) -> None:
    out = tmp_path / "labels.txt"
    out.write_text("previous\n")
    proc = subprocess.Popen(
        [str(BIN / "fclf-edge"), "predict", "-", "--output", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        preexec_fn=_default_signals,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(b"33\n" * 1_000_000)  # more than one 2 MB read block; stdin stays open
        proc.stdin.flush()
        # The temp file exists once the output is open: the run is under way, mid-stream.
        _wait_for(lambda: any(TEMP_NAME.match(n) for n in names(tmp_path)))
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.stdin.close()
    assert (proc.returncode, stdout, stderr) == (code, b"", message.encode())
    assert out.read_text() == "previous\n" and names(tmp_path) == ["labels.txt"]


@pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads the handler mask from Linux's /proc"
)
def test_sigterm_during_exhaustive_verify_exits_143() -> None:
    proc = subprocess.Popen(
        [str(BIN / "fclf-edge"), "verify", "--exhaustive"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        preexec_fn=_default_signals,
    )
    try:
        _wait_for(lambda: _catches(proc.pid, signal.SIGTERM))
        time.sleep(1)  # into the 2.3 billion values (about 20 s on two cores)
        assert proc.poll() is None
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert (proc.returncode, stdout, stderr) == (143, b"", b"Terminated.\n")


@pytest.mark.parametrize("args", [["predict", "33"], ["info"]])
def test_closed_stdout_is_exit_6_with_one_line(args: list[str]) -> None:
    # `fclf-edge predict 33 >&-`: the process starts with descriptor 1 closed.
    proc = subprocess.run(
        [str(BIN / "fclf-edge"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert proc.returncode == 6
    assert proc.stderr.startswith("Error: cannot write standard output: it is closed")
    assert len(proc.stderr.splitlines()) == 1
