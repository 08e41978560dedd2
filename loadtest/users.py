"""Locust users that drive the Data API: refresh, query, probe.

Import this module only from a Locust process (``loadtest/locustfile.py``): Locust
monkey-patches the standard library with gevent, and must be imported before boto3.
"""
from __future__ import annotations

import locust  # noqa: F401  (must precede boto3: gevent monkey-patching)
import json
import logging
import os
import time
from pathlib import Path

from hdrh.histogram import HdrHistogram
from locust import User, constant, events, task
from locust.runners import LocalRunner

from loadtest import metrics
from loadtest.client import DataApiClient, StatementError, make_boto3_client
from loadtest.probe import HIST_LOWEST_US, LedgerFollower, ProbeState, new_latency_histogram
from streamload.runplan import RunPlan

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
        users = self.cfg.load.refresh_users + self.cfg.load.query_users + 1
        self.boto = make_boto3_client(self.cfg.target, max_pool_connections=max(10, users * 2))
        self.mv = self.cfg.redshift.materialized_view
        self.ledger = LedgerFollower([Path(p) for p in plan.ledger_paths])
        self.probe = ProbeState(run_started_at=plan.started_at, slack_s=self.cfg.load.probe_slack_s)

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

    def run_statement(self, kind: str, sql: str, name: str, persona: str = "default"):
        started = time.perf_counter()
        try:
            result = self.data_api.execute(sql, name)
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
        ctx.ledger.poll()
        result = self.run_statement("probe", ctx.probe.probe_sql(ctx.mv), "probe")
        if result is not None:
            for latency in ctx.probe.observe(result.rows):
                metrics.E2E_LATENCY.observe(latency)
                metrics.RECORDS_FOUND.inc()
        pending = ctx.probe.missing(ctx.ledger.expected)
        metrics.RECORDS_PENDING.set(pending)
        if pending == 0 and ctx.ledger.producers_done():
            log.info("probe: all %d records seen; stopping", len(ctx.ledger.expected))
            write_loadtest_report(complete=True)
            if isinstance(self.environment.runner, LocalRunner):
                self.environment.runner.quit()
            else:  # a worker cannot stop the others: the orchestrator stops the master
                self.stop(force=False)
            return
        time.sleep(ctx.cfg.load.probe_interval_s)


def write_loadtest_report(complete: bool = False) -> None:
    """This process's findings for the orchestrator: statement histograms and, where the
    probe ran, what it saw. Written when the probe completes and when Locust quits."""
    ctx = RunContext._instance
    if ctx is None or not ctx.plan.probe_out:
        return
    out: dict = {
        "process_index": ctx.index,
        "statement_histograms": {k: h.encode().decode() for k, h in ctx.statement_histograms.items()},
    }
    if ctx.probe.first_seen or complete:
        ctx.ledger.poll()
        out["probe"] = ctx.probe.to_json(ctx.ledger.expected)
        out["probe"]["complete"] = complete or ctx.probe.missing(ctx.ledger.expected) == 0
    path = ctx.output_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(path)


def active_user_classes(plan: RunPlan) -> list[type[DataApiUser]]:
    """The user classes this run needs, each with its fixed count set from the config.

    A class with ``fixed_count == 0`` would fall back to weights, so unused classes are
    left out rather than set to zero.
    """
    load = plan.settings.load
    refresh_users = 0 if load.refresh_mode == "auto" else load.refresh_users
    wanted = [(RefreshUser, refresh_users), (QueryUser, load.query_users), (ProbeUser, int(load.probe))]
    for cls, count in wanted:
        cls.fixed_count = count
    return [cls for cls, count in wanted if count > 0]


@events.init.add_listener
def _on_init(environment, **_kw) -> None:
    ctx = RunContext.get()
    metrics.RUN_INFO.info({"run_id": ctx.plan.run_id, "stream": ctx.cfg.stream.name})
    metrics.serve_metrics(ctx.metrics_port)


@events.quitting.add_listener
def _on_quitting(environment, **_kw) -> None:
    ctx = RunContext._instance
    if ctx is not None and ctx.probe.first_seen:
        ctx.ledger.poll()
        metrics.RECORDS_LOST.inc(ctx.probe.missing(ctx.ledger.expected))
        metrics.RECORDS_DUPLICATED.inc(ctx.probe.duplicates)
    write_loadtest_report()
