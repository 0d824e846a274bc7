"""Simulator server: throughput (examples/s while frames go out) and fairness (a light session's frames beside heavy ones).

Throughput is examples/s trained while frames with heatmaps go out; fairness is one light
session's frames while heavy sessions step.

Starts ``deltaflow serve`` (uvicorn on 127.0.0.1, a free port) in a child process, so the
client's decoding does not share the server's interpreter. Every client acknowledges every
frame as the page does.

``--mode throughput`` (default): one client sets the default network (2-8-8-2 tanh, batch 20)
on a data set, plays at full speed (``steps_per_frame`` 0) and measures for ``--seconds``:

    examples/s   (steps trained × batch size) / wall time, from the frames' step counter
    frames/s     binary frames received / wall time
    bytes/frame  mean size of those frames
    click→frame  time from a ``step`` message (paused) to the frame showing it

``--mode fairness``: 7 heavy sessions (``HEAVY``: 32 hidden layers of 64, batch 256) each send
``{"type": "step", "n": 60}`` again as soon as the frame showing the last one comes; beside
them one light session plays the default network (at the default speed) for ``--seconds``:

    light frames/s   its frames / wall time, and the longest gap between two of them
    heavy steps/s    the steps the heavy sessions' frames show, all together
    hello            then (the light session closed, the load going on) the time from opening
                     a new socket to its ``hello``, median and worst of 5

Usage: python benchmarks/bench_server.py [--mode throughput|fairness] [--data spiral] [--seconds 5] [--grid 64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import socket
import subprocess
import sys
import time

import websockets

from deltaflow.web.frames import DONE, PAUSED_BY_ALARM, decode_frame


HEAVY = {"data": {"name": "spiral", "n_samples": 1000}, "model": {"hidden": [64] * 32, "activation": "relu"},
         "optimizer": {"name": "sgd", "lr": 0.001}, "batch_size": 256}
HEAVY_SESSIONS, HEAVY_STEP = 7, 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One socket, as the page uses it: it acknowledges every frame."""

    def __init__(self, ws, hello: dict):
        self.ws, self.hello = ws, hello

    @classmethod
    async def open(cls, url: str) -> Client:
        ws = await websockets.connect(url, max_size=None)
        return cls(ws, json.loads(await ws.recv()))

    async def configure(self, config: dict, grid: int) -> dict:
        """Send the config, wait for its ``state`` and the frame after it; that frame."""
        await self.ws.send(json.dumps({"type": "config", "config": config, "grid": grid}))
        while True:  # the reply to the config (a frame from before it may come first)
            m = await self.ws.recv()
            reply = json.loads(m) if isinstance(m, str) else {}
            if reply.get("type") == "error":
                raise SystemExit(f"the server refused the config: {reply['message']}")
            if reply.get("type") == "state":
                return (await self.next_frame())[0]

    async def next_frame(self) -> tuple[dict, int]:
        """The next frame (acknowledged) and its size in bytes."""
        while True:
            m = await self.ws.recv()
            if isinstance(m, bytes):
                f = decode_frame(m)
                await self.ws.send(json.dumps({"type": "ack", "frame": f["frame_id"]}))
                return f, len(m)

    async def send(self, **message) -> None:
        await self.ws.send(json.dumps(message))


