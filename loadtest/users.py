"""Locust users that drive the Data API: refresh, query, probe.

Queries follow Locust's closed model by default; with ``[load] query_model = "open"`` the
query classes are not Locust users but open-model arrivals (``loadtest/open_model.py``)
started on every load-generating process (standalone or worker, never the master).

Import this module only from a Locust process (``loadtest/locustfile.py``): Locust
monkey-patches the standard library with gevent, and must be imported before boto3.
"""
from __future__ import annotations

import locust  # noqa: F401  (must precede boto3: gevent monkey-patching)
import json
import logging
import os
import random
import time
from pathlib import Path

from hdrh.histogram import HdrHistogram
from locust import User, constant, events, task
from locust.runners import LocalRunner, MasterRunner

from loadtest import metrics
from streamload.dataapi.ledger_table import LedgerTable
from streamload.dataapi.client import DataApiClient, StatementError, make_boto3_client, poll_rule
from loadtest.open_model import ArrivalSchedule, OpenModelExecutor, split_rates
from loadtest.probe import HIST_LOWEST_US, LedgerFollower, ProbeState, new_latency_histogram
from streamload.core.histograms import encode_histogram
from streamload.core.runplan import RunPlan

__all__ = ["DataApiUser", "RefreshUser", "QueryUser", "ProbeUser", "RunContext", "active_user_classes"]

PROCESS_INDEX_ENV = "STREAMLOAD_PROCESS_INDEX"

log = logging.getLogger("streamload.loadtest")


class RunContext:
    """Per-process state shared by all users: plan, one boto3 client, the probe."""

    _instance: "RunContext | None" = None

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.cfg = plan.settings
        # 0 for a single Locust process or the master; 1..N for workers (set by the orchestrator).
        self.index = int(os.environ.get(PROCESS_INDEX_ENV, "0"))
        self.statement_histograms: dict[str, HdrHistogram] = {}
        self.poll_error = new_latency_histogram()  # per statement: how late its finish was seen
        self.open_executors: dict[str, OpenModelExecutor] = {}
        load = self.cfg.load
        open_slots = load.open_max_concurrency * 2 if load.query_model == "open" else 0
        users = load.refresh_users + load.query_users + 1 + open_slots
        self.boto = make_boto3_client(self.cfg.target, max_pool_connections=max(10, users * 2))
        self.mv = self.cfg.redshift.materialized_view
        table = (LedgerTable(DataApiClient(self.boto, self.cfg.redshift), self.cfg.redshift.ledger_table)
                 if self.cfg.redshift.ledger_table else None)
        self.ledger = LedgerFollower([Path(p) for p in plan.ledger_paths], table, plan.run_id)
        self.probe = ProbeState(run_id=plan.run_id, run_started_at=plan.started_at,
                                sample_size=load.probe_sample_per_tick)
        self.next_count_at = 0.0

    @property
    def metrics_port(self) -> int:
        base = self.cfg.load.metrics_port
        return base + self.index if base else 0

    def output_path(self) -> Path:
        return Path(self.plan.probe_out).with_name(f"loadtest-{self.index}.json")

    def record_statement(self, key: str, seconds: float) -> None:
        hist = self.statement_histograms.get(key)
        if hist is None:
            hist = self.statement_histograms[key] = new_latency_histogram()
        hist.record_value(max(int(seconds * 1e6), HIST_LOWEST_US))

    @classmethod
    def get(cls) -> "RunContext":
        if cls._instance is None:
            cls._instance = RunContext(RunPlan.from_env())
        return cls._instance

    def client(self, fire) -> DataApiClient:
        return DataApiClient(
            self.boto,
            self.cfg.redshift,
            fire=fire,
            poll_max_s=self.cfg.load.poll_interval_s,
            timeout_s=self.cfg.load.statement_timeout_s,
            sleep=time.sleep,  # gevent-patched: yields to other users
        )


class DataApiUser(User):
    """Shared plumbing: one ``DataApiClient`` reporting through this environment's events."""

    abstract = True

    def on_start(self) -> None:
        self.ctx = RunContext.get()
        self.data_api = self.ctx.client(self.environment.events.request.fire)

    # The name this class's arrivals go by in open-model runs; None: always a closed user.
    open_name: str | None = None

    def run_statement(self, kind: str, sql: str, name: str, persona: str = "default"):
        started = time.perf_counter()
        try:
            result = self.data_api.execute(sql, name)
            self.ctx.poll_error.record_value(max(int(result.poll_error_s * 1e6), HIST_LOWEST_US))
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
            self.ctx.record_statement(kind, seconds)
            if persona != "default":
                self.ctx.record_statement(f"{kind}:{persona}", seconds)
        metrics.STATEMENTS.labels(kind=kind, outcome=outcome).inc()
        if kind == "refresh":
            metrics.REFRESH_SECONDS.labels(outcome=outcome).observe(seconds)
        elif kind == "query":
            metrics.QUERY_SECONDS.labels(persona=persona, outcome=outcome).observe(seconds)


class RefreshUser(DataApiUser):
    """Runs ``REFRESH MATERIALIZED VIEW`` at the configured interval."""

    fixed_count = 1

    def wait_time(self):
        load = self.ctx.cfg.load
        return 0.0 if load.refresh_mode == "back-to-back" else load.refresh_interval_s

    @task
    def refresh(self) -> None:
        self.run_statement("refresh", f"REFRESH MATERIALIZED VIEW {self.ctx.mv}", "refresh")


class QueryUser(DataApiUser):
    """Runs the dashboard query (the seed's dot-notation SELECT) at the configured interval."""

    fixed_count = 2
    open_name = "query"

    def wait_time(self):
        return self.ctx.cfg.load.query_interval_s

    @task
    def query(self) -> None:
        sql = self.ctx.cfg.load.query_sql.format(mv=self.ctx.mv)
        self.run_statement("query", sql, "query")


class ProbeUser(DataApiUser):
    """Finds produced records in the view; stops the run once every one has been seen."""

    fixed_count = 1
    wait_time = constant(0)

    @task
    def probe(self) -> None:
        ctx = self.ctx
        result = self.run_statement("probe", ctx.probe.probe_sql(ctx.mv), "probe")
        if result is None and ctx.probe.has_refresh_time and self._lacks_refresh_time():
            ctx.probe.has_refresh_time = False  # a view without refresh_time: sample by arrival
        for stages in (ctx.probe.observe(result.rows) if result is not None else []):
            metrics.E2E_LATENCY.observe(max(stages.total, 0) / 1e6)
            for stage in ("arrival", "refresh_lag", "visibility"):
                if getattr(stages, stage) is not None:
                    metrics.E2E_STAGE_SECONDS.labels(stage=stage).observe(max(getattr(stages, stage), 0) / 1e6)
        if time.monotonic() >= ctx.next_count_at:
            ctx.next_count_at = time.monotonic() + ctx.cfg.load.probe_count_interval_s
            if ctx.ledger.producers_done():
                if self._check_complete():
                    return
            elif ctx.probe.has_refresh_time:
                self._count_live()
        time.sleep(ctx.cfg.load.probe_interval_s)

    def _lacks_refresh_time(self) -> bool:
        sql = f"SELECT refresh_time FROM {self.ctx.mv} WHERE 1 = 0"
        return self.run_statement("probe", sql, "probe-columns") is None

    def _count_live(self) -> None:
        """While producing: count the rows refreshes brought in since the last count (live found
        and pending for the dashboards), a cost that follows the new rows, not the run's."""
        ctx = self.ctx
        counted = self.run_statement("probe", ctx.probe.live_count_sql(ctx.mv), "probe-live-count")
        if counted is not None:
            metrics.RECORDS_FOUND.inc(ctx.probe.observe_live_count(counted.rows))
            metrics.RECORDS_PENDING.set(ctx.probe.missing(sum(ctx.ledger.poll().values())))

    def _check_complete(self) -> bool:
        """Count what arrived, per producer, in the warehouse; stop the run once it is everything."""
        ctx = self.ctx
        counted = self.run_statement("probe", ctx.probe.completion_sql(ctx.mv), "probe-count")
        if counted is None:
            return False
        metrics.RECORDS_FOUND.inc(ctx.probe.observe_found(counted.rows))
        expected = sum(ctx.ledger.poll().values())
        pending = ctx.probe.missing(expected)
        metrics.RECORDS_PENDING.set(pending)
        if pending:
            return False
        log.info("probe: all %d acknowledged records are in the view; stopping", expected)
        write_loadtest_report(complete=True)
        if isinstance(self.environment.runner, LocalRunner):
            self.environment.runner.quit()
        else:  # a worker cannot stop the others: the orchestrator stops the master
            self.stop(force=False)
        return True


