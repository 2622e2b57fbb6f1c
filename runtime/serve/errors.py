"""Request errors, each carrying the HTTP status it maps to (the app maps them in one place)."""

from __future__ import annotations

from ..errors import InvalidInputError


class RequestError(InvalidInputError):
    """A request the server refuses; `status` is the HTTP status code of the reply (400)."""

    status: int = 400


class NotFoundError(RequestError):
    """No such model, version or endpoint (404)."""

    status = 404


class MethodNotAllowedError(RequestError):
    """The endpoint exists but not for this HTTP method (405); `allow` lists the methods."""

    status = 405

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow


class RequestTimeoutError(RequestError):
    """The client stopped sending its body for longer than the request timeout (408)."""

    status = 408


class BodyTooLargeError(RequestError):
    """The body is larger than --max-body-size (413); the server stops reading it."""

    status = 413


class UnsupportedMediaError(RequestError):
    """A Content-Encoding the server does not decode (415)."""

    status = 415


class BusyError(RequestError):
    """More requests in flight than --max-concurrency allows (503); retry later."""

    status = 503
