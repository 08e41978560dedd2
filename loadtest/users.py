"""Locust users that drive the Data API: refresh, query, probe.

Queries follow Locust's closed model by default; with ``[load] query_model = "open"`` the
query classes are not Locust users but open-model arrivals (``loadtest/open_model.py``)
started on every load-generating process (standalone or worker, never the master).

What a process's users share (plan, boto3 client, probe, histograms) is one ``LoadProcess``
on Locust's environment, ``environment.streamload``, set by the locustfile's ``init`` listener;
which classes run, and how many of each, comes from ``streamload.core.user_mix``.

Import this module only from a Locust process (``loadtest/locustfile.py``): Locust
monkey-patches the standard library with gevent, and must be imported before boto3.
"""
from __future__ import annotations

import locust  # noqa: F401  (must precede boto3: gevent monkey-patching)
import logging
import random
import time

from locust import User, constant, events, task
from locust.runners import LocalRunner, MasterRunner

from loadtest import metrics
from loadtest.load_process import LoadProcess
from loadtest.open_model import ArrivalSchedule, OpenModelExecutor, split_rates
from loadtest.probe import HIST_LOWEST_US
from streamload.core.runplan import RunPlan
from streamload.dataapi.client import StatementError

__all__ = ["DataApiUser", "RefreshUser", "QueryUser", "ProbeUser", "user_classes", "start_load_process",
           "write_loadtest_report"]

log = logging.getLogger("streamload.loadtest")


class DataApiUser(User):
    """Shared plumbing: one ``DataApiClient`` reporting through this environment's events."""

    abstract = True

    def on_start(self) -> None:
        self.process: LoadProcess = self.environment.streamload
        self.data_api = self.process.client(self.environment.events.request.fire)

    def run_statement(self, kind: str, sql: str, name: str, persona: str = "default"):
        started = time.perf_counter()
        try:
            result = self.data_api.execute(sql, name)
            self.process.poll_error.record_value(max(int(result.poll_error_s * 1e6), HIST_LOWEST_US))
        except StatementError as exc:
            log.warning("%s failed: %s", name, exc)
            self._observe(kind, persona, time.perf_counter() - started, "failed")
            return None
        except Exception as exc:  # transport errors are already reported to Locust
            log.warning("%s failed: %s", name, type(exc).__name__)
            self._observe(kind, persona, time.perf_counter() - started, "failed")
            return None
        self._observe(kind, persona, time.perf_counter() - started, "ok")
        return result

    def _observe(self, kind: str, persona: str, seconds: float, outcome: str) -> None:
        if outcome == "ok":
            self.process.record_statement(kind, seconds)
            if persona != "default":
                self.process.record_statement(f"{kind}:{persona}", seconds)
        metrics.STATEMENTS.labels(kind=kind, outcome=outcome).inc()
        if kind == "refresh":
            metrics.REFRESH_SECONDS.labels(outcome=outcome).observe(seconds)
        elif kind == "query":
            metrics.QUERY_SECONDS.labels(persona=persona, outcome=outcome).observe(seconds)


class RefreshUser(DataApiUser):
    """Runs ``REFRESH MATERIALIZED VIEW`` at the configured interval."""

    fixed_count = 1

    def wait_time(self):
        load = self.process.cfg.load
        return 0.0 if load.refresh_mode == "back-to-back" else load.refresh_interval_s

    @task
    def refresh(self) -> None:
        self.run_statement("refresh", f"REFRESH MATERIALIZED VIEW {self.process.mv}", "refresh")


class QueryUser(DataApiUser):
    """Runs the dashboard query (the seed's dot-notation SELECT) at the configured interval."""

    fixed_count = 2

    def wait_time(self):
        return self.process.cfg.load.query_interval_s

    @task
    def query(self) -> None:
        sql = self.process.cfg.load.query_sql.format(mv=self.process.mv)
        self.run_statement("query", sql, "query")


