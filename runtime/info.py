"""`fclf-edge info`: what a model file is and how it was made."""

from __future__ import annotations

import json

from .classifier import Classifier


def describe(classifier: Classifier, *, as_json: bool = False) -> str:
    """Inputs, outputs, opset, metadata, size and sha256, as text or one JSON object."""
    session = classifier.session
    data = {
        "path": str(classifier.path),
        "size_bytes": classifier.size,
        "sha256": classifier.sha256,
        "inputs": [
            {"name": i.name, "type": i.type, "shape": i.shape} for i in session.get_inputs()
        ],
        "outputs": [
            {"name": o.name, "type": o.type, "shape": o.shape} for o in session.get_outputs()
        ],
        "opset": classifier.metadata.get("opset", "unknown"),
        "metadata": classifier.metadata,
    }
    if as_json:
        return json.dumps(data, indent=2, sort_keys=True)
    lines = [
        f"path       {data['path']}",
        f"size       {data['size_bytes']} bytes",
        f"sha256     {data['sha256']}",
        f"opset      {data['opset']}",
    ]
    if classifier.boundary is not None:
        meaning = classifier.metadata.get("label_meaning", "")
        lines.append(f"boundary   {classifier.boundary!r} °F ({meaning})")
    for kind in ("inputs", "outputs"):
        for entry in data[kind]:  # type: ignore[attr-defined]
            lines.append(f"{kind[:-1]:<10} {entry['name']}: {entry['type']} {entry['shape']}")
    lines.append("metadata")
    for key in sorted(classifier.metadata):
        lines.append(f"  {key:<24} {_shown(classifier.metadata[key])}")
    return "\n".join(lines)


def _shown(value: str) -> str:
    """A metadata value for people: a JSON object as `k=v, ...`, anything else as its text.

    Metadata is free text written by whoever made the model: text that only starts like JSON
    (`{0: 'cold', 1: 'warm'}`) is shown as it is. Control characters are escaped, so a value
    cannot rewrite the terminal.
    """
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict):
            value = ", ".join(f"{k}={v}" for k, v in parsed.items())
    if value.isprintable():
        return value
    return value.encode("unicode_escape").decode("ascii")
