"""Numeric options at their limits: every command refuses NaN, infinities and values outside the
option's domain with exit 2 and one line naming the option, the Node CLI as the Python CLI.

One table, run through `fclf-edge verify`, `train-model` and the Node package's `fclf-edge`;
the expected lines are built from the message catalogue (runtime/messages.json).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fclf_edge.runtime.messages import text

from .conftest import cli_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NODE_CLI = ROOT / "runtime" / "js" / "bin" / "fclf-edge.mjs"
SAMPLES = "'--samples' / '-n'"
OVERFLOW = text("reason.overflow")
BELOW = text("reason.below_absolute_zero", absolute_zero=-459.67)


def not_finite(value: str) -> str:
    return text("option.not_finite", value=repr(value))


def not_integer(value: str) -> str:
    return text("option.not_integer", value=repr(value))


def out_of_range(value: str, bounds: str) -> str:
    return text("option.out_of_range", value=value, range=bounds)


def reason(value: str, why: str) -> str:
    return text("option.reason", value=value, reason=why)


# (args after the command, the option as click names it, the problem)
VERIFY = [
    (["--rule-threshold", "nan"], "'--rule-threshold'", not_finite("nan")),
    (["--rule-threshold", "-NaN"], "'--rule-threshold'", not_finite("-NaN")),
    (["--rule-threshold", "inf"], "'--rule-threshold'", not_finite("inf")),
    (["--rule-threshold", "-Infinity"], "'--rule-threshold'", not_finite("-Infinity")),
    (["--rule-threshold", "1e39"], "'--rule-threshold'", reason("1e+39", OVERFLOW)),
    (
        ["--rule-threshold", "-3.4028236e38"],
        "'--rule-threshold'",
        reason("-3.4028236e+38", OVERFLOW),
    ),
    (
        ["--rule-threshold", "abc"],
        "'--rule-threshold'",
        text("option.not_float", value="'abc'"),
    ),
    (["--samples", "0"], SAMPLES, out_of_range("0", "1<=x<=4294967296")),
    (["-n", "-5"], SAMPLES, out_of_range("-5", "1<=x<=4294967296")),
    (["--samples", "4294967297"], SAMPLES, out_of_range("4294967297", "1<=x<=4294967296")),
    (["--samples", "1e3"], SAMPLES, not_integer("1e3")),
    (["--samples", "nan"], SAMPLES, not_integer("nan")),
    (["--seed", "-1"], "'--seed'", out_of_range("-1", "0<=x<=4294967295")),
    (["--seed", "4294967296"], "'--seed'", out_of_range("4294967296", "0<=x<=4294967295")),
    (["--seed", "1.5"], "'--seed'", not_integer("1.5")),
    (["--range", "nan", "1"], "'--range'", not_finite("nan")),
    (["--range", "1", "inf"], "'--range'", not_finite("inf")),
    (["--range", "-inf", "1"], "'--range'", not_finite("-inf")),
]

# Domain checks of --range beyond its type: one line naming the option, exit 2, no usage line.
VERIFY_RANGE = [
    (["--range", "-500", "1"], text("verify.range_value", name="LO", value="-500.0", reason=BELOW)),
    (
        ["--range", "30", "1e39"],
        text("verify.range_value", name="HI", value="1e+39", reason=OVERFLOW),
    ),
    (["--range", "5", "1"], text("verify.range_order", low="5.0", high="1.0")),
]

TRAIN = [
    (["--samples", "1"], "'--samples'", out_of_range("1", "2<=x<=67108864")),
    (["--samples", "67108865"], "'--samples'", out_of_range("67108865", "2<=x<=67108864")),
    (["--samples", "nan"], "'--samples'", not_integer("nan")),
    (["--low", "nan"], "'--low'", not_finite("nan")),
    (["--low", "-500"], "'--low'", reason("-500.0", BELOW)),
    (["--high", "inf"], "'--high'", not_finite("inf")),
    (["--high", "1e39"], "'--high'", reason("1e+39", OVERFLOW)),
    (["--l2", "0"], "'--l2'", out_of_range("0.0", "x>0.0")),
    (["--l2", "nan"], "'--l2'", not_finite("nan")),
    (["--l2", "inf"], "'--l2'", not_finite("inf")),
    (["--max-steps", "0"], "'--max-steps'", out_of_range("0", "x>=1")),
    (["--seed", "-1"], "'--seed'", out_of_range("-1", "0<=x<=4294967295")),
    (["--rule-threshold", "nan"], "'--rule-threshold'", not_finite("nan")),
    (["--rule-threshold", "1e39"], "'--rule-threshold'", reason("1e+39", OVERFLOW)),
    (["--holdout", "1"], "'--holdout'", out_of_range("1.0", "0.0<=x<1.0")),
    (["--holdout", "-0.1"], "'--holdout'", out_of_range("-0.1", "0.0<=x<1.0")),
    (["--holdout", "nan"], "'--holdout'", not_finite("nan")),
]


def _line(option: str, problem: str) -> str:
    return text("cli.error", message=text("option.invalid", option=option, problem=problem)) + "\n"


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=cli_env(), timeout=120)


def _node() -> str:
    found = shutil.which("node")
    assert found, "node is not installed; the Node package needs Node.js >= 20"
    return found


def _ids(rows: list[tuple[list[str], ...]]) -> list[str]:
    return [" ".join(row[0]) for row in rows]


@pytest.mark.parametrize(("args", "option", "problem"), VERIFY, ids=_ids(VERIFY))
@pytest.mark.parametrize("tool", ["python", "node"])
def test_verify_refuses_a_bad_number_in_one_line(
    tool: str, args: list[str], option: str, problem: str
) -> None:
    command = [str(BIN / "fclf-edge")] if tool == "python" else [_node(), str(NODE_CLI)]
    proc = _run([*command, "verify", *args])
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", _line(option, problem))


@pytest.mark.parametrize(("args", "message"), VERIFY_RANGE, ids=_ids(VERIFY_RANGE))
@pytest.mark.parametrize("tool", ["python", "node"])
def test_verify_range_outside_the_domain_is_one_line(
    tool: str, args: list[str], message: str
) -> None:
    command = [str(BIN / "fclf-edge")] if tool == "python" else [_node(), str(NODE_CLI)]
    proc = _run([*command, "verify", *args])
    expected = text("cli.error", message=message) + "\n"
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", expected)


@pytest.mark.parametrize(("args", "option", "problem"), TRAIN, ids=_ids(TRAIN))
def test_train_model_refuses_a_bad_number_in_one_line(
    args: list[str], option: str, problem: str
) -> None:
    proc = _run([str(BIN / "train-model"), "--device", "cpu", *args])
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", _line(option, problem))


@pytest.mark.parametrize("tool", ["python", "node"])
def test_numbers_at_the_edges_of_their_domains_are_taken(tool: str) -> None:
    """float32's largest threshold, the largest seed and the fewest samples: verify runs."""
    command = [str(BIN / "fclf-edge")] if tool == "python" else [_node(), str(NODE_CLI)]
    args = ["verify", "--samples", "1", "--seed", "4294967295", "--range", "-459.67", "3.4e38"]
    proc = _run([*command, *args, "--rule-threshold", "3.4028235e38"])
    assert proc.returncode in (0, 1), proc.stderr  # ran: a mismatch is the rule's business
    assert "1 samples (seed 4294967295)" in proc.stdout


def test_every_numeric_option_uses_the_shared_types() -> None:
    """No numeric option of any command is a bare click int, float or range."""
    import click

    from fclf_edge.export.cli import main as export_main
    from fclf_edge.runtime.cli import main as runtime_main
    from fclf_edge.runtime.cliutil import BoundedInt, FiniteFloat
    from fclf_edge.train.cli import main as train_main

    commands: list[click.Command] = [train_main, export_main]
    commands += list(runtime_main.commands.values())  # type: ignore[attr-defined]
    bare = (click.types.IntParamType, click.types.FloatParamType)
    found = []
    for command in commands:
        for param in command.params:
            types = param.type.types if isinstance(param.type, click.Tuple) else [param.type]
            for kind in types:
                if isinstance(kind, bare) and not isinstance(kind, (BoundedInt, FiniteFloat)):
                    found.append(f"{command.name} {param.opts[0]}")
    assert found == []  # every numeric option of every command is one of the shared types
