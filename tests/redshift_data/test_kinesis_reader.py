"""The REFRESH reader against a scripted Kinesis client: throttling and expired iterators."""
from __future__ import annotations

import asyncio
import time

import pytest
from botocore.exceptions import ClientError

from emulator.redshift_data import kinesis_reader
from emulator.redshift_data.kinesis_reader import read_shard


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "Rate exceeded for shard"}}, "GetRecords")


class ScriptedKinesis:
    def __init__(self, script: list) -> None:
        self.script = script
        self.get_records_calls = 0

    async def get_shard_iterator(self, **kwargs):
        return {"ShardIterator": f"it-{kwargs.get('StartingSequenceNumber', 'trim')}"}

    async def get_records(self, **kwargs):
        self.get_records_calls += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def _page(*seqs: str, behind: int = 0) -> dict:
    return {"Records": [{"SequenceNumber": s, "Data": b"{}"} for s in seqs], "NextShardIterator": "next",
            "MillisBehindLatest": behind}


def test_read_shard_backs_off_and_gets_records_when_throttled(monkeypatch):
    monkeypatch.setattr(kinesis_reader, "BACKOFF_FIRST_S", 0.01)
    throttled = _error("ProvisionedThroughputExceededException")
    client = ScriptedKinesis([throttled, throttled, _page("1", "2")])
    records = asyncio.run(read_shard(client, "s", "shardId-000000000000", None, time.monotonic() + 5))
    assert [r["SequenceNumber"] for r in records] == ["1", "2"]
    assert client.get_records_calls == 3


def test_read_shard_fails_with_throttling_error_when_deadline_passes(monkeypatch):
    monkeypatch.setattr(kinesis_reader, "BACKOFF_FIRST_S", 0.05)
    client = ScriptedKinesis([_error("ProvisionedThroughputExceededException")] * 50)
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        asyncio.run(read_shard(client, "s", "shardId-000000000000", None, time.monotonic() + 0.2))


def test_read_shard_renews_iterator_after_last_record_when_iterator_expires():
    client = ScriptedKinesis([_page("1", behind=10), _error("ExpiredIteratorException"), _page("2")])
    records = asyncio.run(read_shard(client, "s", "shardId-000000000000", None, time.monotonic() + 5))
    assert [r["SequenceNumber"] for r in records] == ["1", "2"]
