"""The message catalogue (runtime/messages.json): its keys, its exit codes, and that reading it
costs nothing on the path of a valid `fclf-edge predict`."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fclf_edge.runtime import errors, messages
from fclf_edge.runtime.cliutil import EXIT_INTERRUPTED, EXIT_TERMINATED

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = json.loads((ROOT / "runtime" / "messages.json").read_text(encoding="utf-8"))


def test_the_package_reads_the_repository_file() -> None:
    assert Path(messages.PATH) == (ROOT / "runtime" / "messages.json").resolve()
    assert messages.catalogue() == CATALOGUE


def test_message_key_type_lists_every_key() -> None:
    """MessageKey (a Literal for mypy) names exactly the catalogue's keys."""
    tree = ast.parse(Path(messages.__file__).read_text(encoding="utf-8"))
    literal = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "MessageKey" for t in node.targets)
    )
    assert isinstance(literal, ast.Subscript) and isinstance(literal.slice, ast.Tuple)
    keys = [element.value for element in literal.slice.elts]  # type: ignore[attr-defined]
    assert keys == list(CATALOGUE["messages"])


def test_templates_use_plain_placeholders_only() -> None:
    for key, template in CATALOGUE["messages"].items():
        assert isinstance(template, str) and template, key
        leftover = re.sub(messages.PLACEHOLDER, "", template)
        assert "{" not in leftover and "}" not in leftover, key


def test_text_fills_placeholders_and_refuses_missing_ones() -> None:
    assert messages.text("cli.skipped_summary", skipped=1, rows=3, where="line") == (
        "1 of 3 lines skipped"
    )
    with pytest.raises(KeyError):
        messages.text("cli.skipped_summary", skipped=1)  # type: ignore[call-arg]


def test_exit_codes_match_the_error_classes() -> None:
    codes = {entry["name"]: entry["code"] for entry in CATALOGUE["exit_codes"]}
    assert codes == {
        "ok": errors.EXIT_OK,
        "mismatch": errors.EXIT_MISMATCH,
        "usage": errors.EXIT_USAGE,
        "model": errors.EXIT_MODEL,
        "device": errors.EXIT_DEVICE,
        "dependency": errors.EXIT_DEPENDENCY,
        "write": errors.EXIT_WRITE,
        "interrupted": EXIT_INTERRUPTED,
        "terminated": EXIT_TERMINATED,
    }
    assert [c for c, _, _ in messages.exit_codes("node")] == [0, 1, 2, 3, 6, 130, 143]


def test_every_help_ends_its_description_with_the_exit_codes() -> None:
    from fclf_edge.export.cli import main as export_main
    from fclf_edge.runtime.cli import main as runtime_main
    from fclf_edge.train.cli import main as train_main

    wanted = messages.exit_codes_help("python")
    runner = CliRunner()
    helps = [runner.invoke(runtime_main, ["--help"]).output]
    helps += [
        runner.invoke(runtime_main, [name, "--help"]).output for name in runtime_main.commands
    ]
    helps += [runner.invoke(command, ["--help"]).output for command in (train_main, export_main)]
    for shown in helps:
        flat = " ".join(shown.split())
        assert wanted in flat, shown
        assert "130 interrupted (Ctrl-C); 143 terminated (SIGTERM)." in flat
        assert flat.count("Exit codes:") == 1, shown


def test_a_valid_predict_never_reads_the_catalogue() -> None:
    """The catalogue (and the json module) load on the first message, not at start-up."""
    code = (
        "import sys\n"
        "from fclf_edge.runtime.cli import main\n"
        "try:\n"
        "    main(['predict', '33'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "from fclf_edge.runtime import messages\n"
        "print('json' in sys.modules, messages.catalogue.cache_info().currsize)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[-2] == "False 0"
