"""Stopping a child the way a user's Ctrl-C or an orchestrator would, once it is busy."""
from __future__ import annotations

import signal
import subprocess
import time
from typing import Callable


def terminate_when(proc: subprocess.Popen, ready: Callable[[], bool], within_s: float,
                   grace_s: float) -> tuple[str, str]:
    """SIGTERM ``proc`` as soon as ``ready()`` holds and return its (stdout, stderr). Fails if it
    does not hold within ``within_s`` or the process exits first; the process never outlives
    the call (SIGKILL if it did not stop within ``grace_s``)."""
    try:
        deadline = time.monotonic() + within_s
        while not ready():
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        return proc.communicate(timeout=grace_s)
    finally:
        if proc.poll() is None:
            proc.kill()
