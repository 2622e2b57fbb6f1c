"""Shared CLI plumbing: turn the kit's errors into one-line messages and documented exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from .errors import FclfError

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 mismatch (verify or export parity gate); 2 usage or invalid input; "
    "3 model or checkpoint file problem; 4 requested device unavailable; "
    "5 optional dependency missing."
)


class CliError(click.ClickException):
    """A ClickException with the exit code of the FclfError it came from."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # per instance, by design


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    """Re-raise FclfError as a one-line click error carrying the error's exit code."""
    try:
        yield
    except FclfError as exc:
        message = " ".join(str(exc).split("\n")) or type(exc).__name__
        raise CliError(message, exc.exit_code) from None
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


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
