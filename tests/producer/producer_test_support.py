"""Helpers the producer tests import (conftest.py only holds fixtures)."""
from __future__ import annotations

import asyncio

from botocore.exceptions import ClientError

LOCAL_CREDENTIALS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local"}
REGION = "us-east-1"


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

    async def describe_stream_summary(self, StreamName):
        if self.stream_status == "MISSING":
            raise client_error("ResourceNotFoundException", message=f"Stream {StreamName} not found")
        return {"StreamDescriptionSummary": {"StreamName": StreamName, "StreamStatus": self.stream_status}}

    async def put_records(self, StreamName, Records):
        keys = [r["PartitionKey"] for r in Records]
        index = len(self.calls)
        self.calls.append(keys)
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
