"""The messages and exit codes the Python runtime shares with the Node package: messages.json.

One catalogue for both runtimes (the Node package reads the same file), so a reworded message or
a new exit code is one change. The file is read on first use, never at import: a valid
`fclf-edge predict 33` prints no message and must not pay for reading one.

    >>> text("reason.below_absolute_zero", absolute_zero=-459.67)
    'is below absolute zero (-459.67 °F)'
"""

from __future__ import annotations

import functools
import os
import re
from typing import TYPE_CHECKING, Any

__all__ = ["catalogue", "exit_codes", "exit_codes_help", "text"]

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "messages.json")

if TYPE_CHECKING:  # types only: building a 50-name Literal at import costs a cold start ~0.5 ms
    from typing import Literal

    MessageKey = Literal[
        "reason.nan",
        "reason.infinity",
        "reason.overflow",
        "reason.below_absolute_zero",
        "reason.not_a_number",
        "reason.decimal_comma_hint",
        "reason.decimal_point_refused",
        "reason.grouped_ambiguous",
        "reason.grouped",
        "reason.empty_line",
        "reason.empty_value",
        "reason.not_utf8",
        "reason.record_too_long",
        "reason.shown",
        "input.binary",
        "input.binary_expected_python",
        "input.binary_expected_node",
        "input.not_found",
        "input.unreadable",
        "input.empty",
        "api.value",
        "api.value_at",
        "api.at",
        "api.text",
        "api.not_real_at",
        "cli.error",
        "cli.no_values",
        "cli.values_and_input",
        "cli.invalid_row",
        "cli.skip_hint",
        "cli.skipped_row",
        "cli.skipped_summary",
        "cli.interrupted",
        "cli.terminated",
        "cli.write_failed",
        "cli.standard_output",
        "option.invalid",
        "option.not_float",
        "option.not_integer",
        "option.not_finite",
        "option.out_of_range",
        "option.reason",
        "verify.range_value",
        "verify.range_order",
        "verify.mismatch",
        "model.not_found",
        "model.directory",
        "model.unreadable",
        "model.empty",
        "model.invalid",
        "model.newer_opset",
        "model.not_fclf",
        "model.input_shape",
        "model.expected",
    ]
    Tool = Literal["python", "node"]

# A placeholder is {name}; the Node package substitutes with the same pattern, so a template
# means the same in both languages (no format specs: callers pass formatted text).
PLACEHOLDER = r"\{([A-Za-z_][A-Za-z0-9_]*)\}"


@functools.cache
def catalogue() -> dict[str, Any]:
    """The whole catalogue, read from messages.json on first use."""
    import json  # not on the start-up path of a command that prints no message

    with open(PATH, encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


def text(key: MessageKey, **fields: object) -> str:
    """The message `key` with each {name} replaced by str(fields[name]).

    Raises KeyError for an unknown key or a placeholder without a value (a bug, not user input).
    """
    template: str = catalogue()["messages"][key]
    return re.sub(PLACEHOLDER, lambda match: str(fields[match.group(1)]), template)


def exit_codes(tool: Tool = "python") -> list[tuple[int, str, str]]:
    """(code, name, short meaning) of every exit code `tool` can end with, in order."""
    rows = []
    for entry in catalogue()["exit_codes"]:
        if tool == "node" and entry.get("node") is False:
            continue
        short = entry.get("help_node", entry["help"]) if tool == "node" else entry["help"]
        rows.append((int(entry["code"]), str(entry["name"]), str(short)))
    return rows


def exit_codes_help(tool: Tool = "python") -> str:
    """The exit-code paragraph of every command's --help."""
    return "Exit codes: " + "; ".join(f"{c} {short}" for c, _, short in exit_codes(tool)) + "."
