"""Simulator server throughput: examples/s trained while frames with heatmaps go out.

Starts ``deltaflow serve`` (uvicorn on 127.0.0.1, a free port) in a child process, so the
client's decoding does not share the server's interpreter, connects one WebSocket client that acknowledges every frame as the page does, sets the
default network (2-8-8-2 tanh, batch 10) on a data set, plays at full speed
(``steps_per_frame`` 0) and measures for ``--seconds``:

    examples/s   (steps trained × batch size) / wall time, from the frames' step counter
    frames/s     binary frames received / wall time
    bytes/frame  mean size of those frames
    click→frame  time from a ``step`` message (paused) to the frame showing it

Usage: python benchmarks/bench_server.py [--data spiral] [--seconds 5] [--grid 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time

import websockets

from deltaflow.web.frames import decode_frame


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def measure(url: str, data: str, seconds: float, grid: int) -> dict:
    async with websockets.connect(url, max_size=None) as ws:
        async def next_frame():
            while True:
                m = await ws.recv()
                if isinstance(m, bytes):
                    f = decode_frame(m)
                    await ws.send(json.dumps({"type": "ack", "frame": f["frame_id"]}))
                    return f, len(m)

        hello = json.loads(await ws.recv())
        config = hello["defaults"]["config"]
        config["data"] = {"name": data}
        config["epochs"] = hello["limits"]["max_epochs"]  # as long a run as the server allows
        await ws.send(json.dumps({"type": "config", "config": config, "grid": grid}))
        while True:  # the reply to the config (a frame from before it may come first)
            m = await ws.recv()
            reply = json.loads(m) if isinstance(m, str) else {}
            if reply.get("type") == "error":
                raise SystemExit(f"the server refused the config: {reply['message']}")
            if reply.get("type") == "state":
                break
        await next_frame()
        latencies = []
        for _ in range(10):
            await asyncio.sleep(0.1)  # a click, not a burst: frames are paced to max_fps
            t = time.perf_counter()
            await ws.send(json.dumps({"type": "step", "n": 1}))
            await next_frame()
            latencies.append(time.perf_counter() - t)
        await ws.send(json.dumps({"type": "speed", "steps_per_frame": 0}))
        await ws.send(json.dumps({"type": "play"}))
        first, _ = await next_frame()
        t0, frames, size = time.perf_counter(), 0, 0
        while time.perf_counter() - t0 < seconds:
            f, n = await next_frame()
            frames, size = frames + 1, size + n
        wall = time.perf_counter() - t0
        batch = config["batch_size"]
        return {
            "data": data, "grid": grid, "examples_per_s": (f["step"] - first["step"]) * batch / wall,
            "frames_per_s": frames / wall, "bytes_per_frame": size / max(frames, 1),
            "click_to_frame_ms": 1e3 * sorted(latencies)[len(latencies) // 2],
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=["spiral", "circle"])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--grid", type=int, default=64)
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", f"from deltaflow.web.server import serve; serve(port={port})"],
                              stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.1)
    try:
        for data in args.data:
            r = asyncio.run(measure(f"ws://127.0.0.1:{port}/ws", data, args.seconds, args.grid))
            print(f"{r['data']:>8}  grid {r['grid']}:  {r['examples_per_s']:>9,.0f} examples/s  "
                  f"{r['frames_per_s']:5.1f} frames/s  {r['bytes_per_frame']:>8,.0f} bytes/frame  "
                  f"click→frame {r['click_to_frame_ms']:.1f} ms")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
