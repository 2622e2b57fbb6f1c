"""Shared CLI plumbing: one-line errors with documented exit codes, and the process entry point."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, NoReturn

import click

from .errors import FclfError

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 mismatch (verify or export parity gate); 2 usage or invalid input; "
    "3 model or checkpoint file problem; 4 requested device unavailable; "
    "5 optional dependency missing; 6 an output could not be written (disk full, read-only, "
    "no permission, I/O error); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM)."
)
# 128 + the signal's number, as a shell reports a process that the signal killed.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so cleanup runs as for Ctrl-C (see run_command).

    A BaseException like KeyboardInterrupt: `except Exception` must not swallow it.
    """


class CliError(click.ClickException):
    """A ClickException with the exit code of the FclfError it came from."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # per instance, by design


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split("\n")) or type(exc).__name__


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    """Re-raise FclfError as a one-line click error carrying the error's exit code.

    Ctrl-C exits 130 with "Interrupted.", SIGTERM (under run_command) 143 with "Terminated.";
    both unwind first, so atomic writers remove their temp files.
    """
    try:
        yield
    except FclfError as exc:
        raise CliError(_one_line(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        click.echo("Terminated.", err=True)
        sys.exit(EXIT_TERMINATED)


def run_command(command: Callable[[], object]) -> NoReturn:
    """Run a click command as the whole process: the console scripts' entry point.

    - SIGTERM raises Terminated in the main thread (exit 143, temp files removed), unless the
      signal was ignored when the process started.
    - sys.stdout writes through `guard_stream`: a full disk or an I/O error on standard output
      ends the command with "Error: cannot write standard output: ..." and exit 6, never a
      traceback or "Exception ignored" at exit.
    - It flushes, then leaves without interpreter teardown: tearing down onnxruntime, numpy and
      every module costs ~25 ms, a sixth of a cold start, and a one-shot command has nothing to
      clean up (files are closed, writes are atomic and already renamed).

    It ends with `os._exit`, so `atexit` handlers, `weakref.finalize` callbacks and `__del__`
    methods never run, and buffered streams other than sys.stdout and sys.stderr are not
    flushed. Code run by a command must finish its own work before returning: close and flush
    what it opened (a `with` block does), join its threads (daemon threads are cut off), remove
    its temp files; a long-running command shuts down inside the command, not in atexit. Tests
    that call `.main()` through CliRunner bypass this function, so a cleanup left to atexit
    passes there and is still lost in the installed command.
    """
    _guard_stdout()
    try:
        _raise_on_sigterm()
        code = _exit_code(command)
        code = _flush_stdout(code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = EXIT_INTERRUPTED
    except Terminated:
        click.echo("Terminated.", err=True)
        code = EXIT_TERMINATED
    with suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def _exit_code(command: Callable[[], object]) -> int:
    try:
        command()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        click.echo(exc.code, err=True)
        return 1
    except FclfError as exc:  # raised outside errors_to_exit_codes, e.g. printing --help
        click.echo(f"Error: {_one_line(exc)}", err=True)
        return exc.exit_code
    return 0


def _flush_stdout(code: int) -> int:
    """Flush standard output; a failure is the command's error unless it already had one."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass  # the reader went away, or stdout was closed: nothing left to say
    except FclfError as exc:
        if code == 0:
            click.echo(f"Error: {_one_line(exc)}", err=True)
            code = exc.exit_code
    return code


def _raise_on_sigterm() -> None:
    import signal

    def handler(signum: int, frame: object) -> None:
        # Ignore repeats while unwinding, so a second SIGTERM cannot cut the cleanup short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, handler)


def _guard_stdout() -> None:
    """Put sys.stdout's text layer over a guarded binary buffer (see _atomic.guard_stream)."""
    import io

    from ._atomic import STDOUT, guard_stream

    out = sys.stdout
    if out is None:
        # Started with descriptor 1 closed (`>&-`): Python sets no sys.stdout. Writes then fail
        # like any other write to a bad descriptor: one line, exit 6.
        closed: Any = _ClosedStream()
        sys.stdout = io.TextIOWrapper(guard_stream(closed, STDOUT), encoding="utf-8")
        return
    if not isinstance(out, io.TextIOWrapper):
        return  # one a host program set up: leave it alone
    sys.stdout = io.TextIOWrapper(
        guard_stream(out.buffer, STDOUT),
        encoding=out.encoding,
        errors=out.errors,
        line_buffering=out.line_buffering,
        write_through=out.write_through,
    )


class _ClosedStream(io.RawIOBase):
    """Standard output when the process started without one: every write fails with EBADF."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        import errno

        raise OSError(errno.EBADF, "it is closed (the process started without one)")


class EntryCommand(click.Command):
    """A click command that, called as a console script calls it, runs through run_command.

    Console scripts call the command object (`sys.exit(main())`); CliRunner and tests call
    `.main()` and keep click's in-process behaviour.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        run_command(lambda: self.main(*args, **kwargs))


def stderr_is_tty() -> bool:
    """Progress bars only for a person at a terminal: never in pipes, files or CI logs."""
    return sys.stderr.isatty()


def require(*modules: str, extra: str, command: str) -> None:
    """Fail with exit code 5 and the install command when an optional dependency is missing."""
    import importlib.util

    from .errors import MissingDependencyError

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"{command} needs {', '.join(missing)}, which is not installed: "
            f"pip install 'fclf-edge[{extra}]'"
        )


@contextmanager
def progress_bar(length: int, label: str, enabled: bool) -> Iterator[Any]:
    """A click progress bar on stderr, or None when disabled (so callers pass no callback)."""
    if not enabled:
        yield None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar
