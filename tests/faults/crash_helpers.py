"""What the crash-matrix tests share: start a server as its own process and read the URL
its banner prints, and wait for processes to be gone."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from streamload.core.processes import stop_process

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


def start_server(module: str, args: list[str], banner: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    """``python -m <module> <args>``; returns the process and the URL after ``<banner>=``.
    Its stderr goes to ``log_path`` (appended: a restart adds to the same log)."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
                                stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if line.startswith(f"{banner}="):
            return proc, line.split("=", 1)[1].split()[0]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    proc.wait(timeout=10)
    raise AssertionError(f"{module} did not start: {log_path.read_text(errors='replace')[-800:]}")


def stop(proc: subprocess.Popen) -> None:
    stop_process(proc, timeout_s=15)
    if proc.stdout is not None:
        proc.stdout.close()


def still_running(pids: set[int], timeout_s: float) -> list[str]:
    """Wait up to ``timeout_s`` for ``pids`` to exit; describe those that did not."""
    deadline = time.monotonic() + timeout_s
    while True:
        alive = []
        for pid in pids:
            try:
                process = psutil.Process(pid)
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid} {' '.join(process.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)
