"""One small error hierarchy for the whole kit; each class carries the CLI exit code it maps to."""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_MISMATCH",
    "EXIT_USAGE",
    "EXIT_MODEL",
    "EXIT_DEVICE",
    "EXIT_DEPENDENCY",
    "EXIT_WRITE",
    "FclfError",
    "InvalidInputError",
    "ModelError",
    "MismatchError",
    "DeviceUnavailableError",
    "MissingDependencyError",
    "WriteError",
]

# Exit codes, documented in docs/predict.md (from runtime/messages.json) and every --help.
EXIT_OK = 0
EXIT_MISMATCH = 1  # verify found a wrong label, or export's parity gate failed
EXIT_USAGE = 2  # bad option or invalid input value (click also uses 2 for usage errors)
EXIT_MODEL = 3  # model or checkpoint file missing, unreadable, corrupt, unsafe or incompatible
EXIT_DEVICE = 4  # the requested device (CUDA) is not available
EXIT_DEPENDENCY = 5  # an optional dependency (torch, onnx, matplotlib) is not installed
EXIT_WRITE = 6  # an output could not be written: disk full, read-only, I/O error, no permission


class FclfError(Exception):
    """Base of every error the kit raises on purpose."""

    exit_code: int = EXIT_USAGE


class InvalidInputError(FclfError, ValueError):
    """An input value is not a usable Fahrenheit temperature.

    Attributes:
        index: 0-based position of the first bad element in the batch, when known.
        line: 1-based line number in an input file, when known.
        value: the offending value (text or number), when known.
    """

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        index: int | None = None,
        line: int | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.index = index
        self.line = line
        self.value = value


class ModelError(FclfError):
    """A model or checkpoint file is missing, unreadable, corrupt, unsafe or incompatible."""

    exit_code = EXIT_MODEL


class MismatchError(FclfError):
    """A model disagrees with the formula or with its PyTorch original."""

    exit_code = EXIT_MISMATCH


class DeviceUnavailableError(FclfError):
    """The requested compute device is not available on this machine."""

    exit_code = EXIT_DEVICE


class MissingDependencyError(FclfError):
    """An optional dependency needed for this command is not installed."""

    exit_code = EXIT_DEPENDENCY


class WriteError(FclfError, OSError):
    """An output (a file or standard output) could not be written.

    Also an OSError, so code that caught the operating system's error before still catches it.

    Attributes:
        path: the output as the user named it ("standard output" for stdout), when known.
        reason: the operating system's reason, e.g. "No space left on device", when known.
    """

    exit_code = EXIT_WRITE

    def __init__(self, message: str, *, path: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason
