"""Names an fclf-edge ONNX file carries: input, outputs, metadata_props (export and runtime)."""

from __future__ import annotations

from typing import Final

# The graph's interface, shared by the exporter that writes it and the runtime that checks it.
INPUT_NAME: Final = "fahrenheit"
PROBABILITY_OUTPUT: Final = "probability"
LABEL_OUTPUT: Final = "label"


class METADATA_KEYS:  # noqa: N801 - a namespace of constants, used as K.units
    """Metadata keys; values are strings (JSON for the nested ones)."""

    units: Final = "units"
    label_meaning: Final = "label_meaning"
    probability_meaning: Final = "probability_meaning"
    boundary: Final = "boundary_fahrenheit"
    threshold: Final = "threshold"
    scale: Final = "scale"
    weight: Final = "weight"
    bias: Final = "bias"
    seed: Final = "seed"
    training_data: Final = "training_data"
    training_config: Final = "training_config"
    training_summary: Final = "training_summary"
    opset: Final = "opset"
    torch_version: Final = "torch_version"
    onnx_version: Final = "onnx_version"
    fclf_edge_version: Final = "fclf_edge_version"
    parity_inputs: Final = "parity_inputs"
    parity_label_mismatches: Final = "parity_label_mismatches"
    parity_max_abs_diff: Final = "parity_max_abs_diff"
    parity_atol: Final = "parity_atol"
    # What a model learned from, when it learned from a file (JSON: name, sha256, rows, columns).
    training_file: Final = "training_file"
    # For a user's own Linear(1, 1): how its author wrote it.
    source_model: Final = "source_model"
