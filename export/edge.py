"""torch.onnx.export, quietly, then made fit for devices.

PyTorch's exporter (`dynamo=True` with `dynamic_shapes`: torch >= 2.6, the floor pyproject.toml
sets for the train extra) writes the graph; this module only chooses the opset, silences the
exporter and post-processes its output:

- IR version. The exporter stamps IR version 10 whatever opset it targets, and onnxruntime
  1.17 refuses IR 10. The graph uses nothing newer than IR 8 (plain tensors, no functions, no
  float8), so the file says 8: the version that onnxruntime >= 1.12 and every binding read.
- Provenance. Nodes and values carry `pkg.torch.onnx.*` metadata (stack traces with the
  exporting machine's file paths, original node names). It is stripped, with doc strings and
  value_info, so the bytes depend on the module and its weights only, not on where it ran.
- Quiet. The exporter logs warnings (torchvision missing, opset conversion) and prints a line
  from onnxscript's version converter; none of it is the user's business when the export works.
  A failure still surfaces: as one ModelError line.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator, Mapping

import onnx
import torch

from fclf_edge.runtime.errors import ModelError
from fclf_edge.runtime.metadata import INPUT_NAME, LABEL_OUTPUT, PROBABILITY_OUTPUT

# Opset 17 (onnxruntime >= 1.12, 2022) has every op these graphs use with unchanged semantics
# since opset 13; torch's exporter targets 18 natively and converts down. Newer values would
# only lock out older devices.
DEFAULT_ONNX_OPSET = 17
ONNX_IR_VERSION = 8

BATCH_DIM = "batch"
GRAPH_NAME = "fahrenheit_classifier"
# An example batch of two: a batch of one would let the exporter specialise the dimension.
_EXAMPLE = (33.0, 32.0)
_LOGGERS = ("torch", "onnxscript", "onnx_ir", "onnx")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's loggers, warnings and prints for the duration of one export."""
    saved = {name: logging.getLogger(name).level for name in _LOGGERS}
    sink = io.StringIO()
    try:
        for name in _LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def export_module(module: torch.nn.Module, opset: int = DEFAULT_ONNX_OPSET) -> onnx.ModelProto:
    """Export `module` (°F [batch] -> probability, label) with torch.onnx.export; edge-safe."""
    example = torch.tensor(_EXAMPLE, dtype=torch.float32)
    try:
        with _quiet(), torch.no_grad():
            program = torch.onnx.export(
                module.eval(),
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[PROBABILITY_OUTPUT, LABEL_OUTPUT],
                dynamic_shapes=({0: torch.export.Dim(BATCH_DIM)},),
                opset_version=opset,
                optimize=True,
                verbose=False,
            )
    except Exception as exc:  # the exporter raises many types; the user needs one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"torch.onnx.export failed: {first}") from None
    if program is None:  # only without dynamo; keeps the type checker honest
        raise ModelError("torch.onnx.export returned no program")
    model = program.model_proto
    if _opset(model) != opset:
        raise ModelError(
            f"torch.onnx.export produced opset {_opset(model)}, not the requested {opset}"
        )
    make_edge_safe(model)
    return model


def _opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), -1)


def make_edge_safe(model: onnx.ModelProto) -> None:
    """Strip provenance and set the IR version; the graph itself is left as exported."""
    model.ir_version = ONNX_IR_VERSION
    model.doc_string = ""
    graph = model.graph
    graph.name = GRAPH_NAME
    graph.doc_string = ""
    del graph.value_info[:]
    for value in [*graph.input, *graph.output]:
        del value.metadata_props[:]
        value.doc_string = ""
    for node in graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    for tensor in graph.initializer:
        del tensor.metadata_props[:]
        tensor.doc_string = ""
    del graph.metadata_props[:]
    # The converter leaves opset imports of domains the graph no longer uses.
    used = {node.domain for node in graph.node} | {""}
    keep = [o for o in model.opset_import if o.domain in used or o.domain == "ai.onnx"]
    del model.opset_import[:]
    model.opset_import.extend(keep)
    del model.functions[:]


def set_metadata(model: onnx.ModelProto, metadata: Mapping[str, str]) -> None:
    """Replace metadata_props with `metadata`, sorted by key so the bytes are reproducible."""
    del model.metadata_props[:]
    for key in sorted(metadata):
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = str(metadata[key])


def check(model: onnx.ModelProto) -> None:
    """onnx.checker with full_check (shape inference included); a failure is a ModelError."""
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"the exported graph fails onnx.checker: {first}") from None