class ProbeUser(DataApiUser):
    """Finds produced records in the view; stops the run once every one has been seen."""

    fixed_count = 1
    wait_time = constant(0)

    @task
    def probe(self) -> None:
        process = self.process
        result = self.run_statement("probe", process.probe.probe_sql(process.mv), "probe")
        if result is None and process.probe.has_refresh_time and self._lacks_refresh_time():
            process.probe.has_refresh_time = False  # a view without refresh_time: sample by arrival
        for stages in (process.probe.observe(result.rows) if result is not None else []):
            metrics.E2E_LATENCY.observe(max(stages.total, 0) / 1e6)
            for stage in ("arrival", "refresh_lag", "visibility"):
                if getattr(stages, stage) is not None:
                    metrics.E2E_STAGE_SECONDS.labels(stage=stage).observe(max(getattr(stages, stage), 0) / 1e6)
        if time.monotonic() >= process.next_count_at:
            process.next_count_at = time.monotonic() + process.cfg.load.probe_count_interval_s
            if process.ledger.producers_done():
                if self._check_complete():
                    return
            elif process.probe.has_refresh_time:
                self._count_live()
        time.sleep(process.cfg.load.probe_interval_s)

    def _lacks_refresh_time(self) -> bool:
        sql = f"SELECT refresh_time FROM {self.process.mv} WHERE 1 = 0"
        return self.run_statement("probe", sql, "probe-columns") is None

    def _count_live(self) -> None:
        """While producing: count the rows refreshes brought in since the last count (live found
        and pending for the dashboards), a cost that follows the new rows, not the run's."""
        process = self.process
        counted = self.run_statement("probe", process.probe.live_count_sql(process.mv), "probe-live-count")
        if counted is not None:
            metrics.RECORDS_FOUND.inc(process.probe.observe_live_count(counted.rows))
            metrics.RECORDS_PENDING.set(process.probe.missing(process.expected_records()))

    def _check_complete(self) -> bool:
        """Count what arrived, per producer, in the warehouse; stop the run once it is everything."""
        process = self.process
        counted = self.run_statement("probe", process.probe.completion_sql(process.mv), "probe-count")
        if counted is None:
            return False
        metrics.RECORDS_FOUND.inc(process.probe.observe_found(counted.rows))
        expected = process.expected_records()
        pending = process.probe.missing(expected)
        metrics.RECORDS_PENDING.set(pending)
        if pending:
            return False
        log.info("probe: all %d acknowledged records are in the view; stopping", expected)
        write_loadtest_report(self.environment, complete=True)
        if isinstance(self.environment.runner, LocalRunner):
            self.environment.runner.quit()
        else:  # a worker cannot stop the others: the orchestrator stops the master
            self.stop(force=False)
        return True


def write_loadtest_report(environment, complete: bool = False) -> None:
    """This process's ``loadtest-<i>.json`` for the orchestrator (``loadtest/output.py``).
    Written when the probe completes and when Locust quits."""
    process: LoadProcess | None = getattr(environment, "streamload", None)
    path = process.output_path() if process is not None else None
    if path is not None:
        process.output(complete).write(path)


def user_classes() -> dict[str, type[DataApiUser]]:
    """This module's user classes by their ``UserMix`` name (``streamload/core/user_mix.py``)."""
    return {"refresh": RefreshUser, "query": QueryUser, "probe": ProbeUser}


def start_load_process(environment, plan: RunPlan, open_classes: dict[str, type[DataApiUser]]) -> LoadProcess:
    """The ``init`` step: this process's shared state onto the environment, metrics served."""
    process = environment.streamload = LoadProcess(plan, open_classes)
    metrics.RUN_INFO.info({"run_id": plan.run_id, "stream": process.cfg.stream.name})
    metrics.serve_metrics(process.metrics_port)
    return process


def _run_one_task(user: DataApiUser) -> None:
    """One arrival on a slot: the class's task, once (on_start the first time)."""
    if not getattr(user, "_open_started", False):
        user.on_start()
        user._open_started = True
    tasks = user.tasks
    task_fn = tasks[0] if len(tasks) == 1 else random.choice(tasks)
    task_fn(user)


def start_open_model(environment, process: LoadProcess) -> None:
    """One executor per open class on this process, with its share of the rate."""
    load = process.cfg.load
    rates = split_rates(load.query_rate_per_s, list(process.open_classes))
    end_at = process.plan.started_at + process.cfg.producer.duration_s + load.drain_timeout_s
    for name, rate in rates.items():
        schedule = ArrivalSchedule.for_process(rate, process.plan.started_at, load.workers, process.index)
        slots = [process.open_classes[name](environment) for _ in range(load.open_max_concurrency)]
        executor = OpenModelExecutor(
            name, schedule, slots, _run_one_task,
            max_start_delay_s=load.open_max_start_delay_s, late_tolerance_s=load.open_late_tolerance_s,
            fire=environment.events.request.fire,
            on_outcome=lambda outcome: metrics.OPEN_MODEL_STARTS.labels(outcome=outcome).inc(),
        )
        process.open_executors[name] = executor
        executor.start(end_at)
        log.info("open model: %s at %.3g/s on this process (%d slots)", name, schedule.rate_per_s, len(slots))


@events.test_start.add_listener
def _on_test_start(environment, **_kw) -> None:
    process: LoadProcess | None = getattr(environment, "streamload", None)
    if process is not None and process.open_classes and not isinstance(environment.runner, MasterRunner) \
            and not process.open_executors:
        start_open_model(environment, process)


@events.test_stop.add_listener
def _on_test_stop(environment, **_kw) -> None:
    process: LoadProcess | None = getattr(environment, "streamload", None)
    for executor in (process.open_executors.values() if process is not None else ()):
        executor.stop(timeout_s=process.cfg.load.statement_timeout_s)


@events.quitting.add_listener
def _on_quitting(environment, **_kw) -> None:
    process: LoadProcess | None = getattr(environment, "streamload", None)
    if process is not None and process.probe.found:
        metrics.RECORDS_LOST.inc(process.probe.missing(process.expected_records()))
    write_loadtest_report(environment)
