"""A local stack whose parts a test can break on purpose, while a real run goes on.

Unlike ``emulator.stack.LocalStack`` (one process, in-memory Kinesis), every part here can
be restarted the way an operator would: Kinesis runs as its own process with
``--data-dir`` (SIGTERM, then the same command again, same port), PostgreSQL keeps its data
directory and port across a stop/start, and the Data API server (in this process) keeps
serving while PostgreSQL is away. ``FaultTimeline`` plays a list of faults while
``execute_run`` drives the producer and Locust in a worker thread.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psycopg

from emulator.postgres import PostgresServer
from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.runtime import BackgroundServer
from emulator.stack import LocalStack
from streamload.core.config import StreamloadConfig, load_config
from streamload.core.processes import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
FAULTS_PATH = "/_streamload/faults"
START_TIMEOUT_S = 30.0


class KinesisProcess:
    """``python -m emulator.kinesis --data-dir D --port P``, restartable on the same port."""

    def __init__(self, data_dir: Path, port: int, log_path: Path) -> None:
        self.data_dir, self.port, self.log_path = data_dir, port, log_path
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> "KinesisProcess":
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "emulator.kinesis", "--port", str(self.port), "--data-dir", str(self.data_dir)],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if line.startswith("KINESIS_URL="):
                return self
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError(f"Kinesis did not start: {self.log_path.read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout_s=15)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def set_faults(self, plan: dict | None) -> dict:
        """POST a fault plan to the admin endpoint (None clears every fault)."""
        data = json.dumps(plan).encode() if plan is not None else None
        request = urllib.request.Request(self.url + FAULTS_PATH, data=data, method="POST" if plan else "DELETE")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@dataclass
class FaultStack:
    """PostgreSQL + Kinesis (own process) + Data API, all on loopback, all breakable."""

    root: Path
    auto_refresh_interval_s: float = 1.0
    pg: PostgresServer | None = None
    kinesis: KinesisProcess | None = None
    data_api: BackgroundServer | None = None
    pg_port: int = field(default_factory=free_port)

    def start(self) -> "FaultStack":
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.pg = PostgresServer(data_dir=self.root / "pg", port=self.pg_port).start()
            self.kinesis = KinesisProcess(self.root / "kinesis", free_port(), self.root / "kinesis.log").start()
            settings = RedshiftDataSettings(pg_dsn=self.pg.dsn, kinesis_endpoint_url=self.kinesis.url,
                                            auto_refresh_interval_s=self.auto_refresh_interval_s)
            self.data_api = BackgroundServer(lambda: create_app(settings)).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.data_api is not None:
            self.data_api.stop()
        if self.kinesis is not None:
            self.kinesis.stop()
        if self.pg is not None:
            self.pg.stop()

    def restart_postgres(self) -> None:
        self.pg.stop()
        self.pg.start()

    def fail_statements(self, table: str = "public.my_stream_vw", hold_s: float = 1.5) -> int:
        """Make the statements running now fail: hold a lock on ``table`` so they queue up,
        then kill them with pg_terminate_backend, as an operator clearing a jam would.
        Returns how many were killed."""
        with psycopg.connect(self.pg.dsn, connect_timeout=5) as locker:
            locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            time.sleep(hold_s)
            with psycopg.connect(self.pg.dsn, autocommit=True, connect_timeout=5) as killer:
                killed = killer.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE backend_type = "
                    "'client backend' AND pid NOT IN (pg_backend_pid(), %s) AND wait_event_type = 'Lock'",
                    (locker.info.backend_pid,)).fetchone()[0]
            locker.rollback()
        return killed

    def config(self, **sections: dict) -> StreamloadConfig:
        overrides = {"producer": {"metrics_port": 0}, "load": {"metrics_port": 0}}
        for name, values in sections.items():
            overrides.setdefault(name, {}).update(values)
        cfg = load_config(None, overrides, environ={})
        stack = LocalStack()  # only for its config defaults (keys, workgroup, role chain)
        stack.kinesis_url, stack.redshift_data_url = self.kinesis.url, self.data_api.url
        stack.point_config_at_stack(cfg)
        return cfg


@dataclass
class FaultStep:
    at_s: float
    name: str
    action: Callable[[], object]


class FaultTimeline:
    """Plays ``steps`` (seconds after ``when()`` first holds) in the calling thread while
    ``run`` goes on in a worker thread; records what ran and what the run returned.

    The faults play in the main thread on purpose: PostgreSQL is started with
    PR_SET_PDEATHSIG, which the kernel ties to the *thread* that forked it, so a server
    restarted from a short-lived thread would be killed when that thread ends.
    """

    def __init__(self, steps: list[FaultStep]) -> None:
        self.steps = sorted(steps, key=lambda s: s.at_s)
        self.done: list[tuple[str, float, object]] = []
        self.errors: list[str] = []
        self.result: object = None
        self.failure: BaseException | None = None

    def play_during(self, run: Callable[[], object], when: Callable[[], bool], timeout_s: float,
                    wait_s: float = 30.0) -> object:
        """Run ``run`` in a worker thread, play the faults, return what ``run`` returned."""
        def target() -> None:
            try:
                self.result = run()
            except BaseException as exc:  # re-raised in the caller's thread
                self.failure = exc

        worker = threading.Thread(target=target, name="run-under-faults", daemon=True)
        worker.start()
        deadline = time.monotonic() + wait_s
        while not when() and time.monotonic() < deadline and worker.is_alive():
            time.sleep(0.1)
        started = time.monotonic()
        for step in self.steps:
            if not worker.is_alive():
                break
            time.sleep(max(0.0, started + step.at_s - time.monotonic()))
            try:
                self.done.append((step.name, round(time.monotonic() - started, 2), step.action()))
            except Exception as exc:  # the test reports it; the run goes on
                self.errors.append(f"{step.name}: {type(exc).__name__}: {exc}")
        worker.join(timeout_s)
        if worker.is_alive():
            raise TimeoutError(f"the run did not end within {timeout_s:.0f}s of the last fault")
        if self.failure is not None:
            raise self.failure
        return self.result
