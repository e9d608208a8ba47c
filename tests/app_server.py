"""Running `python app.py` for the tests: `app_url()` is one server on a free port shared by test_app.py
and test_browser.py in one pytest process (starting Gradio costs seconds), stopped when the process exits;
`start()` gives a test a server of its own (to stop it and look at what it leaves behind)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(log_name: str, **env_extra: str) -> tuple[subprocess.Popen, str]:
    """Start the app as a technician would (`python app.py`, port from GRADIO_SERVER_PORT); returns the
    process and its URL once it answers. The log goes to outputs/LOG_NAME."""
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1", **env_extra)
    env.setdefault("SMPVISION_APP_WORKERS", "2")
    (ROOT / "outputs").mkdir(exist_ok=True)
    with open(ROOT / "outputs" / log_name, "w") as log:  # the child keeps its own handle
        proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}; see outputs/{log_name}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise RuntimeError(f"app.py did not answer on {url} within {START_TIMEOUT_S} s")


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, as a service manager stops it; returns the exit code."""
    proc.terminate()
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


@functools.lru_cache(maxsize=1)
def app_url() -> str:
    cache = tempfile.mkdtemp(prefix="smpvision-test-gradio-")  # not the machine's shared /tmp/gradio
    proc, url = start("app_test_server.log", GRADIO_TEMP_DIR=cache)
    atexit.register(shutil.rmtree, cache, True)
    atexit.register(stop, proc)  # atexit runs last-in first-out: the server stops before its cache goes
    return url
