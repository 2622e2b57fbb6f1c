"""`fclf-edge serve` under wrk, beside MLServer, PyTriton and a floor, on the same model.

`python bench/serve.py [--seconds 30] [--connections 64] [--peers mlserver,pytriton]`
writes the section "serve" of docs/benchmarks.md and of docs/serve.md and prints the table with
a verdict on issue #19's goals: more requests/s than every peer at a lower p99, and at least
60 % of the floor's requests/s.

Every server answers the same KServe V2 JSON request (`shape [n, 1]`, FP32) for one value and
for a batch of 1,000 values, loaded by wrk (Debian's package) from its own process: 64
connections, one wrk thread, `--seconds` each. Errors and non-2xx responses are counted.
- floor: uvicorn + httptools + uvloop (our stack) answering a fixed response, no model (the
  issue's floor: the goal's 60 % is of its requests/s);
- floor-parse: the same, but it parses the request's JSON with orjson first, as any server of
  the protocol must (no model, no checks): not a goal, it shows where a request's time goes;
- fclf-edge: `fclf-edge serve` with its defaults;
- MLServer (`mlserver`), a custom runtime running the model with onnxruntime, as its docs show;
- PyTriton (`nvidia-pytriton`, Triton's C++ server with a Python callable) with `@batch`.
The peers install into their own virtual environments under `--cache` (default
~/.cache/fclf-edge/bench-serve), never into the project's; a peer that cannot install or start
is reported with its reason and the others still run. `--smoke` runs each load for 1 s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from run import BIN, ROOT, machine  # noqa: E402
from sections import update_section  # noqa: E402

SECTION = "serve"
MODEL = ROOT / "runtime" / "models" / "fahrenheit.onnx"
PEER_PINS = {
    "mlserver": ["mlserver==1.7.1", "onnxruntime==1.31.1"],
    "pytriton": ["nvidia-pytriton==0.7.0", "onnxruntime==1.31.1"],
}
FLOOR_SHARE = 0.60

FLOOR_APP = """
BODY = (b'{"model_name":"fahrenheit","outputs":'
        b'[{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}')
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""

# The floor plus what no JSON server of the protocol can skip: reading the request's JSON.
FLOOR_PARSE_APP = """
import orjson

BODY = (b'{"model_name":"fahrenheit","outputs":'
        b'[{"name":"label","datatype":"INT64","shape":[1],"data":[1]}]}')
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    if scope["method"] == "POST":  # the readiness probe is a GET
        orjson.loads(b"".join(chunks))
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""

MLSERVER_RUNTIME = """
import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class Fahrenheit(MLModel):
    async def load(self) -> bool:
        self._session = ort.InferenceSession(self.settings.parameters.uri)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32).reshape(-1)
        label, probability = self._session.run(["label", "probability"], {"fahrenheit": x})
        return InferenceResponse(
            model_name=self.name,
            outputs=[
                NumpyCodec.encode_output("label", label),
                NumpyCodec.encode_output("probability", probability),
            ],
        )
"""

PYTRITON_SERVER = """
import sys
import numpy as np
import onnxruntime as ort
from pytriton.decorators import batch
from pytriton.model_config import ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig

model, http_port, grpc_port, metrics_port = sys.argv[1], *map(int, sys.argv[2:5])
session = ort.InferenceSession(model)


@batch
def infer(fahrenheit):
    label, probability = session.run(
        ["label", "probability"], {"fahrenheit": fahrenheit.reshape(-1)}
    )
    return {"label": label.reshape(-1, 1), "probability": probability.reshape(-1, 1)}


config = TritonConfig(http_port=http_port, grpc_port=grpc_port, metrics_port=metrics_port)
with Triton(config=config) as triton:
    triton.bind(
        model_name="fahrenheit",
        infer_func=infer,
        inputs=[Tensor(name="fahrenheit", dtype=np.float32, shape=(1,))],
        outputs=[
            Tensor(name="label", dtype=np.int64, shape=(1,)),
            Tensor(name="probability", dtype=np.float32, shape=(1,)),
        ],
        config=ModelConfig(max_batch_size=1024),
    )
    triton.serve()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request_body(count: int) -> str:
    values = [round(-40.0 + 0.13 * i, 2) for i in range(count)]
    data = [[v] for v in values]
    inputs = [{"name": "fahrenheit", "datatype": "FP32", "shape": [count, 1], "data": data}]
    return json.dumps({"inputs": inputs})


def wrk_script(folder: Path, count: int) -> Path:
    path = folder / f"request-{count}.lua"
    path.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(request_body(count))}\n"
    )
    return path


