"""Servers the benches start in their own processes: start one, read the URL it prints, stop it."""
from __future__ import annotations

import queue
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["start_process", "stop_process", "served"]


def start_process(argv: list[str], cwd: Path | None = None, timeout_s: float = 60,
                  banner: str = "URL=") -> tuple[subprocess.Popen, str]:
    """Start ``argv`` and return it with the URL of its first stdout line that holds ``banner``
    (``KINESIS_URL=``, ``REDSHIFT_DATA_URL=``…); RuntimeError if none comes within ``timeout_s``."""
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:  # select() on the pipe would miss lines already in readline's buffer
        for line in process.stdout:  # (``streamload stack`` prints its three URLs at once)
            lines.put(line)

    threading.Thread(target=read_lines, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=min(left, 0.5))
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if banner in line:
            return process, line.split(banner, 1)[1].split()[0]
    process.kill()
    process.wait(timeout=10)
    raise RuntimeError(f"{argv[0]} did not print {banner} within {timeout_s:.0f} s")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def served(argv: list[str], cwd: Path | None = None, banner: str = "URL=", timeout_s: float = 60):
    """``start_process`` as a context manager that yields the URL; a start failure exits the bench."""
    try:
        process, url = start_process(argv, cwd, timeout_s, banner)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    try:
        yield url
    finally:
        stop_process(process)
