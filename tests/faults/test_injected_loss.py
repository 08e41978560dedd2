"""The audit against ground truth the local Kinesis keeps itself: records it acknowledged but
dropped (``lose_record_fraction``) and put calls it handled but left unanswered, so the
producer's retries duplicate them (``drop_response_fraction``). The run's report must count
exactly those, and blame the lost ones on the pipeline (acknowledged but not in the view)."""
from __future__ import annotations

import json
import urllib.request

import pytest

from emulator.kinesis.faults import FaultInjector, FaultPlan
from emulator.stack import LocalStack
from streamload.core.config import load_config
from streamload.run import execute_run


def _faults(url: str, plan: dict | None = None) -> dict:
    request = urllib.request.Request(f"{url}/_streamload/faults", method="POST" if plan else "GET",
                                     data=json.dumps(plan).encode() if plan else None)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_fault_counts_every_lost_record_and_unanswered_record_when_drawn():
    injector = FaultInjector(FaultPlan(lose_record_fraction=0.5, drop_response_fraction=0.5, seed=7))
    lost = sum(injector.record_lost() for _ in range(1000))
    dropped = sum(injector.response_drops(stored_records=10) for _ in range(100))
    assert 400 < lost < 600 and injector.injected["lost_record"] == lost
    assert injector.injected["dropped_response"] == dropped and injector.injected["unanswered_records"] == 10 * dropped


@pytest.mark.slow
def test_audit_counts_exactly_the_records_kinesis_lost_and_duplicated_when_faults_are_injected(tmp_path):
    with LocalStack() as stack:
        cfg = load_config(None, {"producer": {"rate": 200, "duration_s": 4, "metrics_port": 0, "record_ttl_s": 60},
                                 "load": {"drain_timeout_s": 10, "metrics_port": 0, "query_users": 1}}, environ={})
        stack.point_config_at_stack(cfg)
        _faults(stack.kinesis_url, {"lose_record_fraction": 0.01, "drop_response_fraction": 0.05, "seed": 11})
        outcome = execute_run(cfg, tmp_path / "run")
        injected = _faults(stack.kinesis_url)["injected"]
    report = outcome.report
    lost, unanswered = injected.get("lost_record", 0), injected.get("unanswered_records", 0)
    assert lost > 0 and unanswered > 0, injected
    assert report["produced"] == 800 and report["lost"] == lost
    assert report["duplicates"] == unanswered
    assert report["audit"]["lost_by_outcome"] == {"acknowledged by Kinesis but not in the view": lost}
    assert sum(report["audit"]["lost_reasons"]["lost_by_reason"].values()) == lost
    assert outcome.exit_code == 1  # lost == 0 is the default threshold