def parse_wrk(report: str) -> dict[str, Any]:
    def latency(name: str) -> float:
        match = re.search(rf"^\s+{name}%\s+([\d.]+)(us|ms|s)\s*$", report, re.M)
        if not match:
            return float("nan")
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]
        return float(match.group(1)) * scale

    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": sum(map(int, errors.groups())) if errors else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
               "--latency", "-s", str(script), url]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    return parse_wrk(proc.stdout)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base + "/v2/models/fahrenheit/ready", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"not ready after {timeout:.0f} s")


def check_answer(base: str) -> None:
    """One request before the load: the server must answer with the model's labels."""
    body = request_body(2).encode()
    request = urllib.request.Request(base + "/v2/models/fahrenheit/infer", data=body,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as reply:
        outputs = {o["name"]: o for o in json.loads(reply.read())["outputs"]}
    assert "label" in outputs and "probability" in outputs, outputs


def ensure_venv(cache: Path, peer: str) -> Path:
    """The peer's own virtual environment (created and installed on first use); its bin/."""
    folder = cache / peer
    marker = folder / ".installed"
    wanted = " ".join(PEER_PINS[peer])
    if not marker.exists() or marker.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
        pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *PEER_PINS[peer]]
        proc = subprocess.run(pip, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            tail = " ".join(proc.stderr.strip().splitlines()[-2:])
            raise RuntimeError(f"pip install {wanted} failed: {tail}")
        marker.write_text(wanted)
    return folder / "bin"


def start(name: str, work: Path, cache: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """Start one server: (process, base URL, how it was run)."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (work / f"{name}.log").open("wb")
    if name == "floor":
        (work / "floor_app.py").write_text(FLOOR_APP)
        command = [str(BIN / "python"), "-m", "uvicorn", "floor_app:app", "--port", str(port),
                   "--http", "httptools", "--loop", "uvloop", "--no-access-log",
                   "--log-level", "warning"]  # fmt: skip
        how = "uvicorn + httptools + uvloop, fixed response, no model"
    elif name == "floor-parse":
        (work / "floor_parse_app.py").write_text(FLOOR_PARSE_APP)
        command = [str(BIN / "python"), "-m", "uvicorn", "floor_parse_app:app", "--port",
                   str(port), "--http", "httptools", "--loop", "uvloop", "--no-access-log",
                   "--log-level", "warning"]  # fmt: skip
        how = "the floor, plus orjson.loads of the request body; no model, no checks"
    elif name == "fclf-edge":
        command = [str(BIN / "fclf-edge"), "serve", "--port", str(port)]
        how = "fclf-edge serve (defaults)"
    elif name == "mlserver":
        bin_dir = ensure_venv(cache, "mlserver")
        folder = work / "mlserver"
        (folder / "fahrenheit").mkdir(parents=True, exist_ok=True)
        (folder / "fahrenheit" / "runtime.py").write_text(MLSERVER_RUNTIME)
        settings = {"name": "fahrenheit", "implementation": "runtime.Fahrenheit",
                    "parameters": {"uri": str(MODEL)}}  # fmt: skip
        (folder / "fahrenheit" / "model-settings.json").write_text(json.dumps(settings))
        # parallel_workers 0: 1.7.1's inference pool worker dies at start-up here ("There is
        # no current event loop in thread 'MainThread'"); 0 runs the model in the server.
        server = {"http_port": port, "grpc_port": free_port(), "metrics_port": free_port(),
                  "parallel_workers": 0}  # fmt: skip
        (folder / "settings.json").write_text(json.dumps(server))
        command = [str(bin_dir / "mlserver"), "start", str(folder)]
        how = f"{PEER_PINS['mlserver'][0]}, custom runtime (onnxruntime), parallel_workers 0"
    elif name == "pytriton":
        bin_dir = ensure_venv(cache, "pytriton")
        (work / "pytriton_server.py").write_text(PYTRITON_SERVER)
        command = [str(bin_dir / "python"), str(work / "pytriton_server.py"), str(MODEL),
                   str(port), str(free_port()), str(free_port())]  # fmt: skip
        how = f"{PEER_PINS['pytriton'][0]}, @batch callable (onnxruntime), max_batch_size 1024"
    else:
        raise ValueError(name)
    proc = subprocess.Popen(command, cwd=work, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)  # fmt: skip
    return proc, f"http://127.0.0.1:{port}", how


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def measure(name: str, work: Path, cache: Path, seconds: int, connections: int,
            scripts: dict[str, Path]) -> dict[str, Any]:  # fmt: skip
    try:
        proc, base, how = start(name, work, cache)
    except Exception as exc:
        return {"name": name, "error": " ".join(str(exc).split())}
    try:
        wait_ready(base, proc, timeout=180)
        if not name.startswith("floor"):
            check_answer(base)
        result: dict[str, Any] = {"name": name, "how": how}
        for load, script in scripts.items():
            result[load] = run_wrk(base + "/v2/models/fahrenheit/infer", script, seconds,
                                   connections)  # fmt: skip
            print(f"  {name:10} {load:7} {result[load]}", flush=True)
        return result
    except Exception as exc:
        log = (work / f"{name}.log").read_text(errors="replace")
        causes = re.findall(r"\b(\w+(?:Error|Exception): [^\\\n\"]{1,160})", log)
        reason = " ".join(str(exc).split()) + (f" ({causes[-1].strip()})" if causes else "")
        return {"name": name, "error": reason}
    finally:
        stop(proc)


def cell(load: dict[str, Any]) -> str:
    bad = load["errors"] + load["non_2xx"]
    note = "" if bad == 0 else f", **{bad} errors/non-2xx**"
    figures = f"{load['rps']:,.0f} req/s, p50 {load['p50_ms']:.2f} ms"
    return f"{figures}, p99 {load['p99_ms']:.2f} ms{note}"


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    by = {r["name"]: r for r in results if "error" not in r}
    ours = by.get("fclf-edge")
    if ours is None:
        return ["fclf-edge did not run"]
    lines = []
    for load in ("single", "batch"):
        for peer in ("mlserver", "pytriton"):
            if peer in by:
                them = by[peer][load]
                won = ours[load]["rps"] > them["rps"] and ours[load]["p99_ms"] < them["p99_ms"]
                lines.append(
                    f"{load}: more req/s than {peer} at a lower p99: "
                    f"{ours[load]['rps'] / them['rps']:.1f}x the req/s, p99 "
                    f"{ours[load]['p99_ms']:.2f} vs {them['p99_ms']:.2f} ms: "
                    + ("met" if won else "**missed**")
                )
        if "floor" in by:
            share = ours[load]["rps"] / by["floor"][load]["rps"]
            lines.append(
                f"{load}: at least {FLOOR_SHARE:.0%} of the floor's req/s: {share:.0%}: "
                + ("met" if share >= FLOOR_SHARE else "**missed**")
            )
        if "floor-parse" in by:
            share = ours[load]["rps"] / by["floor-parse"][load]["rps"]
            lines.append(
                f"{load}: {share:.0%} of floor-parse's req/s (not a goal: the JSON parse's share "
                "of a request)"
            )
        clean = ours[load]["errors"] + ours[load]["non_2xx"] == 0
        lines.append(f"{load}: zero errors and non-2xx: " + ("met" if clean else "**missed**"))
    return lines


def markdown(results: list[dict[str, Any]], seconds: int, connections: int) -> str:
    when = datetime.date.today().isoformat()
    rows = ["| server | one value per request | 1,000 values per request | how it ran |",
            "|---|---|---|---|"]  # fmt: skip
    for r in results:
        if "error" in r:
            rows.append(f"| {r['name']} | did not run: {r['error']} | | |")
        else:
            rows.append(f"| {r['name']} | {cell(r['single'])} | {cell(r['batch'])} | {r['how']} |")
    return "\n".join(
        [
            "## Serving over HTTP (`fclf-edge serve`, `python bench/serve.py`)",
            "",
            f"{machine()}, {when}. wrk from its own process: {connections} connections, one wrk "
            f"thread, {seconds} s per load; the same KServe V2 JSON request (`shape [n, 1]`, "
            "FP32) to every server; all servers and wrk share the machine's 2 cores.",
            "",
            *rows,
            "",
            *[f"- {line}" for line in verdicts(results)],
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--peers", default="mlserver,pytriton")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/fclf-edge/bench-serve")
    parser.add_argument("--smoke", action="store_true", help="1 s loads; figures mean nothing")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    seconds = 1 if args.smoke else args.seconds
    names = ["floor", "floor-parse", "fclf-edge", *[p for p in args.peers.split(",") if p]]
    args.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scripts = {"single": wrk_script(work, 1), "batch": wrk_script(work, 1000)}
        results = [measure(n, work, args.cache, seconds, args.connections, scripts) for n in names]
    text = markdown(results, seconds, args.connections)
    print(text)
    if not args.no_write and not args.smoke:
        update_section(ROOT / "docs" / "benchmarks.md", SECTION, text)
        update_section(ROOT / "docs" / "serve.md", SECTION, text.replace("## ", "### ", 1))
        (ROOT / "docs" / "serve-bench.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
