"""``--processes N``: N producer processes side by side, one merged summary.

One Python process generates and sends roughly 10-40k records/s; more needs more cores.
The parent starts N children (``python -m producer`` with the same flags) and shares
the work exactly: child k sends records k, k+N, k+2N, ... of the rate profile, so
together they follow the profile as one producer would (``--total`` too).

Each child gets:

* its own ``producer_id``, derived from the base id: ``p0`` -> ``p0 .. p{N-1}``, ``east7``
  -> ``east7 .. east{7+N-1}``, ``loader`` -> ``loader0 ..`` (disjoint, so ``event_id``s
  never collide);
* its own ledger and file sink: ``ledger.json`` -> ``ledger.p1.json`` (+ its summary);
  the parent writes the merged summary at ``ledger.json.summary.json``;
* its own metrics endpoint: ``--metrics-port P`` -> child k serves ``P + k`` (``0``: each
  picks a free port and logs it). No Prometheus multiprocess mode: each child is a scrape
  target and ``sum()`` merges the series (histograms too, bucket by bucket);
* ``seed + k`` when ``--seed`` is given (distinct records, still reproducible).

Children start together: each says ``ready`` on stdout once its client, stream check and
generator are set up, and waits for the parent's ``go`` (one start time for all) on stdin.
They report over stdout in JSON lines (``status`` twice a second, ``result`` at the end);
the parent draws the merged progress line and prints the merged totals. They
run in their own process group: Ctrl-C reaches only the parent, which sends each child
SIGTERM (children stop generating and flush) -- and a second time to make them give up
retrying. A child dies with its parent (``PR_SET_PDEATHSIG``).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from streamload.core.producer_summary import summary_path_for, write_summary
from producer.outcomes import OutcomeTally
from producer.progress import ProgressLine
from producer.result import ProducerResult
from producer.runner import run_id_from_run_file

__all__ = ["child_ids", "per_process_path", "argv_for", "run_processes", "status_lines",
           "merged_exit_code", "wait_for_go"]

_STATUS_FIELDS = ("generated", "sent", "expired", "rejected", "late", "throttled", "retried")


def child_ids(base: str, count: int) -> list[str]:
    """Disjoint producer ids for ``count`` processes, numbered on from ``base``."""
    match = re.match(r"^(.*?)(\d+)$", base)
    prefix, first = (match.group(1), int(match.group(2))) if match else (base, 0)
    return [f"{prefix}{first + k}" for k in range(count)]


def per_process_path(path: Path, producer_id: str) -> Path:
    """``out/ledger.json`` -> ``out/ledger.p1.json``."""
    return path.with_name(f"{path.stem}.{producer_id}{path.suffix}")


def argv_for(parser: argparse.ArgumentParser, args: argparse.Namespace, **overrides) -> list[str]:
    """The command-line flags that reproduce ``args`` (with ``overrides``)."""
    out: list[str] = []
    for action in parser._actions:  # noqa: SLF001 -- argparse has no public walk of its options
        if not action.option_strings or action.dest == "help":
            continue
        value = overrides[action.dest] if action.dest in overrides else getattr(args, action.dest)
        if value is None or (value == action.default and action.dest not in overrides):
            continue
        flag = next(s for s in action.option_strings if s.startswith("--"))
        if isinstance(action, argparse.BooleanOptionalAction):
            out.append(flag if value else f"--no-{flag[2:]}")
        elif action.nargs == 0:  # store_true / store_false: present means "not the default"
            if value != action.default:
                out.append(flag)
        else:
            out += [flag, str(value)]
    return out


async def status_lines(tally: OutcomeTally, target_rate: Callable[[], float], stopped: asyncio.Event,
                       interval_s: float = 0.5) -> None:
    """A child's side: its counts as a JSON line on stdout, every ``interval_s``."""
    while not stopped.is_set():
        status = {name: getattr(tally, name) for name in _STATUS_FIELDS}
        status["target_rate"] = target_rate()
        print(json.dumps({"status": status}), flush=True)
        try:
            await asyncio.wait_for(stopped.wait(), timeout=interval_s)
        except asyncio.TimeoutError:
            pass


