"""Crash matrix, the producer: killed with SIGKILL at a random point under load, its ledger
describes exactly what Kinesis acknowledged before the kill. Nothing it claims is missing from
the stream, and what reached the stream without a recorded acknowledgement lies in the batches
that were in flight: the audit calls those "unknown outcome", never lost by the pipeline."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import boto3
import pytest
from crash_helpers import ROOT

from bench.chaos_producer import IN_FLIGHT_RECORDS, stream_seqs_of_run
from emulator.stack import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, LocalStack
from streamload.audit import audit_view
from streamload.core.config import load_config
from streamload.core.ledger import read_ledger
from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.loss_reasons import OUTCOME_REASONS
from streamload.pipeline import setup_pipeline



@pytest.mark.slow
def test_killed_producer_ledger_holds_exactly_what_was_acknowledged_when_killed_under_load(tmp_path):
    rng = random.Random()
    with LocalStack() as stack:
        cfg = load_config(None, {"stream": {"name": "crash-producer", "shards": 2}}, environ={})
        stack.point_config_at_stack(cfg)
        setup_pipeline(cfg)
        ledger_path = tmp_path / "ledger-p0.json"
        env = {**os.environ, "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
               "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT)}
        started = time.time()
        producer = subprocess.Popen(
            [sys.executable, "-m", "producer", "--stream", "crash-producer", "--endpoint-url", stack.kinesis_url,
             "--rate", "1500", "--duration", "60", "--producer-id", "p0", "--run-id", "crash-1",
             "--ledger", str(ledger_path), "--metrics-port", "0"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            wanted = rng.randint(300, 3000)  # a random point under load
            while time.monotonic() < deadline:
                ledger = read_ledger(ledger_path) if ledger_path.exists() else None
                if ledger is not None and ledger.acked.count >= wanted:
                    break
                time.sleep(0.05)
            producer.send_signal(signal.SIGKILL)
        finally:
            producer.wait(timeout=30)
        ledger = read_ledger(ledger_path)
        kinesis = boto3.client("kinesis", **cfg.target.client_kwargs("kinesis"))
        in_stream = set(stream_seqs_of_run(kinesis, "crash-producer", "crash-1"))

        assert ledger is not None and not ledger.done and ledger.acked.count >= wanted
        claimed = {seq for first, last in ledger.acked for seq in range(first, last + 1)}
        assert claimed - in_stream == set()  # nothing claimed that Kinesis did not take
        unrecorded = in_stream - claimed
        assert all(seq in ledger.unknown or seq >= ledger.generated for seq in unrecorded)
        assert len(unrecorded) <= IN_FLIGHT_RECORDS  # at most the batches in flight

        client = DataApiClient(make_boto3_client(cfg.target), cfg.redshift)
        client.execute(f"REFRESH MATERIALIZED VIEW {cfg.redshift.materialized_view}", "refresh")
        audit = audit_view(client, cfg.redshift.materialized_view, "crash-1", [ledger_path], started)
    assert audit.found == len(in_stream) and audit.duplicates == 0
    assert OUTCOME_REASONS["acked"] not in audit.lost_by_outcome, audit.lost_by_outcome
    assert sum(audit.lost_by_outcome.values()) == audit.lost
    assert set(audit.lost_by_outcome) <= {OUTCOME_REASONS["unknown"], OUTCOME_REASONS["expired"]}
