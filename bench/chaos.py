"""Chaos: kill a random part of the local stack at a random moment under load, restart it,
and check what every part says against ground truth. Bounded by count and time.

    .venv/bin/python -m bench.chaos [--runs 10] [--max-minutes 5] [--seed N] [--kinds kinesis,data_api,producer]

The stack: PostgreSQL (one for the session), the local Kinesis (``--data-dir``, fixed port)
and the Data API (fixed port), each in its own process. Each run makes a fresh stream, view
and table, starts the load -- two threads putting JSON records, one submitting batches of
INSERTs (one transaction each), one REFRESHing the streaming view -- SIGKILLs one part 0.2-2 s
after the first acknowledgement, starts it again with the same command, lets the load go on
for a moment, stops it, and checks (ground truth = what the servers acknowledged):

- every record the Kinesis acknowledged is read back with its sequence number, in order,
  once (``acked_records_lost`` counts those that are not);
- after a Data API restart, no statement submitted before it reads FINISHED (unknown ids,
  FAILED or ABORTED are right); every batch is whole or absent and every batch acknowledged
  FINISHED is there (its rows count as lost otherwise);
- after a REFRESH the view holds exactly the records the stream holds, each once, and the
  plain view and the external schema over it still answer.

A run with any disagreement is a misreported run. The last lines are
``RATIO acked_records_lost <n>`` (goal 0), ``RATIO misreported_runs <n>`` (goal 0) and
``kills survived <n> of <runs>``.

The ``producer`` kind kills a producer process instead, and checks its ledger and the audit
built on it against the stream (``bench/chaos_producer.py``). A killed Locust worker is
covered by ``tests/faults/test_crash_locust_worker.py`` (the report names it and what it
could not measure).

Extension point: ``KINDS`` maps a name to a ``Kind`` (what to kill and how to bring it back).
"""
from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos_load import ChaosLoad, check_data_api, check_kinesis
from bench.chaos_producer import producer_chaos_run
from emulator.postgres import PostgresServer
from streamload.core.processes import free_port, stop_process

REPO = Path(__file__).resolve().parents[1]


