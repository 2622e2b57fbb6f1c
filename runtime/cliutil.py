"""Shared CLI plumbing: one-line errors with documented exit codes, and the process entry point."""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any, NoReturn

import click

from .errors import FclfError
from .messages import exit_codes_help, text

# 128 + the signal's number, as a shell reports a process that the signal killed (the catalogue,
# messages.json, documents both; a test keeps them equal).
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class ExitCodesInHelp(click.Command):
    """A command whose --help ends its description with the exit codes, from the catalogue.

    Added when the help is shown, not when the command is defined: reading the catalogue at
    import would cost every `fclf-edge predict` a file read and the json module.
    """

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help_text(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(exit_codes_help("python"))

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """click's main, with every error on one line: `Error: ...` and its exit code.

        click prints a usage error (an unknown option, a bad choice, a missing file) after the
        usage text and a hint, four lines in all; what is wrong is the last one, and that line
        is what every other fault of the kit prints.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            click.echo(text("cli.error", message=exc.format_message()), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # Without standalone mode click returns --help's and --version's exit code, or the
        # command's return value (None: success).
        sys.exit(result if isinstance(result, int) else 0)


class CommandWithExitCodes(ExitCodesInHelp):
    """A subcommand of fclf-edge (see ExitCodesInHelp)."""


class GroupWithExitCodes(ExitCodesInHelp, click.Group):
    """The fclf-edge group: its help and its subcommands' help end with the exit codes."""

    command_class = CommandWithExitCodes


class OptionError(click.BadParameter):
    """A refused option value: one line, `Error: Invalid value for '--x': ...`, exit 2.

    click prints its usage line and a hint before other usage errors; the option and the
    problem are all a person needs here, on the one line every fault gets.
    """

    def format_message(self) -> str:
        hint = self.param.get_error_hint(self.ctx) if self.param is not None else "the value"
        return text("option.invalid", option=hint, problem=self.message)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(text("cli.error", message=self.format_message()), err=True)


class _Bounded:
    """Range description and one-line failures shared by FiniteFloat and BoundedInt."""

    min: Any  # float | int | None, as click's range types hold them
    max: Any
    min_open: bool
    max_open: bool

    def _describe_range(self) -> str:
        """click's wording (`x>=1`, `0.0<=x<1.0`), in the catalogue's messages and in --help."""
        low = "<" if self.min_open else "<="
        high = "<" if self.max_open else "<="
        if self.min is None and self.max is None:
            return ""  # no bounds: nothing to add to --help
        if self.min is None:
            return f"x{high}{self.max}"
        if self.max is None:
            return f"x{'>' if self.min_open else '>='}{self.min}"
        return f"{self.min}{low}x{high}{self.max}"

    def _check_bounds(
        self, number: float, param: click.Parameter | None, ctx: click.Context | None
    ) -> None:
        below = self.min is not None and (
            number <= self.min if self.min_open else number < self.min
        )
        above = self.max is not None and (
            number >= self.max if self.max_open else number > self.max
        )
        if below or above:
            message = text("option.out_of_range", value=number, range=self._describe_range())
            self.fail(message, param, ctx)

    def fail(
        self, message: str, param: click.Parameter | None = None, ctx: click.Context | None = None
    ) -> NoReturn:
        """click's ParamType.fail, raising the one-line OptionError."""
        raise OptionError(message, param=param, ctx=ctx)


class FiniteFloat(_Bounded, click.FloatRange):
    """A float option: finite, in [min, max] when given, refused in one line with exit 2.

    Args:
        min, max, min_open, max_open: bounds, as click.FloatRange takes them.
        float32: also refuse values that round to infinity as float32 (a model parameter).
        temperature: the value is a °F input: the runtime's own checks (absolute zero, float32).

    NaN and infinities are refused by every instance: float() reads "nan" and "inf", and a NaN
    compares false with any bound, so a range alone lets it through.
    """

    name = "float"

    def __init__(
        self,
        min: float | None = None,  # noqa: A002 - click's names
        max: float | None = None,  # noqa: A002
        min_open: bool = False,
        max_open: bool = False,
        *,
        float32: bool = False,
        temperature: bool = False,
    ) -> None:
        super().__init__(min, max, min_open, max_open)
        self.float32 = float32
        self.temperature = temperature

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            number = value
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                self.fail(text("option.not_float", value=repr(value)), param, ctx)
        shown = repr(value) if isinstance(value, str) else repr(number)
        if not math.isfinite(number):
            self.fail(text("option.not_finite", value=shown), param, ctx)
        reason = None
        if self.temperature:
            from .validate import problem_with

            reason = problem_with(number)
        elif self.float32:
            from .floats import FLOAT32_OVERFLOW

            reason = text("reason.overflow") if abs(number) >= FLOAT32_OVERFLOW else None
        if reason is not None:
            self.fail(text("option.reason", value=repr(number), reason=reason), param, ctx)
        self._check_bounds(number, param, ctx)
        return number


class BoundedInt(_Bounded, click.IntRange):
    """An integer option in [min, max] (either may be None), refused in one line with exit 2."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(value)
            except (TypeError, ValueError):
                self.fail(text("option.not_integer", value=repr(value)), param, ctx)
        self._check_bounds(number, param, ctx)
        return number


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
        click.echo(text("cli.interrupted"), err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        click.echo(text("cli.terminated"), err=True)
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
        click.echo(text("cli.interrupted"), err=True)
        code = EXIT_INTERRUPTED
    except Terminated:
        click.echo(text("cli.terminated"), err=True)
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
        click.echo(text("cli.error", message=_one_line(exc)), err=True)
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
            click.echo(text("cli.error", message=_one_line(exc)), err=True)
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


class EntryCommand(ExitCodesInHelp):
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
            f"{command} needs {', '.join(missing)}, "
            f"which {'is' if len(missing) == 1 else 'are'} not installed: "
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
