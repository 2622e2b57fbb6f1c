"""Writes that never hurt: every file the kit writes goes through `atomic_writer`.

The core comes first and fits on one screen:

- A regular file (or a new one) is written to an obviously named temp file beside it
  (`.NAME.XXXXXXXX.tmp`), fsynced and renamed over the target: readers and a power cut see the
  old file or the new one, never a part. On any error or interrupt the temp file is unlinked
  and the old file is untouched (`_replace`).
- A FIFO, a character or block device, or a socket is written to directly, in place: renaming
  a file over it would replace the special file and its reader would get nothing (`_direct`).

The rarer cases follow, apart: following symlinks (the file a link names is replaced and the
link stays a link), `/dev/stdout`, `/dev/fd/N` and `/proc/self/fd/N` (this process's own
descriptor, as a shell redirection would), Unix sockets, keeping a replaced file's mode and
owner, and fsyncing the folder after the rename so that the rename itself survives a power cut.

Last, the error mapping: every OS error (no space, quota, read-only filesystem, I/O error, no
permission, no such folder) becomes one WriteError naming the path as the user gave it.
`guard_stream` does the same for standard output.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, cast

from .errors import WriteError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

STDOUT = "standard output"
_MAX_LINKS = 40  # the kernel's own limit on symlinks in one lookup (MAXSYMLINKS)
_NO_DIRECTORY_FSYNC = (errno.EINVAL, errno.ENOTSUP, errno.EBADF)  # filesystems without it

# --- The core: replace a regular file, or write a special file in place ---------------------


@contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Yield a binary file whose contents reach `path` only if the block finishes.

    A regular file is replaced atomically (temp file, fsync, rename, fsync of the folder); on
    error or interrupt the temp file is removed and the old file is untouched. A symlink is
    followed and the file it names is replaced. A FIFO, device or socket is written to directly
    (what was written before an error has been delivered). Every OS error is raised as
    WriteError naming `path` as given.

    Raises:
        WriteError: the output cannot be written (also for a directory at `path`).
    """
    shown = os.fspath(path)
    with _errors_as(shown):
        target, own_fd = _resolve(shown)
        old = None if own_fd is not None else _stat_or_none(target)
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise WriteError(
            f"cannot write {shown}: it is a directory", path=shown, reason="it is a directory"
        )
    if own_fd is not None or (old is not None and not _replaceable(target, old)):
        with _errors_as(shown):
            file = open(os.dup(own_fd), "wb") if own_fd is not None else _open_special(target)
        with _direct(shown, file) as f:
            yield f
    else:
        with _replace(shown, target, old) as f:
            yield f


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)


@contextmanager
def _replace(shown: str, target: str, old: os.stat_result | None) -> Iterator[IO[bytes]]:
    """Temp file beside `target`, fsync, rename over it, fsync the folder."""
    folder, name = os.path.split(target)
    with _errors_as(shown):
        fd, tmp = _create_temp(folder, name)
    file: IO[bytes] | None = None
    try:
        with _errors_as(shown):
            if old is not None:
                _keep_owner_and_mode(fd, old)
            file = open(fd, "wb")
        guarded = _Guarded(file, shown, quiet_pipe=False)
        yield cast(IO[bytes], guarded)
        if guarded.error is not None:
            raise guarded.error  # never publish a file that missed a write
        with _errors_as(shown):
            file.flush()
            os.fsync(fd)
            file.close()
            os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            if file is not None:
                file.close()
            else:
                os.close(fd)
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(shown, folder)


@contextmanager
def _direct(shown: str, file: IO[bytes]) -> Iterator[IO[bytes]]:
    """Write straight into an open special file; flush and close it when the block ends."""
    guarded = _Guarded(file, shown, quiet_pipe=False)
    try:
        yield cast(IO[bytes], guarded)
        if guarded.error is not None:
            raise guarded.error
        with _errors_as(shown):
            file.close()
    except BaseException:
        with suppress(OSError):
            file.close()
        raise


def _create_temp(folder: str, name: str) -> tuple[int, str]:
    """Create `.NAME.XXXXXXXX.tmp` in `folder`; mode 0666 less the umask, like any new file.

    Not tempfile.mkstemp: it creates mode 0600, and only the kernel applies the umask without
    a race (reading it means setting it).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        # name[:200]: the temp name must stay under the 255-byte limit of most filesystems.
        tmp = os.path.join(folder, f".{name[:200]}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", folder)


# --- Rarer cases: where a path leads, and what a replaced file keeps -------------------------


def _resolve(path: str) -> tuple[str, int | None]:
    """Follow symlinks to the path they name, or to one of this process's descriptors.

    Links are followed one at a time rather than with realpath, because /proc's fd links are
    not names: /dev/stdout -> /proc/self/fd/1 may read `pipe:[1234]` or a file opened with `>>`,
    and only the descriptor itself means what the shell set up.
    """
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        folder = os.path.realpath(os.path.dirname(current))
        name = os.path.basename(current)
        current = os.path.join(folder, name)
        if not os.path.islink(current):
            return current, None
        own_fd = _own_descriptor(folder, name)
        if own_fd is not None:
            return current, own_fd
        if folder.startswith("/proc/"):
            return current, None  # another process's fd link: open it, never rename over it
        current = os.path.join(folder, os.readlink(current))
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))


def _own_descriptor(folder: str, name: str) -> int | None:
    """N when folder/name is /proc/<our pid>/fd/N or /proc/<our pid>/task/<tid>/fd/N."""
    parts = folder.split("/")
    if (
        name.isascii()
        and name.isdigit()
        and len(parts) in (4, 6)
        and parts[:3] == ["", "proc", str(os.getpid())]
        and parts[-1] == "fd"
    ):
        return int(name)
    return None


def _stat_or_none(target: str) -> os.stat_result | None:
    try:
        return os.stat(target)
    except FileNotFoundError:
        return None


def _replaceable(target: str, st: os.stat_result) -> bool:
    """Only a regular file can be swapped for another by rename; /proc's files cannot either."""
    return stat.S_ISREG(st.st_mode) and not target.startswith("/proc/")


def _open_special(target: str) -> IO[bytes]:
    """Open a FIFO, device, socket or /proc entry for writing in place."""
    st = os.stat(target)
    if stat.S_ISSOCK(st.st_mode):
        fd = _connect(target)
    else:
        # O_NOCTTY: as root, opening a terminal must not make it our controlling terminal.
        flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0)
        fd = os.open(target, flags | (os.O_TRUNC if stat.S_ISREG(st.st_mode) else 0))
    return open(fd, "wb")


def _connect(target: str) -> int:
    """A descriptor connected to the Unix socket at `target` (stream, else datagram)."""
    import socket  # only for a socket target

    def connect(kind: int) -> int:
        sock = socket.socket(socket.AF_UNIX, kind)
        try:
            sock.connect(target)
        except OSError:
            sock.close()
            raise
        return sock.detach()

    try:
        return connect(socket.SOCK_STREAM)
    except OSError as exc:
        if exc.errno != errno.EPROTOTYPE:
            raise
    return connect(socket.SOCK_DGRAM)  # a datagram socket such as /dev/log


def _keep_owner_and_mode(fd: int, old: os.stat_result) -> None:
    """The replaced file keeps its permissions, and its owner where we may set it (root)."""
    if hasattr(os, "fchown"):
        with suppress(OSError):  # only root may give a file away; others keep their own
            os.fchown(fd, old.st_uid, old.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))


def _fsync_folder(shown: str, folder: str) -> None:
    """Make the rename durable: until the folder is synced, a power cut can undo it."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a folder we may write but not read (or Windows): nothing more to do
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIRECTORY_FSYNC:
            raise write_error(shown, exc) from exc
    finally:
        os.close(fd)


# --- Errors, and standard output ----------------------------------------------------------


def write_error(shown: str, exc: OSError) -> WriteError:
    """WriteError("cannot write PATH: REASON") for an OSError met while writing `shown`."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return WriteError(f"cannot write {shown}: {reason}", path=shown, reason=reason)


@contextmanager
def _errors_as(shown: str) -> Iterator[None]:
    """Turn an OSError from the enclosed operations into WriteError(shown)."""
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        raise write_error(shown, exc) from exc


class _Guarded:
    """A binary output stream whose OS errors become WriteError naming the output.

    After the first error every write and flush raises that error again, so a caller that
    swallowed it cannot go on to publish a file with a hole in it.
    """

    def __init__(self, stream: IO[bytes], name: str, *, quiet_pipe: bool) -> None:
        self._stream = stream
        self.name = name
        self._quiet_pipe = quiet_pipe
        self._closed = False
        self.error: WriteError | None = None

    def _usable(self) -> None:
        if self.error is not None:
            raise self.error
        if self._closed:
            raise ValueError("I/O operation on closed file.")

    def _mapped(self, exc: OSError) -> OSError:
        """The error to raise for `exc`: a WriteError, or a broken pipe as it is."""
        if isinstance(exc, WriteError) or (self._quiet_pipe and isinstance(exc, BrokenPipeError)):
            return exc  # for stdout, a reader that went away is not an error (`| head`)
        self.error = write_error(self.name, exc)
        return self.error

    def write(self, data: ReadableBuffer) -> int:
        self._usable()
        try:
            return self._stream.write(data)
        except OSError as exc:
            error = self._mapped(exc)
            if error is exc:
                raise
            raise error from exc

    def writelines(self, lines: Iterable[ReadableBuffer]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._closed:
            return
        self._usable()
        try:
            self._stream.flush()
        except OSError as exc:
            error = self._mapped(exc)
            if error is exc:
                raise
            raise error from exc

    def close(self) -> None:
        """Flush; the stream underneath belongs to whoever opened it and stays open."""
        if not self._closed:
            self.flush()
            self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def __enter__(self) -> _Guarded:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def guard_stream(stream: IO[bytes], name: str = STDOUT) -> IO[bytes]:
    """Wrap a binary output stream so that its OS errors become one WriteError naming `name`.

    `write`, `flush` and `close` raise `WriteError("cannot write NAME: No space left on device")`
    instead of a bare OSError (ENOSPC on /dev/full, EIO, EDQUOT...). BrokenPipeError passes
    through unchanged: a reader that went away (`| head`) is not an error. Closing the guard
    flushes it and leaves `stream` open.
    """
    return cast(IO[bytes], _Guarded(stream, name, quiet_pipe=True))
