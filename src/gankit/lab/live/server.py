"""The web side of ``gankit lab serve``: a FastAPI app, a websocket, and the thread that trains.

Training runs in a background thread of the server process (one torch thread), a few steps per frame;
after each frame the thread sleeps long enough to leave the event loop (and a second core, where there is
one) free, so the page stays responsive on a 2-core machine. The event loop only relays: each websocket
connection gets the newest frame (older ones are skipped, never queued), the new points of the loss curves,
and the replies to its commands. Commands (start, pause, step, reset, set, save, load) run in a worker
thread under the session's lock, so a slow save never blocks the page.

The server listens on 127.0.0.1 only, and the websocket accepts pages served by this server alone (its Origin
header must name a loopback host), so another web site open in the browser cannot drive it to write files.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from importlib import resources
from typing import Any
from urllib.parse import urlparse

import torch

try:  # the lab extra; FastAPI resolves the handlers' annotations in this module's namespace
    from fastapi import FastAPI, WebSocket, WebSocketDisconnect
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError("gankit lab serve needs the web server: pip install 'gankit[lab]'") from e

from gankit.errors import UserError
from gankit.lab.live.session import TOYS, LiveSession, REMEDIES, field_of, page_losses
from gankit.lab.live.view import View

MAX_FPS = 15  # frames per second at most
DUTY = 0.75  # the training thread works at most this fraction of the time, and sleeps the rest
MAX_STEPS_PER_FRAME = 200
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class Trainer:
    """The session, the thread that trains it, and the newest frame (a JSON string) for the connections."""

    def __init__(self, session: LiveSession | None = None, steps_per_frame: int = 10):
        self.session = session or LiveSession()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.running = False
        self.pending_steps = 0
        self.steps_per_frame = steps_per_frame
        self.steps_per_s = 0.0
        self.view = View(self.session)
        self.run_message = json.dumps(self.view.describe())
        self.frame, self.version, self.dirty = "", 0, True
        self.error: str | None = None  # a failure inside training (shown by the page; the run is paused)
        self.thread = threading.Thread(target=self._loop, name="gankit-lab-trainer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=5)

    # ------------------------------------------------------------------ the training thread

    def _loop(self) -> None:
        torch.set_num_threads(1)  # one core for training; the other for the server and the browser
        while not self.stopping.is_set():
            began = time.monotonic()
            with self.lock:
                n = self.steps_per_frame if self.running else self.pending_steps
                self.pending_steps = 0
                if n:
                    try:
                        self.session.train(n)
                    except Exception as e:  # a diverged run (NaN in a loss): pause and say so
                        self.running, self.error = False, f"training stopped at step {self.session.step}: {e}"
                trained = time.monotonic() - began
                if n or self.dirty:
                    self._publish()
            busy = time.monotonic() - began
            if n and trained > 0:
                self.steps_per_s = 0.8 * self.steps_per_s + 0.2 * n / trained
            if self.running:
                pause = max(0.005, 1 / MAX_FPS - busy, busy * (1 - DUTY) / DUTY)
            else:
                pause = 0.5
            self.wake.wait(pause)
            self.wake.clear()

    def _publish(self) -> None:
        if self.view.run_id != self.session.run_id:
            self.view = View(self.session)
            self.run_message = json.dumps(self.view.describe())
        frame = self.view.frame(self.session)
        frame |= {"running": self.running, "steps_per_s": round(self.steps_per_s, 1), "error": self.error}
        frame["steps_per_frame"] = self.steps_per_frame
        self.frame, self.dirty = json.dumps(frame), False
        self.version += 1

    # ------------------------------------------------------------------ commands (from a worker thread)

    def command(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        """Carry out one command of the page; returns the reply to send (None: the next frame is the reply)."""
        cmd = msg.get("cmd")
        try:
            with self.lock:
                reply = self._command(cmd, msg)
                self.dirty = True
        except UserError as e:
            return {"type": "error", "message": str(e), "field": field_of(str(e)), "cmd": cmd}
        finally:
            self.wake.set()
        return reply

    def _command(self, cmd: Any, msg: dict[str, Any]) -> dict[str, Any] | None:
        s = self.session
        if cmd in ("start", "pause"):
            self.running, self.error = cmd == "start", None
        elif cmd == "step":
            self.running, self.pending_steps = False, self.pending_steps + max(1, int(msg.get("n", 1)))
        elif cmd == "reset":
            s.reset()
        elif cmd == "speed":
            self.steps_per_frame = min(MAX_STEPS_PER_FRAME, max(1, int(msg.get("steps_per_frame", 10))))
        elif cmd == "set":
            new_run = s.update(dict(msg.get("params", {})))
            return {"type": "ok", "cmd": cmd, "new_run": new_run, "params": s.params.model_dump()}
        elif cmd == "save":
            path = s.save(_folder(msg))
            return {"type": "ok", "cmd": cmd, "dir": str(path), "step": s.step}
        elif cmd == "load":
            self.session = LiveSession.load(_folder(msg))
            self.session.run_id = s.run_id + 1  # a new run for the connections: new real points, new curves
            self.running = False
            return {"type": "ok", "cmd": cmd, "dir": msg["dir"], "step": self.session.step}
        else:
            raise UserError(f"unknown command {cmd!r}")
        return None

    def curve(self, run_id: int, start: int) -> tuple[int, list[list[float]], list]:
        """(run id, loss-curve points from ``start``, the loss segments): what a connection has not seen.

        No lock: the event loop must not wait for a frame's training; rows are only appended, and a new run
        comes with a new session or a new list (its run id tells the connection to start over)."""
        s = self.session
        return s.run_id, s.curve(start), [list(x) for x in s.losses]


def _folder(msg: dict[str, Any]) -> str:
    folder = str(msg.get("dir", "")).strip()
    if not folder:
        raise UserError("name a folder for the run directory")
    return folder


def options() -> dict[str, Any]:
    """The choices the page offers (sent once per connection)."""
    return {"type": "options", "toys": list(TOYS), "losses": page_losses(), "remedies": list(REMEDIES)}


def make_app(trainer: Trainer):
    """The FastAPI app: ``/`` (the page), ``/static/*`` (its script and style), ``/ws`` (the websocket)."""
    static = resources.files("gankit.lab.live") / "static"
    app = FastAPI(title="gankit lab", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return (static / "index.html").read_text()

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        origin = socket.headers.get("origin")
        if origin is not None and urlparse(origin).hostname not in LOOPBACK:
            await socket.close(code=1008)  # policy violation: only this server's own page may connect
            return
        await socket.accept()
        replies: asyncio.Queue = asyncio.Queue()
        sender = asyncio.create_task(_send(socket, trainer, replies))
        try:
            while True:
                msg = json.loads(await socket.receive_text())
                reply = await asyncio.to_thread(trainer.command, msg if isinstance(msg, dict) else {})
                if reply is not None:
                    await replies.put(reply)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sender.cancel()

    return app


async def _send(socket, trainer: Trainer, replies: asyncio.Queue) -> None:
    """Relay to one connection: options once, each run's fixed part, the newest frame, new curve points."""
    await socket.send_text(json.dumps(options()))
    version, run_id, seen = -1, -1, 0
    while True:
        try:
            await socket.send_text(json.dumps(replies.get_nowait()))
            continue
        except asyncio.QueueEmpty:
            pass
        if trainer.version != version and trainer.frame:
            version, frame, run_message = trainer.version, trainer.frame, trainer.run_message
            current, points, losses = trainer.curve(run_id, seen)
            if current != run_id:  # a new run: its fixed part, and its curve from the start
                run_id, seen = current, 0
                await socket.send_text(run_message)
                current, points, losses = trainer.curve(run_id, 0)
            seen += len(points)
            await socket.send_text(frame)
            await socket.send_text(json.dumps({"type": "curve", "run_id": run_id, "points": points, "losses": losses}))
        await asyncio.sleep(0.02)


def serve(port: int = 8765, open_browser: bool = False, session: LiveSession | None = None) -> None:
    """Serve the live page on http://127.0.0.1:PORT until Ctrl-C (``gankit lab serve``)."""
    import uvicorn

    trainer = Trainer(session)
    trainer.start()
    url = f"http://127.0.0.1:{port}/"
    print(f"gankit lab: {url}  (Ctrl-C stops)", flush=True)
    if open_browser:
        import webbrowser

        threading.Timer(1.0, webbrowser.open, (url,)).start()
    try:
        uvicorn.run(make_app(trainer), host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    finally:
        trainer.stop()


class Background:
    """The server in a thread of this process on a free port (tests, screenshots): ``with Background() as b:``."""

    def __init__(self, session: LiveSession | None = None, steps_per_frame: int = 10):
        import uvicorn

        self.trainer = Trainer(session, steps_per_frame)
        app = make_app(self.trainer)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="gankit-lab-server", daemon=True)

    def __enter__(self) -> Background:
        self.trainer.start()
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the lab server did not start")
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.trainer.stop()
