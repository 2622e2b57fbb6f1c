"""The ASGI application: routes the protocol's REST endpoints to the model, errors to statuses.

A raw ASGI callable (no framework): eight routes are a few string comparisons, and every layer
costs requests per second at this size (docs/serve.md has the figures). Small requests are
parsed, run and encoded on the event loop: that takes microseconds, less than a hop to a thread.
Bodies over `Limits.inline_bytes` go to a thread pool, so one large batch cannot stall the
health checks and small requests of other clients.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn

import orjson

from ..errors import FclfError, InvalidInputError
from .batching import Batcher, Results
from .errors import (
    BodyTooLargeError,
    BusyError,
    MethodNotAllowedError,
    NotFoundError,
    RequestError,
    UnsupportedMediaError,
)
from .model import ServedModel
from .protocol import InferRequest, encode_infer_response, error_body, parse_infer_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

log = logging.getLogger("fclf_edge.serve")

JSON = b"application/json"
BINARY = b"application/octet-stream"
HEADER_LENGTH = b"inference-header-content-length"
PREFIX = "/v2/models/"


@dataclass(frozen=True)
class Limits:
    """What one server accepts and how it shares its work.

    Attributes:
        max_body_bytes: largest request body; a larger one gets 413 and is not read.
        max_concurrency: inference requests in flight at once; more get 503 at once.
        inline_bytes: bodies up to this size are handled on the event loop, larger ones in
            the thread pool (64 KiB: ~16,000 binary or ~5,000 JSON values, ~0.3 ms of work).
        threads: the thread pool's size, for large requests.
    """

    max_body_bytes: int = 16 * 1024 * 1024
    max_concurrency: int = 256
    inline_bytes: int = 64 * 1024
    threads: int = 2


class InferenceApp:
    """ASGI 3 application serving one ServedModel over the Open Inference Protocol (REST).

    Args:
        model: the model to serve.
        limits: body size, concurrency and threading limits.
        server_version: reported by GET /v2.
        openapi: the OpenAPI document served at GET /v2/openapi.json (bytes of JSON).
    """

    def __init__(
        self,
        model: ServedModel,
        limits: Limits | None = None,
        *,
        server_version: str = "",
        openapi: bytes = b"{}",
    ) -> None:
        self.model = model
        self.limits = limits or Limits()
        self.in_flight = 0
        self._pool: ThreadPoolExecutor | None = None
        self._batcher = Batcher(model)
        model_path = PREFIX + model.name
        self._fixed: dict[str, bytes] = {
            "/v2/health/live": orjson.dumps({"live": True}),
            "/v2/health/ready": orjson.dumps({"ready": True}),
            "/v2": orjson.dumps(
                {
                    "name": "fclf-edge",
                    "version": server_version,
                    "extensions": ["binary_tensor_data"],
                }
            ),
            "/v2/openapi.json": _describe_this_model(openapi, model),
        }
        metadata = orjson.dumps(model.metadata())
        ready = orjson.dumps({"name": model.name, "ready": True})
        for base in (model_path, f"{model_path}/versions/{model.version}"):
            self._fixed[base] = metadata
            self._fixed[base + "/ready"] = ready
        self._infer_paths = {model_path + "/infer", f"{model_path}/versions/{model.version}/infer"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._pool = ThreadPoolExecutor(self.limits.threads, "fclf-infer")
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._pool is not None:
                    self._pool.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        try:
            if path in self._infer_paths:
                if method != "POST":
                    raise MethodNotAllowedError(f"{method} {path}: use POST", allow="POST")
                await self._infer(scope, receive, send)
                return
            body = self._fixed.get(path.rstrip("/") or path)
            if body is None:
                self._not_found(path)
            if method not in ("GET", "HEAD"):
                raise MethodNotAllowedError(f"{method} {path}: use GET", allow="GET, HEAD")
            await _respond(send, 200, body, head=method == "HEAD")
        except Exception as exc:  # every error, expected or not, becomes one status and line
            await _respond(send, *_error(exc))

    def _not_found(self, path: str) -> NoReturn:
        if not path.startswith(PREFIX):
            raise NotFoundError(f"no endpoint {path}; the API is under /v2 (see /v2/openapi.json)")
        name, _, rest = path[len(PREFIX) :].partition("/")
        if name != self.model.name:
            raise NotFoundError(f"unknown model {name!r}; this server serves {self.model.name!r}")
        parts = rest.split("/")
        if parts[0] == "versions" and len(parts) > 1 and parts[1] != self.model.version:
            raise NotFoundError(
                f"unknown version {parts[1]!r} of model {name!r}; "
                f"it has version {self.model.version!r}"
            )
        raise NotFoundError(f"no endpoint {path}")

    async def _infer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.in_flight >= self.limits.max_concurrency:
            raise BusyError(
                f"server busy: {self.in_flight} requests in flight (--max-concurrency); retry"
            )
        self.in_flight += 1
        try:
            length, header_length = _request_headers(scope["headers"], self.limits.max_body_bytes)
            body = await _read_body(receive, length, self.limits.max_body_bytes)
            if body is None:
                return  # the client went away; nobody to answer
            if len(body) > self.limits.inline_bytes and self._pool is not None:
                loop = asyncio.get_running_loop()
                reply = await loop.run_in_executor(self._pool, self._handle, body, header_length)
            else:
                reply = await self._handle_batched(body, header_length)
            await _respond(send, *reply)
        finally:
            self.in_flight -= 1

    async def _handle_batched(
        self, body: bytes, header_length: int | None
    ) -> tuple[int, bytes, Headers]:
        """A small request: parsed here, run with the others of this loop turn (Batcher)."""
        try:
            request = parse_infer_request(body, header_length)
            results = await self._batcher.submit(request.values)
        except Exception as exc:
            return _error(exc)
        return self._encode(request, results)

    def _handle(self, body: bytes, header_length: int | None) -> tuple[int, bytes, Headers]:
        """A large request, in a pool thread: parse, run and encode it alone."""
        try:
            request = parse_infer_request(body, header_length)
            names = tuple(o.name for o in request.outputs)
            results = self.model.infer(request.values, names)
        except Exception as exc:
            return _error(exc)
        return self._encode(request, results)

    def _encode(self, request: InferRequest, results: Results) -> tuple[int, bytes, Headers]:
        try:
            payload, json_length = encode_infer_response(
                request, results, self.model.name, self.model.version
            )
        except Exception as exc:
            return _error(exc)
        if json_length is None:
            return 200, payload, []
        return 200, payload, [(HEADER_LENGTH, str(json_length).encode()), _content_type(BINARY)]


def _describe_this_model(openapi: bytes, model: ServedModel) -> bytes:
    """The OpenAPI document with this server's model name and version as the path values."""
    doc = orjson.loads(openapi)
    values = {"model_name": model.name, "model_version": model.version}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") in values:
                    parameter["schema"] = {"type": "string", "enum": [values[parameter["name"]]]}
    return orjson.dumps(doc)