class ServerProcess:
    """``python -m <module> ... --port P`` that can be killed and started again on P."""

    def __init__(self, module: str, args: list[str], banner: str, log_path: Path) -> None:
        self.port = free_port()
        self.argv = [sys.executable, "-m", module, *args, "--port", str(self.port)]
        self.banner, self.log_path = banner, log_path
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=REPO, stdout=subprocess.PIPE, stderr=log,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if line.startswith(f"{self.banner}="):
                return
            if not line and self.proc.poll() is not None:
                break
        self.proc.kill()
        raise RuntimeError(f"{self.argv[2]} did not start: {self.log_path.read_text(errors='replace')[-500:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout_s=15)


@dataclass
class ChaosStack:
    root: Path
    pg: PostgresServer
    kinesis: ServerProcess = field(init=False)
    data_api: ServerProcess = field(init=False)
    data_api_restarts: int = 0

    def __post_init__(self) -> None:
        self.kinesis = ServerProcess("emulator.kinesis", ["--data-dir", str(self.root / "kinesis"),
                                                          "--no-throughput-limits"], "KINESIS_URL",
                                     self.root / "kinesis.log")
        self.data_api = ServerProcess("emulator.redshift_data", [
            "--pg-dsn", self.pg.dsn, "--kinesis-endpoint", self.kinesis.url, "--auto-refresh-interval", "0",
            "--pool-size", "4"], "REDSHIFT_DATA_URL", self.root / "data-api.log")

    def start(self) -> "ChaosStack":
        self.kinesis.start()
        self.data_api.start()
        return self

    def stop(self) -> None:
        self.data_api.stop()
        self.kinesis.stop()


class Kind:
    """A part of the stack to kill. ``extra_checks`` returns disagreements beyond the
    common ones (a producer kind would compare its ledger with the stream here)."""

    name = ""

    def component(self, stack: ChaosStack) -> ServerProcess:
        raise NotImplementedError

    def kill(self, stack: ChaosStack) -> None:
        self.component(stack).kill()

    def recover(self, stack: ChaosStack) -> None:
        self.component(stack).start()

    def extra_checks(self, stack: ChaosStack, load: ChaosLoad) -> list[str]:
        return []


class KinesisKind(Kind):
    name = "kinesis"

    def component(self, stack: ChaosStack) -> ServerProcess:
        return stack.kinesis


class DataApiKind(Kind):
    name = "data_api"

    def component(self, stack: ChaosStack) -> ServerProcess:
        return stack.data_api

    def recover(self, stack: ChaosStack) -> None:
        super().recover(stack)
        stack.data_api_restarts += 1


class ProducerKind(Kind):
    """Kills a producer process, not a server: its own load and checks (``bench/chaos_producer.py``)."""

    name = "producer"


KINDS: dict[str, type[Kind]] = {"kinesis": KinesisKind, "data_api": DataApiKind, "producer": ProducerKind}


@dataclass
class RunResult:
    kind: str
    kill_after_s: float
    acked_records: int
    acked_lost: int
    problems: list[str]


def chaos_run(number: int, stack: ChaosStack, kind: Kind, rng: random.Random) -> RunResult:
    if isinstance(kind, ProducerKind):
        kill_after_s, acked, lost, problems = producer_chaos_run(number, stack, rng)
        return RunResult(kind.name, kill_after_s, acked, lost, problems)
    load = ChaosLoad(number, stack.kinesis.url, stack.data_api.url, stack.pg).prepare()
    kill_after_s = rng.uniform(0.2, 2.0)
    load.start()
    try:
        if not load.first_ack.wait(60):
            raise RuntimeError("no put was acknowledged within 60 s")
        time.sleep(kill_after_s)
        before_restart = load.submitted_so_far()
        kind.kill(stack)
        kind.recover(stack)
        time.sleep(rng.uniform(0.3, 1.0))  # the load goes on against the restarted part
    finally:
        load.stop()
    lost, problems = check_kinesis(load)
    data_lost, data_problems = check_data_api(load, before_restart if kind.name == "data_api" else [])
    problems += data_problems + kind.extra_checks(stack, load)
    return RunResult(kind.name, kill_after_s, len(load.acked), lost + data_lost, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="most runs (kills) (default 10)")
    parser.add_argument("--max-minutes", type=float, default=5.0, help="no run starts after this (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="repeat a session's choices")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"what may be killed (default {','.join(KINDS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.kinds.split(",")) - set(KINDS))
    if unknown or args.runs < 1 or args.max_minutes <= 0:
        parser.error(f"unknown kinds {unknown}; choose from {sorted(KINDS)}" if unknown else "--runs and --max-minutes must be > 0")
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    rng = random.Random(seed)
    kinds = [KINDS[name]() for name in args.kinds.split(",")]
    print(f"chaos: up to {args.runs} runs in {args.max_minutes:g} min, killing {args.kinds}; seed {seed}", flush=True)
    results: list[RunResult] = []
    deadline = time.monotonic() + args.max_minutes * 60
    with tempfile.TemporaryDirectory(prefix="streamload-chaos-") as root, PostgresServer() as pg:
        stack = ChaosStack(Path(root), pg).start()
        try:
            while len(results) < args.runs and time.monotonic() < deadline:
                result = chaos_run(len(results) + 1, stack, rng.choice(kinds), rng)
                results.append(result)
                verdict = "; ".join(result.problems + (["acknowledged records lost"] if result.acked_lost else []))
                print(f"run {len(results)}: killed {result.kind} {result.kill_after_s:.2f} s after the first ack; "
                      f"{result.acked_records} records acked, {result.acked_lost} lost; {verdict or 'ok'}", flush=True)
        finally:
            stack.stop()
    survived = sum(1 for r in results if not r.problems and not r.acked_lost)
    by_kind = ", ".join(f"{name} {sum(1 for r in results if r.kind == name)}" for name in args.kinds.split(","))
    print(f"RATIO acked_records_lost {sum(r.acked_lost for r in results)}")
    print(f"RATIO misreported_runs {sum(1 for r in results if r.problems)}")
    print(f"kills survived {survived} of {len(results)} ({by_kind})")
    return 0 if survived == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
