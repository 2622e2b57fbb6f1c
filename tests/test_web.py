"""The browser page (runtime/web) in real headless Chromium, served from 127.0.0.1 only.

Needs Debian's chromium and `npm ci --prefix runtime/web` (onnxruntime-web and playwright-core;
the README's test command installs both). Without them these tests fail rather than skip.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fclf_edge.runtime import Classifier
from fclf_edge.runtime.floats import DOMAIN_HIGH, DOMAIN_LOW, from_ordinal, to_ordinal

from .test_grammar import GRAMMAR, ROWS, expected_reason

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "runtime" / "web"
CHROMIUM = Path("/usr/bin/chromium")
AGREEMENT = 1 << 20  # ±2^20 float32 neighbours of the boundary, and a 2^20-point grid


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # the test reads requests from the browser's side


@contextmanager
def _serve(folder: Path) -> Iterator[str]:
    """A static file server rooted at `folder`, on a random port of 127.0.0.1: the page's URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/web/index.html"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A static file server rooted at runtime/, on a random port of 127.0.0.1."""
    with _serve(ROOT / "runtime") as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str, ort_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the page showed in each scenario of runtime/web/test/drive.mjs, as JSON."""
    node = shutil.which("node")
    assert node, "node is not installed"
    assert CHROMIUM.exists(), "chromium is not installed: apt-get install -y chromium"
    assert (WEB / "node_modules" / "onnxruntime-web").is_dir(), "run `npm ci --prefix runtime/web`"
    assert (WEB / "node_modules" / "playwright-core").is_dir(), "run `npm ci --prefix runtime/web`"
    folder = tmp_path_factory.mktemp("web")
    bad = folder / "not-a-model.onnx"
    bad.write_text("this is not a model\n")
    args = [
        node,
        str(WEB / "test" / "drive.mjs"),
        "--url",
        server,
        "--ort",
        str(ort_model),
        "--bad-model",
        str(bad),
        "--screenshot",
        str(folder / "page.png"),
        "--agreement",
        str(AGREEMENT),
        "--grammar",
        str(GRAMMAR),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout)
    report["screenshot"] = folder / "page.png"
    return report


def _python_proba(values: list[float]) -> list[str]:
    probabilities = Classifier().predict_proba(np.array(values, dtype=np.float32))
    return [f"{p:.9g}" for p in probabilities.tolist()]


def test_query_string_fills_the_box_and_classifies_at_once(page: dict[str, Any]) -> None:
    shown = page["query"]
    assert shown["state"] == "ready" and shown["error"] is None
    assert shown["input"] == "33, 32, -40"
    assert [row["label"] for row in shown["rows"]] == ["1", "0", "0"]
    assert [row["cells"][3] for row in shown["rows"]] == _python_proba([33, 32, -40])
    assert shown["rows"][0]["cells"][:3] == ["33", "1", "above freezing"]


def test_probability_plot_is_drawn_around_the_boundary(page: dict[str, Any]) -> None:
    shown = page["query"]
    assert shown["plotVisible"] and shown["curvePoints"] == 601
    assert shown["plotPoints"] == 2  # 33 and 32 lie within ±15 °F of the boundary; -40 does not
    assert "32.0 °F" in shown["status"]
    assert page["screenshot"].stat().st_size > 10_000


def test_bad_input_is_shown_inline_and_the_rest_classified(page: dict[str, Any]) -> None:
    shown = page["badInput"]
    assert shown["state"] == "ready"
    assert shown["error"].startswith("Value 2: 'abc' is not a number (and 1 more)")
    rows = shown["rows"]
    assert [row["label"] for row in rows] == ["1", None, None]
    assert rows[1]["invalid"] and rows[2]["invalid"]
    assert rows[2]["cells"][2] == "'-500' is below absolute zero (-459.67 °F)"


def test_typed_values_at_the_domain_ends(page: dict[str, Any]) -> None:
    rows = page["typed"]["rows"]
    assert [row["label"] for row in rows] == ["0", "1", "1"]  # -459.67, 10000, 32.0000039
    assert [row["cells"][3] for row in rows] == _python_proba([-459.67, 10_000, 32.0000039])


def test_a_picked_file_that_is_no_model_is_an_inline_error(page: dict[str, Any]) -> None:
    shown = page["badModel"]
    assert "not-a-model.onnx is not a valid ONNX or ORT model" in shown["error"]
    assert shown["status"] == "Model fahrenheit.onnx (unchanged)."
    assert [row["label"] for row in shown["rows"]] == ["0", "1", "1"]


def test_a_picked_ort_model_gives_the_same_labels(page: dict[str, Any]) -> None:
    shown = page["ortModel"]
    assert shown["error"] is None and ".ort" in shown["status"]
    assert [row["label"] for row in shown["rows"]] == ["1", "0", "0"]
    assert [row["cells"][3] for row in shown["rows"]] == _python_proba([33, 32, -40])


def test_browser_labels_equal_python_label_for_label(page: dict[str, Any]) -> None:
    """3,145,729 values: the ±2^20 float32 neighbours of 32 °F and a 2^20-point grid."""
    n = AGREEMENT
    center = int(to_ordinal([32.0])[0])
    neighbours = from_ordinal(np.arange(center - n, center + n + 1))
    low, high = float(DOMAIN_LOW), float(DOMAIN_HIGH)
    grid = (low + ((high - low) * np.arange(n, dtype=np.float64)) / (n - 1)).astype(np.float32)
    values = np.concatenate([neighbours, grid])
    browser = np.frombuffer(page["agreement"].encode(), dtype=np.uint8) - ord("0")
    assert len(browser) == len(values) == 3 * n + 1
    assert np.array_equal(browser, Classifier().predict(values))
    assert browser[n] == 0 and browser[n + 1] == 1  # 32 itself, then the next float32


def test_page_works_offline_from_127_0_0_1(page: dict[str, Any]) -> None:
    hosts = {url.split("/")[2] for url in page["requests"] if url.startswith("http")}
    assert len(hosts) == 1 and next(iter(hosts)).startswith("127.0.0.1:")
    assert not [u for u in page["requests"] if not u.startswith(("http://127.0.0.1", "data:"))]
    assert page["pageErrors"] == [] and page["consoleErrors"] == []


def test_page_parses_the_number_grammar_as_the_table_says(page: dict[str, Any]) -> None:
    """tests/data/number-grammar.json through the parser module the page imports."""
    parsed = page["grammar"]["parsed"]
    assert [p["text"] for p in parsed] == [row["text"] for row in ROWS]
    for row, got in zip(ROWS, parsed, strict=True):
        if "value" in row:
            assert got["reason"] is None, row
            assert f"0x{got['bits']:08x}" == row["float32"], row
        else:
            assert got["reason"] == expected_reason(row), row


def test_page_labels_typed_grammar_values_as_the_table_says(page: dict[str, Any]) -> None:
    """The rows a person can type as one value, typed into the box and classified."""
    by_text = {row["text"]: row for row in ROWS if not row["decimal_comma"]}
    typed = page["grammar"]["typed"]
    assert len(typed) >= 60
    for got in typed:
        row = by_text[got["text"]]
        if "value" in row:
            assert got["label"] == str(row["label"]), row
        else:
            assert got["label"] is None and got["cells"][2] == expected_reason(row), row


# The page served without its runtime, or with a broken one: a copy of runtime/ made of links,
# less onnxruntime-web, or with its .wasm files replaced by text.


def _copy_of_runtime(folder: Path, ort: Callable[[Path], None] | None) -> Path:
    """runtime/ as links in `folder`; `ort(dist)` builds web/node_modules/onnxruntime-web/dist."""
    runtime = folder / "runtime"
    (runtime / "web").mkdir(parents=True)
    for name in ("js", "models", "messages.json"):
        (runtime / name).symlink_to(ROOT / "runtime" / name)
    for name in ("app.js", "index.html"):
        (runtime / "web" / name).symlink_to(WEB / name)
    if ort is not None:
        dist = runtime / "web" / "node_modules" / "onnxruntime-web" / "dist"
        dist.mkdir(parents=True)
        ort(dist)
    return runtime


def _broken_wasm(dist: Path) -> None:
    for source in (WEB / "node_modules" / "onnxruntime-web" / "dist").iterdir():
        if source.suffix == ".wasm":
            (dist / source.name).write_text("this is not WebAssembly\n")
        else:
            (dist / source.name).symlink_to(source)


def _load_only(url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is not installed"
    args = [node, str(WEB / "test" / "drive.mjs"), "--url", url, "--only-load"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


@pytest.mark.parametrize(
    "ort",
    [None, _broken_wasm],
    ids=["without onnxruntime-web", "with a broken wasm file"],
)
def test_page_without_a_working_runtime_says_what_to_install(
    tmp_path: Path, ort: Callable[[Path], None] | None
) -> None:
    with _serve(_copy_of_runtime(tmp_path, ort)) as url:
        shown = _load_only(url)
    assert shown["state"] == "error"
    assert shown["ms"] < 10_000  # within a few seconds, never "Loading the model..." for ever
    error = shown["error"]
    assert "npm ci --prefix runtime/web" in error
    if ort is None:
        assert error.startswith("onnxruntime-web is missing: ")
        assert "/web/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs" in error
    else:
        assert error.startswith("onnxruntime-web could not start its WebAssembly runtime (")
    assert "fahrenheit.onnx" not in error  # the model is not at fault here
    assert shown["status"] == "No model loaded: the runtime did not start."
    assert shown["pageErrors"] == []


def test_page_whose_module_fails_to_load_says_so(tmp_path: Path) -> None:
    """A part of the page itself missing (here the message catalogue): shown, not hidden."""
    runtime = _copy_of_runtime(tmp_path, None)
    (runtime / "messages.json").unlink()
    with _serve(runtime) as url:
        shown = _load_only(url)
    assert shown["state"] == "error"
    assert shown["error"].startswith("The page could not start: ")
    assert "messages.json" in shown["error"]
