"""One run per output directory: a run claims its directory before it starts anything.

``claim_output_dir`` writes ``<out>/.streamload-run`` (JSON: pid, the process's start time,
host, command line, when) and ``OutputDirClaim.release`` removes it once the run has written
its report. A marker found at the start of the next run therefore means the earlier run is
still going, or it did not finish (killed, crashed, interrupted): its ledgers and report are
partial, and mixing a new run into them would make both wrong. The new run refuses with one
line, unless told ``overwrite`` -- which never takes a directory from a run still alive.

The marker is created with ``link(2)``, which fails if the name exists, so two runs
started at once cannot both win; it is written whole before it appears, so a reader never
sees half a marker. A pid is only "alive" if ``/proc`` shows the same process start time
(pids are reused).
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from streamload.core.errors import UsageError

__all__ = ["MARKER_NAME", "OutputDirBusy", "OutputDirClaim", "claim_output_dir"]

MARKER_NAME = ".streamload-run"


class OutputDirBusy(UsageError):
    """The output directory holds a run that is still going or did not finish; the message
    is one line saying which and what to do. A usage error (exit code 2)."""


@dataclass
class OutputDirClaim:
    out_dir: Path
    marker: Path

    def release(self) -> None:
        """The run finished: the directory may be reused without ``--overwrite``."""
        self.marker.unlink(missing_ok=True)

    def __enter__(self) -> "OutputDirClaim":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:  # an exception (Ctrl-C included) leaves a partial run: keep the marker
            self.release()


def claim_output_dir(out_dir: Path, overwrite: bool = False) -> OutputDirClaim:
    """Claim ``out_dir`` for this process, or raise ``OutputDirBusy``.

    Refuses when another live process holds it; and, unless ``overwrite``, when an earlier
    run in it did not finish. A directory whose earlier runs all finished is reused as before.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / MARKER_NAME
    for _ in range(2):  # a second try only after removing a dead run's marker
        if _create_marker(marker, _this_process()):
            return OutputDirClaim(out_dir, marker)
        holder = _read_marker(marker)
        if holder is None:
            continue  # released between our attempt and our read
        if _alive(holder):
            raise OutputDirBusy(f"output directory {out_dir} is in use by a run still going (pid {holder['pid']}, "
                                f"started {holder.get('started', '?')}); stop it or choose another --out")
        if not overwrite:
            raise OutputDirBusy(f"output directory {out_dir} holds a run that did not finish ({_describe(holder)}); "
                                "its results are partial: choose another --out, or pass --overwrite to reuse it")
        marker.unlink(missing_ok=True)
    raise OutputDirBusy(f"output directory {out_dir} was claimed by another run at the same moment; "
                        "choose another --out")


def _this_process() -> dict:
    return {
        "pid": os.getpid(),
        "process_start": _process_start(os.getpid()),
        "host": socket.gethostname(),
        "argv": sys.argv,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _create_marker(marker: Path, content: dict) -> bool:
    """Write ``content`` to a private file, then link it to ``marker``: False if taken."""
    temporary = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(content), encoding="utf-8")
    try:
        os.link(temporary, marker)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)


def _read_marker(marker: Path) -> dict | None:
    try:
        text = marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        holder = json.loads(text)
    except json.JSONDecodeError:
        holder = None
    return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else {"pid": -1}


def _describe(holder: dict) -> str:
    if holder["pid"] < 0:
        return "its marker is unreadable"
    if holder.get("host") != socket.gethostname():
        return f"pid {holder['pid']} on host {holder.get('host')}, started {holder.get('started', '?')}"
    return f"pid {holder['pid']}, started {holder.get('started', '?')}, is gone"


def _alive(holder: dict) -> bool:
    """Is the process that wrote the marker still running? A marker from another host
    cannot be checked from here and counts as finished-or-dead (``--overwrite`` decides)."""
    pid = holder["pid"]
    if pid <= 0 or holder.get("host") != socket.gethostname():
        return False
    start = _process_start(pid)
    if start is not None or holder.get("process_start") is not None:
        return start is not None and start == holder.get("process_start")
    try:  # no /proc: signal 0 tells whether the pid exists at all
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_start(pid: int) -> int | None:
    """The process's start time in clock ticks after boot (Linux ``/proc``), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # fields 3.. of proc_pid_stat(5); the name may hold spaces
    if len(fields) <= 19 or fields[0] in ("Z", "X"):  # a zombie has exited: nobody is running there
        return None
    return int(fields[19])  # field 22: starttime
