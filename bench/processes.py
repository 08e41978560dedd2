"""Servers the benches start in their own processes, as a context manager that yields the
URL the server prints (the starting, banner wait and stopping are ``streamload.core.processes``)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from streamload.core.processes import start_with_banner, stop_process

__all__ = ["served"]


@contextmanager
def served(argv: list[str], cwd: Path | None = None, banner: str = "URL=", timeout_s: float = 60):
    """Start ``argv``, yield the URL after ``banner``, stop it after; a start failure exits the bench."""
    try:
        process, url = start_with_banner(argv, banner, timeout_s, cwd=cwd)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    try:
        yield url
    finally:
        stop_process(process)
