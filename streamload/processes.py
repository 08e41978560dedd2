"""Child processes a run starts (producers, Locust), stopped together, also on Ctrl-C.

Children run in their own process groups so a terminal's Ctrl-C reaches only the
orchestrator, which then stops them in order: SIGTERM (producers flush in-flight
batches), then SIGKILL after a grace period. Nothing is left running after a run.

If the orchestrator itself is killed (SIGKILL, OOM killer), no ``finally`` runs: on Linux
every child is started with ``PR_SET_PDEATHSIG`` = SIGTERM, so the kernel stops it when
its parent dies, and each child that starts processes of its own does the same for them
(the producer's ``--processes`` children), so the whole tree goes. Linux ties the signal to
the *thread* that forked: start children from a thread that outlives them (the one that
also stops them).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from streamload.core.processes import die_with_parent_hook, signal_group

__all__ = ["Child", "ChildGroup", "raise_on_sigterm"]


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


@dataclass
class ChildGroup:
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("wb")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            preexec_fn=die_with_parent_hook(signal.SIGTERM, parent_pid=os.getpid()),
        )
        log.close()
        child = Child(name=name, proc=proc, log_path=log_path)
        self.children.append(child)
        return child

    def wait(self, child: Child, timeout_s: float) -> int | None:
        try:
            return child.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def terminate(self, child: Child) -> None:
        """Ask one child to stop (SIGTERM to its group); ``stop_all`` follows up if needed."""
        if child.proc.poll() is None:
            signal_group(child.proc, signal.SIGTERM)

    def stop_all(self, grace_s: float = 10.0) -> None:
        live = [c for c in self.children if c.proc.poll() is None]
        for child in live:
            signal_group(child.proc, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in live:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(child.proc, signal.SIGKILL)
                child.proc.wait(timeout=5)

    def __enter__(self) -> "ChildGroup":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def raise_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks stop everything we started."""

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
