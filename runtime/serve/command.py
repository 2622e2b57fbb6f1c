"""`fclf-edge serve`: load the model, bind, serve. The click command in cli.py calls `serve`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import InvalidInputError
from .app import InferenceApp, Limits
from .server import Network, bind, configure_logging, run

OPENAPI_FILE = "openapi.json"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


@dataclass(frozen=True)
class ServeOptions:
    """Everything `fclf-edge serve` takes; each field is one command-line option.

    Attributes:
        model: the .onnx file (None: the bundled model).
        name: the model's name in URLs (None: the file's stem, `fahrenheit` when bundled).
        threads: onnxruntime intra-op threads per inference (1 suits this model).
        network, limits: see Network and Limits.
        log_format: "text" or "json".
        log_level: "debug", "info", "warning" or "error".
        access_log: one line per request.
    """

    model: str | None = None
    name: str | None = None
    threads: int = 1
    network: Network = field(default_factory=Network)
    limits: Limits = field(default_factory=Limits)
    log_format: str = "text"
    log_level: str = "info"
    access_log: bool = False


def build_app(options: ServeOptions) -> InferenceApp:
    """Load the model and make the app. Raises ModelError (exit 3) for a bad model file."""
    from importlib.metadata import version

    from ..classifier import Classifier
    from .model import ServedModel

    classifier = Classifier(options.model, threads=options.threads)
    name = options.name or Path(classifier.path).stem
    if not _NAME.fullmatch(name):
        raise InvalidInputError(
            f"model name {name!r} cannot be part of a URL; give --name with letters, digits, "
            "'.', '_' or '-'"
        )
    openapi = resources.files(__package__).joinpath(OPENAPI_FILE).read_bytes()
    return InferenceApp(
        ServedModel(classifier, name),
        options.limits,
        server_version=version("fclf-edge"),
        openapi=openapi,
    )


def serve(options: ServeOptions) -> int:
    """Serve until SIGTERM or Ctrl-C; returns the exit code (0 after a graceful drain).

    Raises:
        ModelError: the model cannot be loaded (before anything listens).
        InvalidInputError: the address cannot be bound (port in use, no permission).
    """
    app = build_app(options)
    sock = bind(options.network.host, options.network.port, options.network.backlog)
    configure_logging(options.log_format, options.log_level)
    return run(app, sock, options.network, options.access_log)
