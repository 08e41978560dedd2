"""Helpers the producer tests import (conftest.py only holds fixtures)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import orjson

from botocore.exceptions import ClientError

LOCAL_CREDENTIALS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local"}
REGION = "us-east-1"
REPO = Path(__file__).resolve().parents[2]


def cli_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a `python -m producer` child: local keys, no AWS config files."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
           "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
           "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def run_cli(*args: str, timeout: float = 30, **env: str | None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "producer", *args], cwd=REPO, env=cli_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def create_stream(endpoint: str, shards: int = 2) -> str:
    """A fresh stream, ACTIVE."""
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name=REGION, **LOCAL_CREDENTIALS)
    name = f"producer-test-{uuid.uuid4().hex[:8]}"
    client.create_stream(StreamName=name, ShardCount=shards)
    deadline = time.monotonic() + 10
    while client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline, "stream never became ACTIVE"
        time.sleep(0.05)
    return name


def read_all_records(client, stream_name: str) -> list[dict]:
    """Every record in every shard, from the trim horizon (bounded number of calls)."""
    out = []
    for shard in client.list_shards(StreamName=stream_name)["Shards"]:
        iterator = client.get_shard_iterator(StreamName=stream_name, ShardId=shard["ShardId"],
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for _ in range(50):
            page = client.get_records(ShardIterator=iterator, Limit=10000)
            out.extend({**r, "ShardId": shard["ShardId"]} for r in page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"] or not iterator:
                break
    return out


def keyed(records, strategy: str = "random", explicit_hash_key=None):
    """Generated records as the sender takes them (partition key chosen)."""
    from producer.partition_keys import PartitionKeys

    keys = PartitionKeys(strategy, explicit_hash_key)
    return [keys.wrap(r) for r in records]


def client_error(code: str, status: int = 400, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "PutRecords")


class FakeKinesis:
    """Stands in for the aiobotocore client. ``script`` decides each PutRecords answer:
    ``script(call_index, partition_keys)`` returns per-record error codes (None = ok), or
    raises to fail the whole call. Every call's partition keys are kept in ``calls``."""

    def __init__(self, script=None, stream_status: str = "ACTIVE", delay_s: float = 0.0):
        self.script = script or (lambda index, keys: [None] * len(keys))
        self.stream_status = stream_status
        self.delay_s = delay_s
        self.calls: list[list[str]] = []
        self.entries: list[list[dict]] = []  # every call's full PutRecords entries

    async def list_shards(self, StreamName=None, NextToken=None):
        return {"Shards": [{"ShardId": "shardId-000000000000",
                            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(2**128 - 1)},
                            "SequenceNumberRange": {"StartingSequenceNumber": "0"}}]}

    async def describe_stream_summary(self, StreamName):
        if self.stream_status == "MISSING":
            raise client_error("ResourceNotFoundException", message=f"Stream {StreamName} not found")
        return {"StreamDescriptionSummary": {"StreamName": StreamName, "StreamStatus": self.stream_status}}

    async def put_records(self, StreamName, Records):
        keys = [r["PartitionKey"] for r in Records]
        index = len(self.calls)
        self.calls.append(keys)
        self.entries.append(list(Records))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        codes = self.script(index, keys)
        results = []
        for i, code in enumerate(codes):
            if code is None:
                results.append({"ShardId": "shardId-000000000000", "SequenceNumber": f"{index:010d}{i:010d}"})
            else:
                results.append({"ErrorCode": code, "ErrorMessage": code})
        return {"FailedRecordCount": sum(c is not None for c in codes), "Records": results}


def seqs_of(ranges) -> set[int]:
    """Every seq in a ledger's ``SeqRanges`` (tests keep their runs small)."""
    return {seq for first, last in ranges for seq in range(first, last + 1)}


def decoded_seqs(stream_records: list[dict], producer_id: str | None = None) -> list[int]:
    """The ``seq`` of each record read back from the stream (duplicates kept), optionally of one producer."""
    decoded = [orjson.loads(r["Data"]) for r in stream_records]
    return [d["seq"] for d in decoded if producer_id is None or d["producer_id"] == producer_id]


def assert_ledger_adds_up(ledger, result) -> None:
    """What a user checks in a producer's ledger against its summary: every generated seq has
    exactly one outcome and the counts match."""
    assert ledger is not None and ledger.done
    assert ledger.producer_id == result.producer_id and ledger.run_id == result.run_id
    assert ledger.generated == result.generated == result.sent + result.expired + result.rejected
    assert ledger.acked.count == result.sent and ledger.expired.count == result.expired
    assert sum(r.count for r in ledger.rejected.values()) == result.rejected
    assert {k: v.count for k, v in ledger.rejected.items()} == result.rejected_reasons
    # Counts summing to ``generated`` with nothing unknown: the outcomes are disjoint and cover 0..generated-1.
    assert ledger.unknown.count == 0
    if ledger.shards:  # Kinesis acknowledgements (a file sink has no shards)
        assert sum(s["acked"] for s in ledger.shards.values()) == ledger.acked.count
