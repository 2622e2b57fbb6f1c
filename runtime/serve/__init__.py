"""fclf_edge.runtime.serve: the model over HTTP, as the Open Inference Protocol (KServe V2) says.

Needs the `serve` extra (`pip install "fclf-edge[serve]"`): uvicorn, httptools, uvloop, orjson.
`protocol` parses and encodes requests (no HTTP), `app` is the ASGI application, `server` runs
it under uvicorn, `command` is `fclf-edge serve`. See docs/serve.md.
"""

from __future__ import annotations

from .app import InferenceApp, Limits
from .command import ServeOptions, build_app, serve
from .model import ServedModel
from .server import Network

__all__ = ["InferenceApp", "Limits", "Network", "ServeOptions", "ServedModel", "build_app", "serve"]
