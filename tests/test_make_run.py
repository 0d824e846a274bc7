"""``make run`` starts the simulator: its recipe, run as make would, serves the page and prints the address."""

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_serves_the_simulator_on_loopback():
    dry = subprocess.run(["make", "-n", "-W", ".venv/.installed", "run", f"PORT={_free_port()}"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    recipe = [line for line in dry.splitlines() if "deltaflow.cli serve" in line]
    assert len(recipe) == 1, dry
    port = int(re.search(r"--port (\d+)", recipe[0]).group(1))
    # the recipe with this interpreter in place of .venv's (the same package either way)
    argv = [sys.executable, *recipe[0].split()[1:]]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert f"deltaflow simulator at http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    page = r.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the server did not answer"
                time.sleep(0.2)
        assert "<title>" in page and "deltaflow" in page
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_taken_port_exits_2_with_one_line(capsys):
    from test_cli import run

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, _, err = run(["serve", "--port", port], capsys)
    assert code == 2
    assert err == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port "
                   "(make run: PORT=8001 make run)\n")


def test_an_unknown_host_exits_2_with_one_line(capsys):
    from test_cli import run

    code, _, err = run(["serve", "--host", "nonexistent.invalid", "--port", _free_port()], capsys)
    assert code == 2 and err.startswith("error: cannot listen on nonexistent.invalid:") and err.count("\n") == 1
    assert "Unknown error" not in err and "choose another --port" not in err
