"""The producer kind of ``bench.chaos``: a real ``python -m producer`` under load against the
chaos stack's Kinesis, SIGKILLed at a random moment after its first acknowledgement. Ground truth
is what the stream holds; the report under test is the producer's ledger and the audit built on
it (``streamload.audit.audit_view`` over a streaming view of the stream, after a REFRESH):

- nothing the ledger claims acknowledged may be missing from the stream (``acked_records_lost``);
- a record in the stream without a recorded acknowledgement must lie in the ledger's
  ``unknown`` (in flight) ranges, at most the in-flight batches' worth, and the ledger must
  not say the producer finished;
- the audit must find exactly the stream's records, and call no missing record
  "acknowledged but not in the view" (which would blame the pipeline for the kill).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3

from bench.chaos_load import DATABASE, LOCAL, run_statement
from streamload.audit import audit_view
from streamload.core.config import RedshiftConfig, TargetConfig
from streamload.core.ledger import read_ledger
from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.loss_reasons import OUTCOME_REASONS

__all__ = ["IN_FLIGHT_RECORDS", "producer_chaos_run", "stream_seqs_of_run"]

REPO = Path(__file__).resolve().parents[1]
IN_FLIGHT_RECORDS = 8 * 500  # the producer's default in-flight PutRecords calls x 500 records


def stream_seqs_of_run(kinesis, stream: str, run_id: str) -> list[int]:
    """The seq of every record of ``run_id`` the stream holds (ground truth), read from every shard."""
    seqs = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            seqs += [doc["seq"] for doc in (json.loads(r["Data"]) for r in page["Records"]) if doc.get("run_id") == run_id]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return seqs


def _kill_producer_under_load(stack, stream: str, run_id: str, ledger_path: Path, rng: random.Random) -> float:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": LOCAL["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": LOCAL["aws_secret_access_key"], "AWS_DEFAULT_REGION": "us-east-1"}
    producer = subprocess.Popen(
        [sys.executable, "-m", "producer", "--stream", stream, "--endpoint-url", stack.kinesis.url, "--rate", "1500",
         "--duration", "60", "--producer-id", "p0", "--run-id", run_id, "--ledger", str(ledger_path),
         "--metrics-port", "0"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_after_s = rng.uniform(0.2, 2.0)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ledger = read_ledger(ledger_path) if ledger_path.exists() else None
            if ledger is not None and ledger.acked.count:
                break
            time.sleep(0.02)
        else:
            raise RuntimeError("the producer had no acknowledgement within 60 s")
        time.sleep(kill_after_s)
    finally:
        producer.send_signal(signal.SIGKILL)
        producer.wait(timeout=30)
    return kill_after_s


def producer_chaos_run(number: int, stack, rng: random.Random):
    """One run of the producer kind; returns ``(kill_after_s, acked, acked_lost, problems)``."""
    stream, run_id = f"chaos-producer-{number}-{uuid.uuid4().hex[:6]}", f"chaos-{number}"
    view = f"producer_events_{number}"
    kinesis = boto3.client("kinesis", endpoint_url=stack.kinesis.url, **LOCAL)
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    stack.pg.create_database(DATABASE)
    data_api = boto3.client("redshift-data", endpoint_url=stack.data_api.url, **LOCAL)
    for sql in ("CREATE EXTERNAL SCHEMA IF NOT EXISTS ks FROM KINESIS IAM_ROLE default",
                f"CREATE MATERIALIZED VIEW {view} AUTO REFRESH NO AS SELECT approximate_arrival_timestamp, "
                f'refresh_time, JSON_PARSE(kinesis_data) AS payload FROM ks."{stream}"'):
        status, error = run_statement(data_api, Sql=sql)
        if status != "FINISHED":
            raise RuntimeError(f"setting up producer run {number}: {status} {error}")
    ledger_path = stack.root / f"ledger-{run_id}.json"
    started = time.time()
    kill_after_s = _kill_producer_under_load(stack, stream, run_id, ledger_path, rng)
    ledger = read_ledger(ledger_path)
    in_stream = set(stream_seqs_of_run(kinesis, stream, run_id))
    claimed = {seq for first, last in ledger.acked for seq in range(first, last + 1)}
    lost = len(claimed - in_stream)
    unrecorded = in_stream - claimed
    problems = []
    if ledger.done:
        problems.append("the ledger of a killed producer says it finished")
    if any(seq not in ledger.unknown and seq < ledger.generated for seq in unrecorded):
        problems.append("records in the stream that the ledger calls expired or rejected")
    if len(unrecorded) > IN_FLIGHT_RECORDS:
        problems.append(f"{len(unrecorded)} records reached the stream unrecorded (more than the batches in flight)")
    problems += _audit_problems(stack, view, run_id, ledger_path, started, len(in_stream))
    return kill_after_s, ledger.acked.count, lost, problems


def _audit_problems(stack, view: str, run_id: str, ledger_path: Path, started: float, in_stream: int) -> list[str]:
    target = TargetConfig(redshift_data_endpoint_url=stack.data_api.url, access_key_id=LOCAL["aws_access_key_id"],
                          secret_access_key=LOCAL["aws_secret_access_key"])
    client = DataApiClient(make_boto3_client(target), RedshiftConfig(database=DATABASE, workgroup_name="local"))
    client.execute(f"REFRESH MATERIALIZED VIEW {view}", "refresh")
    audit = audit_view(client, view, run_id, [ledger_path], started)
    problems = []
    if audit.found != in_stream or audit.duplicates:
        problems.append(f"the audit found {audit.found} (+{audit.duplicates} duplicates), the stream holds {in_stream}")
    if OUTCOME_REASONS["acked"] in audit.lost_by_outcome:
        problems.append("the audit blames the pipeline for records the killed producer never saw acknowledged")
    return problems
