"""What one Locust process shares between its users: the run plan, one boto3 client, the
probe's state, statement histograms and the open-model executors.

One ``LoadProcess`` per Locust process, created by the locustfile's ``init`` listener and
kept on Locust's ``Environment`` as ``environment.streamload``; users and listeners read it
from there (``self.environment.streamload``), so nothing here is a class-level singleton.

Imported by ``loadtest/users.py`` after Locust (gevent monkey-patching precedes boto3).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from hdrh.histogram import HdrHistogram

from loadtest import metrics
from loadtest.open_model import OpenModelExecutor
from loadtest.output import PROCESS_INDEX_ENV, DataApiPoll, LoadTestOutput, ProbeFindings, output_path
from loadtest.personas import PersonaProcess
from loadtest.probe import HIST_LOWEST_US, LedgerFollower, ProbeState, new_latency_histogram
from streamload.core.histograms import encode_histogram
from streamload.core.runplan import RunPlan
from streamload.core.user_mix import planned_users
from streamload.dataapi.client import DataApiClient, make_boto3_client, poll_rule
from streamload.dataapi.ledger_table import LedgerTable

__all__ = ["LoadProcess"]


class LoadProcess:
    """Per-process state shared by all users of one Locust process.

    ``open_classes`` are the query classes that arrive on the open model here (by their
    ``UserMix`` name); ``personas`` is set by the first persona user
    (``loadtest/persona_users.py``).
    """

    def __init__(self, plan: RunPlan, open_classes: dict[str, type] | None = None) -> None:
        self.plan = plan
        self.cfg = plan.settings
        self.mix = planned_users(self.cfg)
        self.open_classes = dict(open_classes or {})
        # 0 for a single Locust process or the master; 1..N for workers (set by the orchestrator).
        self.index = int(os.environ.get(PROCESS_INDEX_ENV, "0"))
        self.statement_histograms: dict[str, HdrHistogram] = {}
        self.poll_error = new_latency_histogram()  # per statement: how late its finish was seen
        self.open_executors: dict[str, OpenModelExecutor] = {}
        self.personas: PersonaProcess | None = None  # set by the first persona user of this process
        load = self.cfg.load
        connections = self.mix.total + load.open_max_concurrency * len(self.mix.open)
        self.boto = make_boto3_client(self.cfg.target, max_pool_connections=max(10, connections * 2))
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

    def output_path(self) -> Path | None:
        """Where this process's ``loadtest-<i>.json`` goes; None when the run wants none."""
        return output_path(Path(self.plan.probe_out).parent, self.index) if self.plan.probe_out else None

    def record_statement(self, key: str, seconds: float) -> None:
        hist = self.statement_histograms.get(key)
        if hist is None:
            hist = self.statement_histograms[key] = new_latency_histogram()
        hist.record_value(max(int(seconds * 1e6), HIST_LOWEST_US))

    def client(self, fire) -> DataApiClient:
        return DataApiClient(
            self.boto,
            self.cfg.redshift,
            fire=fire,
            poll_max_s=self.cfg.load.poll_interval_s,
            timeout_s=self.cfg.load.statement_timeout_s,
            sleep=time.sleep,  # gevent-patched: yields to other users
        )

    def expected_records(self) -> int:
        """What the producers acknowledged so far (their ledgers)."""
        return sum(self.ledger.poll().values())

    def output(self, complete: bool = False) -> LoadTestOutput:
        """This process's findings: statement histograms and, where the probe ran, what it saw."""
        load = self.cfg.load
        probe = None
        if self.probe.sampled or self.probe.found or complete:
            probe = ProbeFindings.model_validate({**self.probe.to_json(self.expected_records()), "complete": complete})
        return LoadTestOutput(
            process_index=self.index,
            statement_histograms={k: h.encode().decode() for k, h in self.statement_histograms.items()},
            e2e_stages=self.probe.stages.to_json(),
            open_model={name: ex.stats.to_json() for name, ex in self.open_executors.items()},
            dataapi_poll=DataApiPoll(rule=poll_rule(min(0.002, load.poll_interval_s), load.poll_interval_s),
                                     error_bound_histogram=encode_histogram(self.poll_error)),
            metrics_scrapes=metrics.scrape_count(),
            probe=probe,
        )
