"""`gankit lab serve` is one command: it serves the page and streams the run; other web sites cannot drive it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("fastapi", reason="the lab extra is not installed (pip install 'gankit[lab]')")
pytest.importorskip("uvicorn", reason="the lab extra is not installed (pip install 'gankit[lab]')")
ws_client = pytest.importorskip("websockets.sync.client", reason="the lab extra is not installed")
from websockets.exceptions import InvalidStatus  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    port = _free_port()
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gankit", "lab", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"gankit lab serve did not answer: {proc.communicate()[0][-2000:]}")
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_the_page_and_its_files_are_served(served):
    page = urllib.request.urlopen(f"http://127.0.0.1:{served}/").read().decode()
    assert "/static/app.js" in page and "<canvas" in page and "//cdn" not in page
    script = urllib.request.urlopen(f"http://127.0.0.1:{served}/static/app.js").read().decode()
    assert "new WebSocket" in script


def test_the_websocket_streams_the_run_and_takes_commands(served):
    with ws_client.connect(f"ws://127.0.0.1:{served}/ws", origin=f"http://127.0.0.1:{served}") as ws:
        kinds, frame = {}, None
        while frame is None:
            msg = json.loads(ws.recv(timeout=30))
            kinds[msg["type"]] = msg
            frame = msg if msg["type"] == "frame" else None
        assert "ring" in kinds["options"]["toys"] and "non-saturating" in kinds["options"]["losses"]
        assert kinds["run"]["num_modes"] == 8 and len(kinds["run"]["real"]) == 1000  # 500 points, x and y
        assert frame["step"] == 0 and not frame["running"]
        ws.send(json.dumps({"cmd": "step", "n": 3}))
        while not (msg := json.loads(ws.recv(timeout=30)))["type"] == "frame" or msg["step"] < 3:
            pass
        assert msg["step"] == 3
        ws.send(json.dumps({"cmd": "set", "params": {"d_lr": 0}}))
        while (msg := json.loads(ws.recv(timeout=30)))["type"] != "error":
            pass
        assert "optim.d_lr" in msg["message"] and msg["field"] == "d_lr"


def test_other_origins_are_refused(served):
    with pytest.raises(InvalidStatus):
        with ws_client.connect(f"ws://127.0.0.1:{served}/ws", origin="http://example.com") as ws:
            ws.recv(timeout=10)