async def measure(url: str, data: str, seconds: float, grid: int) -> dict:
    c = await Client.open(url)
    try:
        config = c.hello["defaults"]["config"]
        config["data"] = {"name": data}
        config["epochs"] = c.hello["limits"]["max_epochs"]  # as long a run as the server allows
        await c.configure(config, grid)
        latencies = []
        for _ in range(10):
            await asyncio.sleep(0.1)  # a click, not a burst: frames are paced to max_fps
            t = time.perf_counter()
            await c.send(type="step", n=1)
            await c.next_frame()
            latencies.append(time.perf_counter() - t)
        await c.send(type="speed", steps_per_frame=0)
        await c.send(type="play")
        first, _ = await c.next_frame()
        t0, frames, size = time.perf_counter(), 0, 0
        while time.perf_counter() - t0 < seconds:
            f, n = await c.next_frame()
            frames, size = frames + 1, size + n
        wall = time.perf_counter() - t0
    finally:
        await c.ws.close()
    return {
        "data": data, "grid": grid, "examples_per_s": (f["step"] - first["step"]) * config["batch_size"] / wall,
        "frames_per_s": frames / wall, "bytes_per_frame": size / max(frames, 1),
        "click_to_frame_ms": 1e3 * sorted(latencies)[len(latencies) // 2],
    }


async def heavy(url: str, stop: asyncio.Event, steps: list[int]) -> None:
    """A heavy session: ``step`` n=60 again whenever the frame showing the last one comes."""
    c = await Client.open(url)
    try:
        config = {**HEAVY, "epochs": c.hello["limits"]["max_epochs"]}
        at = (await c.configure(config, 0))["step"]
        while not stop.is_set():
            await c.send(type="step", n=HEAVY_STEP)
            while (f := (await c.next_frame())[0])["step"] < at + HEAVY_STEP:
                if f["flags"] & (PAUSED_BY_ALARM | DONE):
                    raise SystemExit(f"a heavy session stopped at step {f['step']} (flags {f['flags']})")
            steps.append(f["step"] - at)
            at = f["step"]
    finally:
        await c.ws.close()


async def light(url: str, seconds: float) -> dict:
    """The default network playing at the default speed: its frames per second and longest gap."""
    c = await Client.open(url)
    try:
        await c.configure({**c.hello["defaults"]["config"], "epochs": c.hello["limits"]["max_epochs"]}, 64)
        await c.send(type="play")
        await c.next_frame()
        t0 = last = now = time.perf_counter()
        frames, gap = 0, 0.0
        with contextlib.suppress(TimeoutError):  # a starved session may get no frame at all
            while now - t0 < seconds:
                await asyncio.wait_for(c.next_frame(), t0 + seconds - now)
                now = time.perf_counter()
                frames, gap, last = frames + 1, max(gap, now - last), now
        wall = time.perf_counter() - t0
        return {"light_frames_per_s": frames / wall, "light_max_gap_ms": 1e3 * max(gap, t0 + wall - last)}
    finally:
        await c.ws.close()


async def time_to_hello(url: str, limit_s: float = 60.0) -> float:
    """Seconds from opening a socket to its hello (inf: none within ``limit_s``)."""
    t = time.perf_counter()
    try:
        c = await asyncio.wait_for(Client.open(url), limit_s)
    except TimeoutError:
        return math.inf
    seconds = time.perf_counter() - t
    await c.ws.close()
    return seconds


async def fairness(url: str, seconds: float) -> dict:
    stop, steps = asyncio.Event(), []
    heavies = [asyncio.create_task(heavy(url, stop, steps)) for _ in range(HEAVY_SESSIONS)]
    await asyncio.sleep(2.0)  # every heavy session configured and stepping
    t0 = time.perf_counter()
    result = await light(url, seconds)
    result["heavy_steps_per_s"] = sum(steps) / (time.perf_counter() - t0)
    hellos = sorted([await time_to_hello(url) for _ in range(5)])
    stop.set()
    await asyncio.wait(heavies, timeout=60)
    for task in heavies:
        task.cancel()
    return {**result, "hello_median_ms": 1e3 * hellos[2], "hello_max_ms": 1e3 * hellos[-1]}


def start_server() -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", f"from deltaflow.web.server import serve; serve(port={port})"],
                              stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server, port
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["throughput", "fairness"], default="throughput")
    ap.add_argument("--data", nargs="+", default=["spiral", "circle"])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--grid", type=int, default=64)
    args = ap.parse_args()
    server, port = start_server()
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        if args.mode == "fairness":
            r = asyncio.run(fairness(url, args.seconds))
            print(f"light: {r['light_frames_per_s']:5.1f} frames/s (longest gap {r['light_max_gap_ms']:,.0f} ms) "
                  f"beside {HEAVY_SESSIONS} heavy sessions stepping {r['heavy_steps_per_s']:,.0f} steps/s; "
                  f"hello in {r['hello_median_ms']:,.0f} ms (worst {r['hello_max_ms']:,.0f} ms)")
            return
        for data in args.data:
            r = asyncio.run(measure(url, data, args.seconds, args.grid))
            print(f"{r['data']:>8}  grid {r['grid']}:  {r['examples_per_s']:>9,.0f} examples/s  "
                  f"{r['frames_per_s']:5.1f} frames/s  {r['bytes_per_frame']:>8,.0f} bytes/frame  "
                  f"click→frame {r['click_to_frame_ms']:.1f} ms")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # its workers still busy
            server.kill()


if __name__ == "__main__":
    main()
