"""Run the app under uvicorn (httptools parser, uvloop): socket, timeouts, signals and logs.

- The socket is bound here, before uvicorn starts, so a port in use is one line and exit 2, and
  `--port 0` takes a free port (the "listening on" line says which).
- Every connection must deliver a whole request (head and body) within `timeout_request`
  seconds of opening or of its previous response, or it is closed: idle and slow clients cannot
  hold the server's connections for ever. uvicorn's own keep-alive timeout also applies.
- SIGTERM and Ctrl-C stop accepting, let in-flight requests finish (up to
  `graceful_timeout`), then return 0. A second signal while draining forces the exit (143 for
  SIGTERM, 130 for SIGINT).
- Log lines are one line each, text or JSON; a traceback is never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..errors import InvalidInputError
from .app import InferenceApp, Limits

log = logging.getLogger("fclf_edge.serve")

EXIT_TERMINATED = 143
EXIT_INTERRUPTED = 130
# Container allocations (net of frees) between young-generation collections; Python's is 700.
GC_YOUNG_THRESHOLD = 10_000


@dataclass(frozen=True)
class Network:
    """Where and how the server listens.

    Attributes:
        host: address to bind; 127.0.0.1 (this machine only) unless told otherwise.
        port: TCP port; 0 picks a free one.
        max_connections: open connections at once; a request beyond this gets 503.
        backlog: connections the kernel queues before the server accepts them.
        timeout_keep_alive: seconds an idle keep-alive connection stays open.
        timeout_request: seconds a connection has to send a whole request.
        graceful_timeout: seconds in-flight requests get to finish on SIGTERM.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    max_connections: int = 4096
    backlog: int = 2048
    timeout_keep_alive: float = 5.0
    timeout_request: float = 10.0
    graceful_timeout: float = 10.0


def bind(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket. Raises InvalidInputError (exit 2) with one line on failure."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise InvalidInputError(f"cannot listen on {where}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        # Lets a restarted server bind while old connections sit in TIME_WAIT; on Linux it does
        # not let two servers listen on one port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason = "address already in use (another server? choose another --port)"
        raise InvalidInputError(f"cannot listen on {where}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def raise_open_files_limit(wanted: int) -> None:
    """Raise the soft limit on open files towards `wanted` (capped by the hard limit)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def request_timeout_protocol(seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with a deadline for each whole request (head and body).

    Arming the deadline for each request only moves a time stamp: one timer per connection
    wakes at the deadline it was set for and, when the deadline has moved on since, sleeps
    until the new one (a timer per request was ~3 % of py-spy's samples under one-value load).
    """

    class Protocol(HttpToolsProtocol):
        _deadline = 0.0  # loop time by which the request must be in; 0: no request pending
        _timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def _arm(self) -> None:
            self._deadline = self.loop.time() + seconds
            if self._timer is None:
                self._timer = self.loop.call_at(self._deadline, self._expired)

        def _expired(self) -> None:
            self._timer = None
            if not self._deadline:
                return  # the request came in; the next response re-arms
            if self.loop.time() < self._deadline:  # re-armed since this timer was set
                self._timer = self.loop.call_at(self._deadline, self._expired)
            elif not self.transport.is_closing():
                self.transport.close()

        def on_message_complete(self) -> None:
            self._deadline = 0.0
            super().on_message_complete()

        def on_response_complete(self) -> None:
            pipelined = bool(self.pipeline)  # the next request is already in: no deadline
            super().on_response_complete()
            if not pipelined and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._deadline = 0.0
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            super().connection_lost(exc)

    return Protocol


class _Server(uvicorn.Server):
    """uvicorn's Server, with our signal handling and our "listening on" line."""

    def __init__(self, config: uvicorn.Config, url: str, what: str) -> None:
        super().__init__(config)
        self.url = url
        self.what = what
        self.forced_by: int | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the signal after shutting down; a drained server exits 0 instead.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.should_exit:
            self.force_exit = True
            self.forced_by = sig
        else:
            self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            log.info("listening on %s (%s; SIGTERM or Ctrl-C to stop)", self.url, self.what)


def run(app: InferenceApp, sock: socket.socket, network: Network, access_log: bool) -> int:
    """Serve `app` on the bound `sock` until a signal stops it; returns the exit code."""
    raise_open_files_limit(network.max_connections + 256)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(
        app,
        http=request_timeout_protocol(network.timeout_request),
        loop="uvloop" if _has_uvloop() else "asyncio",
        lifespan="on",
        log_config=None,
        access_log=access_log,
        timeout_keep_alive=int(max(1, network.timeout_keep_alive)),
        timeout_graceful_shutdown=int(max(1, network.graceful_timeout)),
        limit_concurrency=network.max_connections,
        backlog=network.backlog,
        server_header=False,
        date_header=False,
    )
    what = f"model {app.model.name!r} version {app.model.version}"
    tune_garbage_collector()
    server = _Server(config, f"http://{shown}:{port}", what)
    server.run(sockets=[sock])
    if server.forced_by is not None:
        return EXIT_INTERRUPTED if server.forced_by == signal.SIGINT else EXIT_TERMINATED
    return 0


def tune_garbage_collector() -> None:
    """Keep the cyclic garbage collector off the request path (measured in docs/serve.md).

    The model, numpy and onnxruntime, loaded by now, are never garbage: frozen, they are left
    out of every collection, which otherwise scans them all every few hundred batch requests.
    A [1000, 1] request's parsed JSON is a thousand small lists, freed as soon as it is read:
    with the young generation's threshold above that, they are gone before a collection would
    scan them. Cycles are still collected, only less often.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def _has_uvloop() -> bool:
    import importlib.util

    return importlib.util.find_spec("uvloop") is not None


class OneLineFormatter(logging.Formatter):
    """Each record on one line, as text or JSON; exceptions by their type, never a traceback."""

    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        message = " ".join(record.getMessage().split())
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__})"
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        when += f".{int(record.msecs):03d}{time.strftime('%z', time.localtime(record.created))}"
        if self.as_json:
            return json.dumps(
                {"time": when, "level": record.levelname.lower(), "message": message},
                ensure_ascii=False,
            )
        return f"{when} {record.levelname.lower():7} {message}"


def configure_logging(log_format: str, level: str) -> None:
    """Send our and uvicorn's records to stderr through OneLineFormatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(as_json=log_format == "json"))
    for name in ("fclf_edge.serve", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers = [handler] if name in ("fclf_edge.serve", "uvicorn") else []
        logger.propagate = name not in ("fclf_edge.serve", "uvicorn")
        logger.setLevel(level.upper())


__all__ = ["Limits", "Network", "bind", "configure_logging", "run"]