def _request_headers(headers: Headers, limit: int) -> tuple[int | None, int | None]:
    """(Content-Length, Inference-Header-Content-Length); refuses a declared body over `limit`."""
    length = header_length = None
    for name, value in headers:
        if name == b"content-length":
            length = _int_header(value, "Content-Length")
            if length > limit:
                raise BodyTooLargeError(
                    f"request body of {length} bytes is over the limit of {limit} bytes "
                    "(--max-body-size)"
                )
        elif name == HEADER_LENGTH:
            header_length = _int_header(value, "Inference-Header-Content-Length")
        elif name == b"content-encoding" and value.strip().lower() not in (b"", b"identity"):
            shown = value.decode("latin-1")
            raise UnsupportedMediaError(f"Content-Encoding {shown!r} is not supported; send plain")
    return length, header_length


def _int_header(value: bytes, name: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise RequestError(
            f"{name} must be a whole number of bytes, got {value.decode('latin-1')!r}"
        )
    return int(value)


async def _read_body(receive: Receive, length: int | None, limit: int) -> bytes | None:
    """The whole body, or None when the client disconnected. Stops reading past `limit`."""
    message = await receive()
    if message["type"] == "http.disconnect":
        return None
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:  # chunked (no Content-Length) and too long: stop here
            raise BodyTooLargeError(
                f"request body is over the limit of {limit} bytes (--max-body-size)"
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _error(exc: Exception) -> tuple[int, bytes, Headers]:
    """The one place an error becomes a status code: (status, {"error": ...}, headers)."""
    headers: Headers = []
    if isinstance(exc, RequestError):
        status = exc.status
        if isinstance(exc, (BodyTooLargeError, UnsupportedMediaError)):
            headers.append((b"connection", b"close"))  # the unread body must not be parsed
        elif isinstance(exc, MethodNotAllowedError):
            headers.append((b"allow", exc.allow.encode()))
        elif isinstance(exc, BusyError):
            headers.append((b"retry-after", b"1"))
        message = str(exc)
    elif isinstance(exc, InvalidInputError):
        status, message = 400, str(exc)
    elif isinstance(exc, FclfError):
        status, message = 500, str(exc)
        log.error("inference failed: %s", message)
    else:
        # Unexpected: name the kind of failure, never a traceback or a path.
        status, message = 500, f"internal error ({type(exc).__name__})"
        log.error("internal error serving a request: %s", type(exc).__name__)
    return status, error_body(" ".join(message.split())), headers


def _content_type(value: bytes) -> tuple[bytes, bytes]:
    return (b"content-type", value)


async def _respond(
    send: Send, status: int, body: bytes, headers: Headers | None = None, *, head: bool = False
) -> None:
    extra = headers or []
    all_headers = [(b"content-length", str(len(body)).encode()), *extra]
    if not any(name == b"content-type" for name, _ in extra):
        all_headers.append(_content_type(JSON))
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
