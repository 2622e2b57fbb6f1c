"""`fclf-edge serve` under faults: signals, idle and slow clients, disconnects, huge bodies."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fclf_edge.runtime import Classifier

from .conftest import cli_env
from .test_serve import Server, assert_clean_log, binary_request, http, infer_url, tensor

INFER_PATH = "/v2/models/fahrenheit/infer"


def connect(server: Server, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(length: int | None, extra: str = "") -> bytes:
    lines = [f"POST {INFER_PATH} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(status_line.split()[1]), headers, rest[:length]


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def run_serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fclf_edge.runtime", "serve", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=timeout,
    )


# -- start-up -------------------------------------------------------------------------------------


def test_port_in_use_exits_2_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_serve("--port", str(port))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"Error: cannot listen on 127.0.0.1:{port}: address already in use "
        "(another server? choose another --port)\n"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a model", "is not a valid ONNX model"),
        (None, "model file not found"),
    ],
)
def test_bad_model_exits_3_before_listening(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    model = tmp_path / "broken.onnx"
    if content is not None:
        model.write_bytes(content)
    proc = run_serve("--model", str(model), "--port", "0")
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert "listening" not in proc.stderr and "Traceback" not in proc.stderr


def test_bad_name_and_host_exit_2() -> None:
    proc = run_serve("--name", "a/b", "--port", "0")
    assert proc.returncode == 2 and "cannot be part of a URL" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    proc = run_serve("--host", "no-such-host.invalid", "--port", "0")
    assert proc.returncode == 2 and proc.stderr.startswith("Error: cannot listen on")
    assert len(proc.stderr.splitlines()) == 1


# -- signals --------------------------------------------------------------------------------------


def test_sigterm_drains_in_flight_requests_and_exits_0() -> None:
    srv = Server()
    body = json.dumps(tensor([33.0, 32.0], [2])).encode()
    sock = connect(srv)
    sock.sendall(head(len(body)) + body[:10])  # in flight: the body is half sent
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert srv.proc.poll() is None, "exited with a request in flight"
    with pytest.raises(ConnectionRefusedError):  # no new connections while draining
        socket.create_connection(("127.0.0.1", srv.port), timeout=5).close()
    sock.sendall(body[10:])
    status, _, reply = read_response(sock)
    sock.close()
    assert status == 200, reply
    assert [o["data"] for o in json.loads(reply)["outputs"]][0] == [1, 0]
    assert srv.proc.wait(30) == 0, srv.log  # drained: it exits by itself
    srv.stop()
    assert_clean_log(srv.log)


def test_second_signal_forces_exit() -> None:
    srv = Server()
    sock = connect(srv)
    sock.sendall(head(1000) + b"{")  # never finished
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert srv.proc.poll() is None
    assert srv.stop(signal.SIGTERM) == 143
    sock.close()
    assert_clean_log(srv.log)


# -- idle, slow and vanishing clients -----------------------------------------------------------


@pytest.mark.slow
def test_idle_and_slow_connections_do_not_block_new_requests() -> None:
    srv = Server("--timeout-request", "2")
    idle: list[socket.socket] = []
    try:
        for _ in range(1000):
            idle.append(connect(srv))
        for sock in idle[:20]:  # slow clients: a request head that never ends
            sock.sendall(b"POST /v2/models/fahrenheit/infer HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for value in range(50):
            status, _, body = http(infer_url(srv), tensor([float(value)], [1]))
            assert status == 200, body
        assert time.monotonic() - started < 10
        # Past --timeout-request every idle or slow connection has been closed by the server.
        time.sleep(2.5)
        assert all(closed_by_server(sock, 5) for sock in idle)
        assert http(srv.url + "/v2/health/ready")[0] == 200
    finally:
        for sock in idle:
            sock.close()
        assert srv.stop() == 0, srv.log
    assert_clean_log(srv.log)


def test_client_disconnects_mid_request_do_no_harm() -> None:
    srv = Server()
    try:
        body = json.dumps(tensor([33.0], [1])).encode()
        for cut in (0, 5, len(body) - 1):  # the head only, part of the body, all but a byte
            sock = connect(srv)
            sock.sendall(head(len(body)) + body[:cut])
            sock.close()
        big_body, headers = binary_request(np.full(1_000_000, 40.0, np.float32))
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock = connect(srv)  # a large request (thread pool), gone before its answer
        sock.sendall(head(len(big_body), extra) + big_body)
        sock.close()
        time.sleep(0.5)
        status, _, reply = http(infer_url(srv), tensor([33.0, 32.0], [2]))
        assert status == 200 and json.loads(reply)["outputs"][0]["data"] == [1, 0]
    finally:
        assert srv.stop() == 0, srv.log
    assert_clean_log(srv.log)


# -- sizes ----------------------------------------------------------------------------------------


def test_body_over_the_limit_gets_413_unread() -> None:
    srv = Server("--max-body-size", "100000")
    try:
        sock = connect(srv)
        started = time.monotonic()
        sock.sendall(head(10_000_000_000) + b'{"inputs": [')  # declares 10 GB, sends 12 bytes
        status, headers, reply = read_response(sock)
        assert time.monotonic() - started < 2
        assert status == 413 and headers["connection"] == "close"
        assert "over the limit of 100000 bytes" in json.loads(reply)["error"]
        assert closed_by_server(sock, 5)
        sock.close()

        sock = connect(srv)  # no Content-Length: chunks, counted as they come
        sock.sendall(head(None, "Transfer-Encoding: chunked\r\n"))
        chunk = b"x" * 60_000
        for _ in range(3):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, _, reply = read_response(sock)
        assert status == 413, reply
        sock.close()
        assert http(srv.url + "/v2/health/live")[0] == 200
    finally:
        assert srv.stop() == 0, srv.log


def test_billion_element_shape_is_refused_at_once() -> None:
    srv = Server()
    try:
        before = rss_kib(srv.proc.pid)
        header = json.dumps(
            {
                "inputs": [
                    {
                        "name": "fahrenheit",
                        "datatype": "FP32",
                        "shape": [1_000_000_000],
                        "parameters": {"binary_data_size": 4_000_000_000},
                    }
                ]
            }
        ).encode()
        headers = {"Inference-Header-Content-Length": str(len(header))}
        started = time.monotonic()
        status, _, reply = http(infer_url(srv), header + b"\0" * 8, headers)
        assert time.monotonic() - started < 1
        assert status == 400
        assert "is more than the 8 bytes of binary data" in json.loads(reply)["error"]
        status, _, reply = http(infer_url(srv), tensor([1.0, 2.0], [1_000_000_000, 1]))
        assert status == 400 and "shape says 1000000000" in json.loads(reply)["error"]
        assert rss_kib(srv.proc.pid) - before < 20_000  # KiB: nothing sized by the shape
    finally:
        assert srv.stop() == 0, srv.log


def test_large_batch_matches_classifier() -> None:
    """A body over 64 KiB runs in the thread pool; its answer is still Classifier's."""
    values = np.random.default_rng(5).uniform(-459.67, 500.0, 300_000).astype(np.float32)
    srv = Server()
    try:
        body, headers = binary_request(values)
        status, reply_headers, reply = http(infer_url(srv), body, headers)
        assert status == 200
        json_length = int(reply_headers["inference-header-content-length"])
        labels, probabilities = Classifier().predict_with_proba(values)
        data = reply[json_length:]
        assert data == labels.astype("<i8").tobytes() + probabilities.astype("<f4").tobytes()
    finally:
        assert srv.stop() == 0, srv.log


def test_concurrency_limit_answers_503() -> None:
    srv = Server("--max-concurrency", "1")
    try:
        sock = connect(srv)
        sock.sendall(head(100) + b"{")  # holds the one slot, waiting for its body
        time.sleep(0.3)
        status, headers, reply = http(infer_url(srv), tensor([1.0], [1]))
        assert status == 503 and headers["retry-after"] == "1"
        assert "server busy" in json.loads(reply)["error"]
        sock.close()
        time.sleep(0.3)
        assert http(infer_url(srv), tensor([1.0], [1]))[0] == 200
    finally:
        assert srv.stop() == 0, srv.log
