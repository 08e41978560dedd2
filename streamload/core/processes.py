"""The one process toolkit: start a child that dies with its parent, wait for the line it
prints once it serves, stop it gracefully, pick a free loopback port.

The orchestrator's child group (``streamload.processes``), the producer's ``--processes``
children, the throwaway PostgreSQL, the benches and the tests all start and stop processes
through these few functions, so a rule (how long a stop waits, which signal a child gets when
its parent dies) is written once.

Dying with the parent: on Linux a child can ask the kernel for a signal when its parent dies
(``prctl(PR_SET_PDEATHSIG)``), which is what cleans up after a parent killed with SIGKILL or
by the OOM killer, when no ``finally`` runs. The kernel ties that signal to the *thread* that
forked the child: start children from a thread that outlives them. Elsewhere children simply
outlive a killed parent.
"""
from __future__ import annotations

import ctypes
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["die_with_parent", "die_with_parent_hook", "free_port", "log_lines", "signal_group", "start_with_banner",
           "stop_process", "wait_for_banner"]

_PR_SET_PDEATHSIG = 1


def _load_prctl():
    # Resolved once, at import, before any fork: a ``preexec_fn`` runs between fork and exec,
    # where loading a library (and taking its locks) is not safe in a process with threads.
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _load_prctl()


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send this process ``sig`` when its parent dies (Linux; no-op elsewhere)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, sig)


def die_with_parent_hook(sig: int = signal.SIGTERM, parent_pid: int | None = None) -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child get ``sig`` when this process dies. With
    ``parent_pid``, a child whose parent died before the request took effect exits at once
    instead of living on."""

    def hook() -> None:
        die_with_parent(sig)
        if _PRCTL is not None and parent_pid is not None and os.getppid() != parent_pid:
            os._exit(1)

    return hook


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (for a server that must be told a number, not 0)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def log_lines(path: Path) -> list[str] | None:
    """A child's log file as lines (stripped of blank ends), or None when it cannot be read:
    what a start-up error quotes to say why a server did not come up."""
    try:
        return path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return None


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the process group ``proc`` leads (started with ``start_new_session``)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0, first_signal: int = signal.SIGTERM,
                 group: bool = False) -> int | None:
    """Stop ``proc`` gracefully: ``first_signal`` (SIGTERM; PostgreSQL takes SIGINT for its
    fast shutdown), then SIGKILL if it has not exited within ``timeout_s``. With ``group``
    the signals go to its whole process group. Returns its exit code. Idempotent."""
    if proc.poll() is not None:
        return proc.returncode
    send = (lambda sig: signal_group(proc, sig)) if group else proc.send_signal
    send(first_signal)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        return proc.wait(timeout=max(timeout_s, 5.0))


def wait_for_banner(proc: subprocess.Popen, banner: str, timeout_s: float = 60.0) -> str | None:
    """The first word after ``banner`` (``KINESIS_URL=``…) in ``proc``'s stdout, or None if
    it exits or ``timeout_s`` passes first. A daemon thread keeps reading stdout afterwards,
    so a chatty server never blocks on a full pipe."""
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:  # select() on the pipe would miss lines already in readline's buffer
        for line in proc.stdout:
            lines.put(line.decode(errors="replace") if isinstance(line, bytes) else line)

    threading.Thread(target=read_lines, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=min(left, 0.5))
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                return None
            continue
        if banner in line:
            words = line.split(banner, 1)[1].split()
            return words[0] if words else ""
    return None


def start_with_banner(argv: list[str], banner: str, timeout_s: float = 60.0, **popen) -> tuple[subprocess.Popen, str]:
    """Start ``argv`` (stdout piped; ``popen`` passes cwd, env, stderr…), wait for ``banner``
    and return the process with the word after it. RuntimeError, with the process killed,
    if it exits or stays silent for ``timeout_s``."""
    popen.setdefault("stderr", subprocess.DEVNULL)
    popen.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, **popen)
    value = wait_for_banner(proc, banner, timeout_s)
    if value is None:
        proc.kill()
        proc.wait(timeout=10)
        raise RuntimeError(f"{' '.join(argv[:3])} did not print {banner} within {timeout_s:.0f} s")
    return proc, value
