"""`fclf-edge serve`: the Open Inference Protocol over HTTP, checked with real clients.

One server per module, started by the test on 127.0.0.1 on a free port (`--port 0`) and stopped
with SIGTERM. Clients: urllib, curl, Triton's own Python client (JSON and binary modes) and
Node's built-in fetch. Every answer is compared with `Classifier` on the same values, bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fclf_edge.runtime import DEFAULT_MODEL_PATH, Classifier
from fclf_edge.runtime.validate import as_batch

from .conftest import cli_env

ROOT = Path(__file__).resolve().parents[1]
VERSION = hashlib.sha256(DEFAULT_MODEL_PATH.read_bytes()).hexdigest()[:12]
LISTENING = re.compile(r"listening on (http://\S+) ")


class Server:
    """`fclf-edge serve ARGS --port 0` in a subprocess; its stderr is collected in `lines`."""

    def __init__(self, *args: str, timeout: float = 60) -> None:
        command = [sys.executable, "-m", "fclf_edge.runtime", "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        self.lines: list[str] = []
        self.url = ""
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(timeout) or not self.url:
            self.stop(signal.SIGKILL)
            raise AssertionError(f"server did not start: {self.log}")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            match = LISTENING.search(line)
            if match:
                self.url = match.group(1)
                self._listening.set()
        self._listening.set()  # exited before listening

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    assert srv.stop() == 0, srv.log
    assert_clean_log(srv.log)


def assert_clean_log(log: str) -> None:
    """No traceback, stack frame or file path in any log line."""
    for bad in ("Traceback", 'File "', ".py", "site-packages", "/work", "/usr/"):
        assert bad not in log, f"{bad!r} in the server log:\n{log}"


def http(
    url: str,
    body: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) with urllib; an HTTP error status is returned, not raised."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def infer_url(server: Server, name: str = "fahrenheit", version: str | None = None) -> str:
    path = f"/v2/models/{name}" + (f"/versions/{version}" if version else "")
    return server.url + path + "/infer"


def tensor(data: Any, shape: list[int], datatype: str = "FP32") -> dict[str, Any]:
    return {"inputs": [{"name": "fahrenheit", "datatype": datatype, "shape": shape, "data": data}]}


def values_to_check() -> np.ndarray:
    """Edges of the domain, both sides of the boundary, and a spread of ordinary readings."""
    boundary = np.float32(32.0)
    near = [np.nextafter(boundary, np.float32(-1e9)), boundary, np.nextafter(boundary, 1e9)]
    edges = [-459.67, -459.6, -40.0, 0.0, -0.0, 31.999, 32.0, 32.001, 33.0, 10_000.0, 3.0e38]
    rng = np.random.default_rng(19)
    spread = rng.uniform(-459.67, 1000.0, 500)
    return np.concatenate([near, edges, spread]).astype(np.float32)


def expected(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels, probabilities = Classifier().predict_with_proba(values)
    return labels, probabilities


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and bytes: the same floats bit for bit (NaN and -0.0 included)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def outputs_of(body: bytes) -> dict[str, np.ndarray]:
    """Output name -> array, from a JSON response."""
    dtypes = {"INT64": np.int64, "FP32": np.float32}
    return {
        o["name"]: np.array(o["data"], dtype=dtypes[o["datatype"]]).reshape(o["shape"])
        for o in json.loads(body)["outputs"]
    }


# -- metadata and health -------------------------------------------------------------------


def test_health_and_server_metadata(server: Server) -> None:
    assert http(server.url + "/v2/health/live")[::2] == (200, b'{"live":true}')
    assert http(server.url + "/v2/health/ready")[::2] == (200, b'{"ready":true}')
    status, headers, body = http(server.url + "/v2")
    assert status == 200 and headers["content-type"] == "application/json"
    meta = json.loads(body)
    assert meta["name"] == "fclf-edge" and "binary_tensor_data" in meta["extensions"]


@pytest.mark.parametrize("version", [None, VERSION])
def test_model_metadata_and_ready(server: Server, version: str | None) -> None:
    base = server.url + "/v2/models/fahrenheit" + (f"/versions/{version}" if version else "")
    status, _, body = http(base)
    assert status == 200
    meta = json.loads(body)
    assert meta["name"] == "fahrenheit" and meta["versions"] == [VERSION]
    assert meta["inputs"] == [{"name": "fahrenheit", "datatype": "FP32", "shape": [-1]}]
    assert meta["outputs"] == [
        {"name": "label", "datatype": "INT64", "shape": [-1]},
        {"name": "probability", "datatype": "FP32", "shape": [-1]},
    ]
    assert http(base + "/ready")[::2] == (200, b'{"name":"fahrenheit","ready":true}')


# -- inference: JSON ----------------------------------------------------------------------------


def test_json_flat_matches_classifier_bit_for_bit(server: Server) -> None:
    values = values_to_check()
    labels, probabilities = expected(values)
    status, headers, body = http(infer_url(server), tensor(values.tolist(), [len(values)]))
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    response = json.loads(body)
    assert response["model_name"] == "fahrenheit" and response["model_version"] == VERSION
    out = outputs_of(body)
    assert list(out) == ["label", "probability"]
    assert np.array_equal(out["label"], labels)
    assert same_bits(out["probability"], probabilities)


def test_json_nested_shape_id_and_outputs(server: Server) -> None:
    request = tensor([[33.0], [32.0], [-40.0]], [3, 1])
    request["id"] = "reading-7"
    request["outputs"] = [{"name": "label"}]
    status, _, body = http(infer_url(server, version=VERSION), request)
    assert status == 200, body
    response = json.loads(body)
    assert response["id"] == "reading-7"
    assert [o["name"] for o in response["outputs"]] == ["label"]
    assert response["outputs"][0] == {
        "name": "label",
        "datatype": "INT64",
        "shape": [3],
        "data": [1, 0, 0],
    }


def test_json_integers_and_single_value(server: Server) -> None:
    for data, want in (([33], [1]), ([32], [0]), ([33.5], [1]), ([], [])):
        status, _, body = http(infer_url(server), tensor(data, [len(data)]))
        assert status == 200, body
        assert outputs_of(body)["label"].tolist() == want


def test_concurrent_requests_each_match_classifier(server: Server) -> None:
    """Requests that arrive together run as one batch; each still gets its own exact answer."""
    values = values_to_check()
    chunks = [values[i : i + 1 + i % 7] for i in range(0, 400, 5)]

    def ask(chunk: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        status, _, body = http(infer_url(server), tensor(chunk.tolist(), [len(chunk)]))
        assert status == 200, body
        return chunk, outputs_of(body)

    with ThreadPoolExecutor(16) as pool:
        for chunk, out in pool.map(ask, chunks):
            labels, probabilities = Classifier().predict_with_proba(chunk)
            assert np.array_equal(out["label"], labels)
            assert same_bits(out["probability"], probabilities)


# -- inference: the binary tensor data extension ------------------------------------------------


def binary_request(
    values: np.ndarray, outputs: list[dict[str, Any]] | None = None, binary_output: bool = True
) -> tuple[bytes, dict[str, str]]:
    raw = values.astype("<f4").tobytes()
    request: dict[str, Any] = {
        "inputs": [
            {
                "name": "fahrenheit",
                "datatype": "FP32",
                "shape": [len(values)],
                "parameters": {"binary_data_size": len(raw)},
            }
        ]
    }
    if outputs is not None:
        request["outputs"] = outputs
    else:
        request["parameters"] = {"binary_data_output": binary_output}
    header = json.dumps(request).encode()
    headers = {
        "Inference-Header-Content-Length": str(len(header)),
        "Content-Type": "application/octet-stream",
    }
    return header + raw, headers


def test_binary_request_and_response(server: Server) -> None:
    values = values_to_check()
    labels, probabilities = expected(values)
    body, headers = binary_request(values)
    status, reply_headers, reply = http(infer_url(server), body, headers)
    assert status == 200, reply
    assert reply_headers["content-type"] == "application/octet-stream"
    json_length = int(reply_headers["inference-header-content-length"])
    header = json.loads(reply[:json_length])
    sizes = [o["parameters"]["binary_data_size"] for o in header["outputs"]]
    assert sizes == [8 * len(values), 4 * len(values)]
    data = reply[json_length:]
    assert len(data) == sum(sizes)
    assert np.array_equal(np.frombuffer(data[: sizes[0]], "<i8"), labels)
    assert same_bits(np.frombuffer(data[sizes[0] :], "<f4"), probabilities)


def test_binary_request_json_response_per_output(server: Server) -> None:
    values = np.array([33.0, 32.0], dtype=np.float32)
    outputs = [{"name": "probability", "parameters": {"binary_data": False}}]
    body, headers = binary_request(values, outputs=outputs)
    status, reply_headers, reply = http(infer_url(server), body, headers)
    assert status == 200, reply
    assert "inference-header-content-length" not in reply_headers
    out = outputs_of(reply)
    assert list(out) == ["probability"]
    assert same_bits(out["probability"], expected(values)[1])


# -- Triton's client ----------------------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_tritonclient(server: Server, binary: bool) -> None:
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("fahrenheit")
        assert client.is_model_ready("fahrenheit", VERSION)
        assert not client.is_model_ready("nonesuch")
        assert client.get_model_metadata("fahrenheit")["versions"] == [VERSION]
        assert "binary_tensor_data" in client.get_server_metadata()["extensions"]

        values = values_to_check()
        labels, probabilities = expected(values)
        given = httpclient.InferInput("fahrenheit", [len(values)], "FP32")
        given.set_data_from_numpy(values, binary_data=binary)
        result = client.infer("fahrenheit", [given], request_id="r1")  # every output
        assert result.get_response()["id"] == "r1"
        assert np.array_equal(result.as_numpy("label"), labels)
        assert same_bits(result.as_numpy("probability"), probabilities)

        wanted = [httpclient.InferRequestedOutput("label", binary_data=binary)]
        result = client.infer("fahrenheit", [given], outputs=wanted, model_version=VERSION)
        assert [o["name"] for o in result.get_response()["outputs"]] == ["label"]
        assert result.as_numpy("probability") is None
        assert np.array_equal(result.as_numpy("label"), labels)

        bad = httpclient.InferInput("fahrenheit", [3], "FP32")
        bad.set_data_from_numpy(np.array([33.0, np.nan, 1.0], np.float32), binary_data=binary)
        with pytest.raises(httpclient.InferenceServerException) as caught:
            client.infer("fahrenheit", [bad])
        assert caught.value.status() == "400"
        assert caught.value.message() == "value nan at index 1 NaN is not a temperature"
    finally:
        client.close()


# -- curl and Node --------------------------------------------------------------------------------


def test_curl(server: Server) -> None:
    body = json.dumps(tensor([33, 32], [2]))
    proc = subprocess.run(
        ["curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json", "-d", body,
         infer_url(server)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert outputs_of(proc.stdout.encode())["label"].tolist() == [1, 0]


NODE_FETCH = """
const [url, values] = [process.argv[1], JSON.parse(process.argv[2])];
const reply = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ inputs: [{ name: "fahrenheit", datatype: "FP32",
                                   shape: [values.length], data: values }] }),
});
const bad = await fetch(url, { method: "POST", body: "{not json" });
console.log(JSON.stringify({ status: reply.status, body: await reply.json(),
                             badStatus: bad.status, bad: await bad.json() }));