def write_loadtest_report(complete: bool = False) -> None:
    """This process's findings for the orchestrator: statement histograms and, where the
    probe ran, what it saw. Written when the probe completes and when Locust quits."""
    ctx = RunContext._instance
    if ctx is None or not ctx.plan.probe_out:
        return
    load = ctx.cfg.load
    out: dict = {
        "process_index": ctx.index,
        "statement_histograms": {k: h.encode().decode() for k, h in ctx.statement_histograms.items()},
        "e2e_stages": ctx.probe.stages.to_json(),
        "open_model": {name: ex.stats.to_json() for name, ex in ctx.open_executors.items()},
        "dataapi_poll": {
            "rule": poll_rule(min(0.002, load.poll_interval_s), load.poll_interval_s),
            "error_bound_histogram": encode_histogram(ctx.poll_error),
        },
        "metrics_scrapes": metrics.scrape_count(),
    }
    if ctx.probe.sampled or ctx.probe.found or complete:
        expected = sum(ctx.ledger.poll().values())
        out["probe"] = ctx.probe.to_json(expected)
        out["probe"]["complete"] = complete
    path = ctx.output_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(path)


def open_model_name(cls: type) -> str | None:
    """The arrival name of a query class (persona classes: ``persona-<name>``)."""
    persona = getattr(cls, "persona_name", "")
    return getattr(cls, "open_name", None) or (f"persona-{persona}" if persona else None)


_open_classes: list[type] = []


def active_user_classes(plan: RunPlan, extra: list[type] | tuple[type, ...] = ()) -> list[type[DataApiUser]]:
    """The Locust user classes this run needs, each with its fixed count set from the config.

    A class with ``fixed_count == 0`` would fall back to weights, so unused classes are
    left out rather than set to zero. ``extra`` are further query classes (personas); in an
    open-model run every query class becomes open-model arrivals instead of users.
    """
    load = plan.settings.load
    refresh_users = 0 if load.refresh_mode == "auto" else load.refresh_users
    wanted = [(RefreshUser, refresh_users), (QueryUser, load.query_users), (ProbeUser, int(load.probe))]
    for cls, count in wanted:
        cls.fixed_count = count
    classes = [cls for cls, count in wanted if count > 0] + list(extra)
    _open_classes.clear()
    if load.query_model == "open":
        _open_classes.extend(c for c in [QueryUser, *extra] if open_model_name(c))
        classes = [c for c in classes if not open_model_name(c)]
    return classes


def _run_one_task(user: DataApiUser) -> None:
    """One arrival on a slot: the class's task, once (on_start the first time)."""
    if not getattr(user, "_open_started", False):
        user.on_start()
        user._open_started = True
    tasks = user.tasks
    task_fn = tasks[0] if len(tasks) == 1 else random.choice(tasks)
    task_fn(user)


def start_open_model(environment, ctx: RunContext, classes: list[type]) -> None:
    """One executor per open class on this process, with its share of the rate."""
    load = ctx.cfg.load
    names = {open_model_name(c): c for c in classes}
    rates = split_rates(load.query_rate_per_s, list(names))
    end_at = ctx.plan.started_at + ctx.cfg.producer.duration_s + load.drain_timeout_s
    for name, rate in rates.items():
        schedule = ArrivalSchedule.for_process(rate, ctx.plan.started_at, load.workers, ctx.index)
        slots = [names[name](environment) for _ in range(load.open_max_concurrency)]
        executor = OpenModelExecutor(
            name, schedule, slots, _run_one_task,
            max_start_delay_s=load.open_max_start_delay_s, late_tolerance_s=load.open_late_tolerance_s,
            fire=environment.events.request.fire,
            on_outcome=lambda outcome: metrics.OPEN_MODEL_STARTS.labels(outcome=outcome).inc(),
        )
        ctx.open_executors[name] = executor
        executor.start(end_at)
        log.info("open model: %s at %.3g/s on this process (%d slots)", name, schedule.rate_per_s, len(slots))


@events.test_start.add_listener
def _on_test_start(environment, **_kw) -> None:
    if _open_classes and not isinstance(environment.runner, MasterRunner):
        ctx = RunContext.get()
        if not ctx.open_executors:
            start_open_model(environment, ctx, _open_classes)


@events.test_stop.add_listener
def _on_test_stop(environment, **_kw) -> None:
    ctx = RunContext._instance
    if ctx is not None:
        for executor in ctx.open_executors.values():
            executor.stop(timeout_s=ctx.cfg.load.statement_timeout_s)


@events.init.add_listener
def _on_init(environment, **_kw) -> None:
    ctx = RunContext.get()
    metrics.RUN_INFO.info({"run_id": ctx.plan.run_id, "stream": ctx.cfg.stream.name})
    metrics.serve_metrics(ctx.metrics_port)


@events.quitting.add_listener
def _on_quitting(environment, **_kw) -> None:
    ctx = RunContext._instance
    if ctx is not None and ctx.probe.found:
        metrics.RECORDS_LOST.inc(ctx.probe.missing(sum(ctx.ledger.poll().values())))
    write_loadtest_report()
