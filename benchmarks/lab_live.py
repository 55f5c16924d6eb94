"""How responsive the live page's server is while it trains (``gankit lab serve``, docs/lab-live.md).

Starts the server in this process on a free port, starts training the default run (ring, 128-unit MLPs,
batch 128), and measures over ``--seconds`` what one websocket client receives (frames/s, training steps/s),
then the round trip of a parameter change (``set`` -> ``ok``: the wait for the training thread's lock plus
rebuilding the method) and of fetching the page over HTTP, both while training goes on. Prints JSON.

    OMP_NUM_THREADS=1 python benchmarks/lab_live.py [--seconds 10] [--steps-per-frame 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request

import torch
from websockets.sync.client import connect

from common import hardware, write_results
from gankit.lab.live.server import Background


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--steps-per-frame", type=int, default=10)
    ap.add_argument("--out", default="benchmarks/results/lab-live")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with Background(steps_per_frame=args.steps_per_frame) as bg:
        port = bg.url.rstrip("/").rsplit(":", 1)[1]
        with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            ws.send(json.dumps({"cmd": "start"}))
            frames, first, last, began = 0, None, None, time.monotonic()
            while time.monotonic() - began < args.seconds:
                msg = json.loads(ws.recv(timeout=30))
                if msg["type"] == "frame" and msg["running"]:
                    frames += 1
                    first, last = first or msg, msg
            elapsed = time.monotonic() - began
            rtt = []
            for i in range(20):
                t = time.monotonic()
                ws.send(json.dumps({"cmd": "set", "params": {"g_lr": 1e-3 + i * 1e-6}}))
                while json.loads(ws.recv(timeout=30))["type"] != "ok":
                    pass
                rtt.append(time.monotonic() - t)
            http = []
            for _ in range(20):
                t = time.monotonic()
                urllib.request.urlopen(bg.url, timeout=30).read()
                http.append(time.monotonic() - t)
    report = {
        "hardware": hardware(),
        "seconds": round(elapsed, 1),
        "steps_per_frame": args.steps_per_frame,
        "frames_per_s": round(frames / elapsed, 1),
        "steps_per_s": round((last["step"] - first["step"]) / elapsed, 1),
        "set_roundtrip_ms": {"median": round(1e3 * statistics.median(rtt)), "max": round(1e3 * max(rtt))},
        "get_page_ms": {"median": round(1e3 * statistics.median(http)), "max": round(1e3 * max(http))},
    }
    table = (
        "| frames/s | steps/s | set -> ok, median / max | GET /, median / max |\n| --- | --- | --- | --- |\n"
        f"| {report['frames_per_s']} | {report['steps_per_s']} | {report['set_roundtrip_ms']['median']} / "
        f"{report['set_roundtrip_ms']['max']} ms | {report['get_page_ms']['median']} / {report['get_page_ms']['max']} ms |\n"
    )
    write_results(args.out, "", report, table)


if __name__ == "__main__":
    main()