"""


def test_node_fetch(server: Server) -> None:
    values = values_to_check()[:50]
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_FETCH, infer_url(server),
         json.dumps(values.tolist())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == 200
    out = outputs_of(json.dumps(result["body"]).encode())
    labels, probabilities = expected(values)
    assert np.array_equal(out["label"], labels)
    assert same_bits(out["probability"], probabilities)
    assert result["badStatus"] == 400 and "malformed JSON" in result["bad"]["error"]


# -- errors -------------------------------------------------------------------------------------


def _binary_mismatch() -> tuple[bytes, dict[str, str]]:
    body, headers = binary_request(np.array([33.0, 32.0], np.float32))
    return body[:-2], headers  # two bytes short


ERRORS: list[tuple[str, Any, dict[str, str], int, str]] = [
    ("nan", b'{"inputs":[{"name":"fahrenheit","datatype":"FP32","shape":[2],"data":[1.0,NaN]}]}',
     {}, 400, "value nan at index 1 NaN is not a temperature"),
    ("infinity", tensor([float("inf")], [1]), {}, 400,
     "value inf at index 0 infinity is not a temperature"),
    ("below absolute zero", tensor([20.0, 30.0, -500.0], [3]), {}, 400,
     "value -500.0 at index 2 is below absolute zero (-459.67 °F)"),
    ("text", tensor([1.0, "warm"], [2]), {}, 400, "expected real numbers, got 'warm' at index 1"),
    ("boolean", tensor([1.0, True], [2]), {}, 400, "expected real numbers, got True at index 1"),
    ("datatype", tensor([1.0], [1], "FP64"), {}, 400,
     "input 'fahrenheit' has datatype 'FP64'; the model takes FP32"),
    ("shape mismatch", tensor([1.0, 2.0], [3]), {}, 400,
     "input 'fahrenheit' has 2 values but its shape says 3"),
    ("bad shape", tensor([1.0, 2.0], [1, 2]), {}, 400,
     "input 'fahrenheit' has shape [1, 2]; the model takes shape [n] or [n, 1]"),
    ("billion", tensor([1.0], [1_000_000_000]), {}, 400,
     "input 'fahrenheit' has 1 values but its shape says 1000000000"),
    ("malformed", b'{"inputs": [', {}, 400, "malformed JSON in the request"),
    ("not an object", b"[1, 2]", {}, 400, "the request must be a JSON object, got an array"),
    ("input name", {"inputs": [{"name": "celsius", "datatype": "FP32", "shape": [1],
                                "data": [1.0]}]}, {}, 400, "unknown input 'celsius'"),
    ("output name", {**tensor([1.0], [1]), "outputs": [{"name": "kelvin"}]}, {}, 400,
     "unknown output 'kelvin'"),
    ("binary size", *_binary_mismatch(), 400,
     "binary_data_size 8 of input 'fahrenheit' is more than the 6 bytes of binary data"),
    ("header length", b"{}", {"Inference-Header-Content-Length": "99"}, 400,
     "Inference-Header-Content-Length 99 does not fit the body (2 bytes)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in ERRORS],
)
def test_errors_name_the_problem(
    server: Server, body: Any, headers: dict[str, str], status: int, message: str
) -> None:
    got, reply_headers, reply = http(infer_url(server), body, headers)
    assert got == status, reply
    assert reply_headers["content-type"] == "application/json"
    error = json.loads(reply)
    assert list(error) == ["error"] and message in error["error"], error
    assert "Traceback" not in error["error"] and "\n" not in error["error"]


def test_value_errors_use_the_runtime_words(server: Server) -> None:
    """The message for a bad value is the one Classifier raises for the same batch."""
    for bad in (float("nan"), float("-inf"), -460.0, 1e39):
        batch = [20.0, 30.0, bad]
        with pytest.raises(ValueError) as raised:
            Classifier().predict(batch)
        body = json.dumps(tensor(batch, [3]), allow_nan=True).encode()
        status, _, reply = http(infer_url(server), body)
        assert status == 400 and json.loads(reply)["error"] == str(raised.value)


@pytest.mark.parametrize(
    "rows",
    [[[1.0], []], [[1.0], [2.0, 3.0]], [[], [1.0, 2.0]], [[1.0], {"a": 1.0}], [[1.0], 2.0],
     [[1.0], None], [[1.0], "ab"]],
)  # fmt: skip
def test_nested_rows_must_hold_one_value_each(rows: list[Any]) -> None:
    """Shape [n, 1]: every row is one value; an empty, long or non-list row is refused."""
    from fclf_edge.runtime.serve.errors import RequestError
    from fclf_edge.runtime.serve.protocol import parse_infer_request

    body = json.dumps(tensor(rows, [len(rows), 1])).encode()
    with pytest.raises(RequestError, match="must be flat, or nested as its shape"):
        parse_infer_request(body, None)


@pytest.mark.parametrize("count", [1, 2, 1000])
def test_nested_and_flat_read_the_same_values(count: int) -> None:
    from fclf_edge.runtime.serve.protocol import parse_infer_request

    values = np.resize(values_to_check(), count).tolist()
    flat = parse_infer_request(json.dumps(tensor(values, [count])).encode(), None)
    rows = [[v] for v in values]
    nested = parse_infer_request(json.dumps(tensor(rows, [count, 1])).encode(), None)
    want, _ = as_batch(values)
    assert same_bits(flat.values, want) and same_bits(nested.values, want)


@pytest.mark.parametrize(
    ("path", "method", "status", "message"),
    [
        ("/v2/models/celsius/infer", "POST", 404, "unknown model 'celsius'"),
        ("/v2/models/celsius", "GET", 404, "unknown model 'celsius'"),
        ("/v2/models/fahrenheit/versions/7/infer", "POST", 404, "unknown version '7'"),
        ("/v2/models/fahrenheit/versions/7/ready", "GET", 404, "unknown version '7'"),
        ("/v1/models/fahrenheit:predict", "POST", 404, "no endpoint"),
        ("/v2/models/fahrenheit/infer", "GET", 405, "use POST"),
        ("/v2/health/live", "POST", 405, "use GET"),
    ],
)
def test_not_found_and_wrong_method(
    server: Server, path: str, method: str, status: int, message: str
) -> None:
    body = json.dumps(tensor([1.0], [1])).encode() if method == "POST" else None
    got, _, reply = http(server.url + path, body, method=method)
    assert got == status and message in json.loads(reply)["error"]


def test_no_client_path_loads_a_model(server: Server) -> None:
    """The model is chosen on the command line; nothing in a request names a file."""
    for path in ("/v2/repository/index", "/v2/repository/models/x/load"):
        assert http(server.url + path, b"{}", method="POST")[0] == 404
    request = {**tensor([1.0], [1]), "parameters": {"model": str(DEFAULT_MODEL_PATH)}}
    status, _, body = http(infer_url(server), request)
    assert status == 200 and json.loads(body)["model_version"] == VERSION


def test_openapi_document(server: Server) -> None:
    status, _, body = http(server.url + "/v2/openapi.json")
    assert status == 200
    doc = json.loads(body)
    assert doc["openapi"].startswith("3.") and "/v2/models/{model_name}/infer" in doc["paths"]


def test_model_name_and_log_format(tmp_path: Path) -> None:
    model = tmp_path / "porch.onnx"
    model.write_bytes(DEFAULT_MODEL_PATH.read_bytes())
    srv = Server("--model", str(model), "--log-format", "json", "--access-log")
    try:
        assert http(srv.url + "/v2/models/porch/ready")[0] == 200
        assert http(srv.url + "/v2/models/fahrenheit/ready")[0] == 404
        named = Server("--model", str(model), "--name", "garage")
        try:
            assert http(named.url + "/v2/models/garage/ready")[0] == 200
        finally:
            assert named.stop() == 0
    finally:
        assert srv.stop() == 0
    records = [json.loads(line) for line in srv.lines]
    assert {"time", "level", "message"} <= set(records[0])
    assert any("/v2/models/porch/ready" in r["message"] for r in records)  # the access log
    assert_clean_log(srv.log)


# -- the README's examples ------------------------------------------------------------------------


def readme_block(marker: str) -> str:
    page = (ROOT / "README.md").read_text()
    after = page.split(f"<!-- example:{marker} -->\n", 1)[1]
    return after.split("\n", 1)[1].split("```", 1)[0]  # the fenced block under the marker


def test_readme_serve_examples_run(server: Server) -> None:
    """The README's curl and tritonclient examples, pointed at this test's port."""
    here = f"127.0.0.1:{server.port}"
    curl = readme_block("serve-curl").replace("127.0.0.1:8000", here)
    proc = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = outputs_of(proc.stdout.encode())
    assert out["label"].tolist() == [1, 0]
    assert same_bits(out["probability"], expected(np.array([33.0, 32.0], np.float32))[1])

    script = readme_block("serve-tritonclient").replace("127.0.0.1:8000", here)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=cli_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[1 0]\n"
