"""A short run that keeps going through every fault the local stack can throw at it, loses
nothing, and says in report.json what was injected and what it saw.

One run plays the faults one after another (a storm each, a few seconds apart): Kinesis
throttling at 2 % of capacity, InternalFailure bursts, latency spikes, dropped
connections, a Kinesis restart with --data-dir, a PostgreSQL restart, and statements
queued behind a lock and killed by pg_terminate_backend. More runs would only repeat the
same recoveries. A second run meets a poison record and must say which records it blocked.
"""
from __future__ import annotations

import io
import json

import boto3
import pytest
from fault_stack import FaultStack, FaultStep, FaultTimeline

from emulator.stack import LocalStack
from streamload.core.config import load_config
from streamload.run import execute_run, print_summary

pytestmark = pytest.mark.slow


def _timeline(stack: FaultStack) -> list[FaultStep]:
    kinesis = stack.kinesis
    return [
        FaultStep(1, "throttling storm", lambda: kinesis.set_faults({"throttle_capacity_fraction": 0.02})),
        FaultStep(4, "internal failures", lambda: kinesis.set_faults({"internal_failure_fraction": 0.3})),
        FaultStep(6.5, "latency spike", lambda: kinesis.set_faults({"added_latency_ms": 300, "latency_jitter_ms": 300})),
        FaultStep(9, "dropped connections", lambda: kinesis.set_faults({"drop_connection_fraction": 0.3})),
        FaultStep(11.5, "faults cleared", lambda: kinesis.set_faults(None)),
        FaultStep(12, "kinesis restart", kinesis.restart),
        FaultStep(15, "postgres restart", stack.restart_postgres),
        FaultStep(18, "statements terminated", stack.fail_statements),
    ]


def test_run_loses_nothing_and_reports_faults_when_every_fault_is_injected(tmp_path):
    stack = FaultStack(tmp_path / "stack").start()
    try:
        cfg = stack.config(producer={"rate": 100, "duration_s": 22, "record_ttl_s": 60},
                           load={"drain_timeout_s": 60, "query_users": 1}, stream={"shards": 2})
        out = tmp_path / "run"
        ledger = out / "ledger-p0.json"
        timeline = FaultTimeline(_timeline(stack))
        outcome = timeline.play_during(lambda: execute_run(cfg, out), timeout_s=240,
                                       when=lambda: ledger.exists() and ledger.stat().st_size > 0)
    finally:
        stack.stop()

    assert timeline.errors == []
    done = {name: result for name, _, result in timeline.done}
    assert "kinesis restart" in done and "postgres restart" in done
    assert done["statements terminated"] > 0
    report = json.loads((out / "report.json").read_text())
    # Every record is in the view, or accounted for by the producer with a reason.
    producer = report["audit"]["producer"]
    assert report["produced"] >= 2000
    assert report["found"] + producer["expired"] + producer["rejected"] == report["produced"], report["audit"]
    assert report["lost"] == 0, report["audit"]["lost_reasons"]
    assert outcome.exit_code == 0

    faults = report["faults"]
    injected = faults["injected"]
    assert injected["kinesis"]["internal_failure"] > 0
    assert injected["kinesis"]["dropped_connection"] > 0
    assert injected["kinesis"]["delayed_request"] > 0
    assert injected["kinesis_throttled"]["PutRecord"] > 0
    assert injected["kinesis_restarts"] == 1
    observed = faults["observed"]
    assert observed["throttles"]["producer_records"] > 0
    assert observed["retries"]["producer_records"] > 0
    # PostgreSQL went away under the Data API and statements were killed: some failed,
    # the run went on (the view still caught up with every record, above).
    assert sum(observed["errors"]["statements"].values()) > 0, observed
    assert observed["reconnects"]["kinesis_restarts"] == 1


def test_report_names_poison_record_and_blocked_records_when_stream_holds_non_json(tmp_path):
    with LocalStack() as stack:
        cfg = load_config(None, {"producer": {"rate": 50, "duration_s": 6, "metrics_port": 0},
                                 "load": {"drain_timeout_s": 8, "metrics_port": 0, "query_users": 1}}, environ={})
        stack.point_config_at_stack(cfg)
        kinesis = boto3.client("kinesis", **cfg.target.client_kwargs("kinesis"))
        out = tmp_path / "run"
        ledger = out / "ledger-p0.json"

        def inject_poison():
            return kinesis.put_record(StreamName=cfg.stream.name, Data=b"<xml>not json</xml>", PartitionKey="x")

        timeline = FaultTimeline([FaultStep(2, "poison record", inject_poison)])
        outcome = timeline.play_during(lambda: execute_run(cfg, out), timeout_s=120,
                                       when=lambda: ledger.exists() and ledger.stat().st_size > 0)
    assert timeline.errors == []
    poison = timeline.done[0][2]

    report = outcome.report
    assert outcome.exit_code == 1 and report["lost"] > 0
    explained = report["audit"]["lost_reasons"]
    reason = (f"blocked behind poison record {poison['ShardId']}/{poison['SequenceNumber']} "
              "(not JSON: Expecting value at offset 0): every refresh fails on it")
    assert explained["lost_by_reason"] == {reason: report["lost"]}, explained
    assert explained["poison_records"] == [{"shard_id": poison["ShardId"], "sequence_number": poison["SequenceNumber"],
                                            "bytes": 19, "reason": "not JSON: Expecting value at offset 0"}]
    assert report["faults"]["observed"]["errors"]["refresh"]["failed"] > 0
    printed = io.StringIO()
    print_summary(outcome, printed)
    assert f"    {report['lost']} {reason}" in printed.getvalue()