async def wait_for_go() -> float | None:
    """A child's side: say ready, then wait for the parent's common start time. The pipe closing
    without one means the parent is gone (or will not start us): exit rather than produce as an
    orphan nobody audits."""
    print(json.dumps({"ready": True}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        line = await reader.readline()
    finally:
        transport.close()
    try:
        return float(json.loads(line)["go"])
    except (ValueError, KeyError, TypeError):
        raise SystemExit("producer: the parent process gave no start time (it is gone); not starting") from None


def merged_exit_code(codes: list[int | None]) -> int:
    """3 if any child could not reach the target, else 2 for a usage error, else 1 for
    any other failure, else 0."""
    for code in (3, 2):
        if code in codes:
            return code
    return 1 if any(c != 0 for c in codes) else 0


class _Supervisor:
    def __init__(self, argvs: list[list[str]], progress: bool) -> None:
        self.argvs = argvs
        self.progress = progress
        self.statuses: list[dict] = [{} for _ in argvs]
        self.results: list[ProducerResult | None] = [None for _ in argvs]
        self.merged = OutcomeTally()
        self.ready = [False for _ in argvs]
        self.finished = [False for _ in argvs]  # stdout closed: exited (or about to)
        self._stderr_seen: set[str] = set()

    def _merge_status(self) -> None:
        for name in _STATUS_FIELDS:
            setattr(self.merged, name, sum(s.get(name, 0) for s in self.statuses))

    async def _read_stdout(self, k: int, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "ready" in message:
                self.ready[k] = True
            elif "status" in message:
                self.statuses[k] = message["status"]
                self._merge_status()
            elif "result" in message:
                self.results[k] = ProducerResult.model_validate(message["result"])
        self.finished[k] = True

    async def _start_together(self, procs: list) -> None:
        """Once every child is ready (or gone), give them all one start time."""
        while not all(r or f for r, f in zip(self.ready, self.finished)):
            await asyncio.sleep(0.01)
        go = json.dumps({"go": time.time() + 0.05}).encode() + b"\n"
        for proc, ready in zip(procs, self.ready):
            if ready and proc.returncode is None:
                with contextlib.suppress(OSError):  # it may have died since
                    proc.stdin.write(go)
                    await proc.stdin.drain()
            proc.stdin.close()

    async def _relay_stderr(self, stream: asyncio.StreamReader) -> None:
        # N children failing for one cause (unknown stream, credentials) say it once.
        async for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            if line and line not in self._stderr_seen:
                self._stderr_seen.add(line)
                print(line, file=sys.stderr, flush=True)

    async def run(self) -> list[int | None]:
        procs = [await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True) for argv in self.argvs]
        loop = asyncio.get_running_loop()

        def forward_stop() -> None:
            for proc in procs:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, forward_stop)
        stopped = asyncio.Event()
        progress_task = None
        if self.progress:
            line = ProgressLine(self.merged, lambda: sum(s.get("target_rate", 0.0) for s in self.statuses))
            progress_task = asyncio.create_task(line.run(stopped))
        try:
            readers = [self._read_stdout(k, p.stdout) for k, p in enumerate(procs)]
            readers += [self._relay_stderr(p.stderr) for p in procs] + [self._start_together(procs)]
            await asyncio.gather(*readers)
            return [await p.wait() for p in procs]
        finally:
            stopped.set()
            if progress_task is not None:
                await progress_task
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            for proc in procs:  # only if we are unwinding from an error
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()


def run_processes(parser: argparse.ArgumentParser, args: argparse.Namespace, progress: bool) -> int:
    """Start ``args.processes`` children, wait for them, print the merged summary."""
    count = args.processes
    ids = child_ids(args.producer_id, count)
    file_sink = args.sink.startswith("file:")
    # One run id for every child: the audit counts the run's records by it.
    run_id = args.run_id or run_id_from_run_file() or secrets.token_hex(4)
    argvs = []
    for k, producer_id in enumerate(ids):
        overrides = {
            "processes": None, "producer_id": producer_id, "share": f"{k}/{count}", "child": True,
            "progress": None, "run_id": run_id,
            "ledger": per_process_path(args.ledger, producer_id) if args.ledger else None,
            "metrics_port": args.metrics_port + k if args.metrics_port else args.metrics_port,
            "seed": args.seed + k if args.seed is not None else None,
            "sink": f"file:{per_process_path(Path(args.sink[5:]), producer_id)}" if file_sink else args.sink,
        }
        argvs.append([sys.executable, "-m", "producer", *argv_for(parser, args, **overrides)])
    supervisor = _Supervisor(argvs, progress)
    codes = asyncio.run(supervisor.run())
    results = [r for r in supervisor.results if r is not None]
    if results:
        merged = ProducerResult.merge(f"{ids[0]}..{ids[-1]}", results)
        if args.ledger:
            merged.ledgers = [str(per_process_path(args.ledger, pid)) for pid in ids]
            write_summary(summary_path_for(args.ledger), merged)
        print(merged.one_line(), file=sys.stderr if args.sink == "stdout" else sys.stdout)
    missing = [pid for pid, r in zip(ids, supervisor.results) if r is None]
    if missing and not any(c in (2, 3) for c in codes):
        print(f"producer: error: no result from {', '.join(missing)} (exit codes {codes})", file=sys.stderr)
    return merged_exit_code(codes)
