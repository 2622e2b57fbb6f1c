"""The documentation site builds strictly, the README stays a landing page, and the unit tier
runs without torch."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
UNIT_TIER_SECONDS = 60  # the unit tier's promise (docs/development.md)


def test_site_builds_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict`: a broken link or anchor, or any other warning, fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # material's end-of-life banner
    proc = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "WARNING" not in output, output
    for page in ("index.html", "train/index.html", "predict/index.html", "benchmarks/index.html"):
        assert (tmp_path / "site" / page).is_file(), page


def _command(name: str) -> click.Command:
    from fclf_edge.export.cli import main as export_main
    from fclf_edge.runtime.cli import main as edge
    from fclf_edge.train.cli import main as train_main

    if name.startswith("fclf-edge "):
        assert isinstance(edge, click.Group)
        return edge.commands[name.split()[1]]
    return {"train-model": train_main, "export-onnx": export_main}[name]


# Each command's reference page. `fclf-edge serve` is documented on its own page (serve.md).
REFERENCE = [
    ("train-model", "train.md"),
    ("export-onnx", "export.md"),
    ("fclf-edge predict", "predict.md"),
    ("fclf-edge info", "predict.md"),
    ("fclf-edge verify", "predict.md"),
]


@pytest.mark.parametrize(("command", "page"), REFERENCE)
def test_every_option_is_on_its_page(command: str, page: str) -> None:
    """A new option in `--help` and not on the command's page fails here, so the two agree."""
    text = (ROOT / "docs" / page).read_text()
    options = [
        option
        for param in _command(command).params
        for option in (*param.opts, *param.secondary_opts)
        if option.startswith("--") and option not in ("--help", "--version")
    ]
    assert options
    missing = [o for o in options if not re.search(re.escape(o) + r"(?![\w-])", text)]
    assert not missing, f"docs/{page} does not mention {missing} of {command}"


def test_exit_code_table_is_the_catalogue() -> None:
    """docs/predict.md lists every exit code with its meaning from runtime/messages.json."""
    catalogue = json.loads((ROOT / "runtime" / "messages.json").read_text())["exit_codes"]
    page = (ROOT / "docs" / "predict.md").read_text()
    table = page.split("| code | meaning |\n| ---: | --- |\n", 1)[1].split("\n\n", 1)[0]
    assert table.splitlines() == [f"| {e['code']} | {e['meaning']} |" for e in catalogue]


def _fenced_after(text: str, marker: str) -> str:
    """The first line inside the fenced block that follows `marker`."""
    after = text.split(marker, 1)[1]
    return after.split("```bash\n", 1)[1].split("\n", 1)[0]


def test_install_page_shows_the_commands_the_readme_and_ci_run() -> None:
    readme = (ROOT / "README.md").read_text()
    install = (ROOT / "docs" / "install.md").read_text()
    # .ci/run takes the second line after the marker: the fence, then the command.
    ci_command = readme.split("<!-- ci:test-command -->\n", 1)[1].splitlines()[1]
    assert ci_command.endswith("python -m pytest")
    assert f"\n{ci_command}\n" in install
    main_job = _fenced_after(readme, "## Set-up")
    assert "train-model" in main_job and "export-onnx" in main_job
    assert main_job == _fenced_after(install, "## Set-up")


def test_unit_tier_runs_without_torch(tmp_path: Path) -> None:
    """`pytest -m unit` passes in a process where `import torch` fails, in under a minute."""
    blocker = tmp_path / "no_torch"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        'import sys\n\nsys.modules["torch"] = None  # `import torch` now raises ImportError\n'
    )
    path = os.pathsep.join(p for p in (str(blocker), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "unit", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=600,
    )
    tail = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, tail
    summary = proc.stdout.strip().splitlines()[-1]
    found = re.search(r"(\d+) passed.* in ([\d.]+)s", summary)
    assert found, tail
    assert int(found.group(1)) >= 200 and "failed" not in summary and "error" not in summary
    assert float(found.group(2)) < UNIT_TIER_SECONDS, summary


def test_readme_is_a_landing_page() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 220, f"README.md has {len(lines)} lines; the reference goes in docs/"


def _example(text: str, marker: str) -> str:
    """The fenced block under `<!-- example:MARKER -->`."""
    after = text.split(f"<!-- example:{marker} -->\n", 1)[1]
    return after.split("\n", 1)[1].split("```", 1)[0]


def _steady(text: str) -> list[str]:
    """Lines with the figures that vary from run to run (durations, rates) blanked."""
    return [re.sub(r"\d[\d,.]*(?= s\b| values/s)", "_", line) for line in text.splitlines()]


def test_readme_tour_runs(tmp_path: Path) -> None:
    """The README's 30-second tour, command by command, prints what the README shows."""
    steps: list[tuple[str, str]] = []
    for line in _example((ROOT / "README.md").read_text(), "tour").splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        else:
            command, output = steps[-1]
            steps[-1] = (command, output + line + "\n")
    assert [command.split()[0] for command, _ in steps[:2]] == ["train-model", "export-onnx"]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command, expected in steps:
        proc = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command} 2>&1"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**env, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"},
            timeout=300,
        )
        assert proc.returncode == 0, (command, proc.stdout)
        assert _steady(proc.stdout) == _steady(expected), command


def test_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    block = _example((ROOT / "README.md").read_text(), "python")
    exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    assert capsys.readouterr().out == "[1 0 0]\n"
