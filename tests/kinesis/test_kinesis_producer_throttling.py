"""The producer's retry loop against real throttling: every record ends up stored once."""
from __future__ import annotations

import asyncio
import importlib
import sys
import time
from pathlib import Path

import pytest
from aiobotocore.session import get_session
from kinesis_helpers import LOCAL_KEY, REGION, make_client, start_server

from emulator.kinesis import KinesisBackend, KinesisSettings


def _producer_sender():
    # tests/producer (no __init__.py) can shadow the real package as a namespace package.
    if not getattr(sys.modules.get("producer"), "__file__", None):
        sys.modules.pop("producer", None)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        return importlib.import_module("producer.sender")
    except ImportError as error:
        pytest.skip(f"producer.sender not importable: {error}")
    finally:
        sys.path.pop(0)


def test_producer_retries_throttled_records_until_all_stored_when_shard_limit_is_low():
    sender_module = _producer_sender()
    from producer.partition_keys import PartitionKeys
    from producer.schemas import GeneratedRecord

    srv = start_server(KinesisBackend(KinesisSettings(shard_write_records_per_s=200)))
    try:
        make_client(srv.url).create_stream(StreamName="s", ShardCount=1)
        now = time.time()
        records = [GeneratedRecord(f"event-{i}", i, now, f"payload-{i}".encode()) for i in range(600)]
        keyed, rejected = PartitionKeys("random").wrap_all(records)
        assert not rejected
        tally = sender_module.OutcomeTally()

        async def send_all() -> None:
            async with get_session().create_client(
                "kinesis", endpoint_url=srv.url, region_name=REGION,
                aws_access_key_id=LOCAL_KEY, aws_secret_access_key=LOCAL_KEY,
            ) as client:
                sender = sender_module.KinesisBatchSender(client, "s", "p1", tally, record_ttl_s=30, backoff_base_s=0.05)
                await asyncio.gather(*(sender.send(keyed[i:i + 300]) for i in range(0, 600, 300)))

        asyncio.run(asyncio.wait_for(send_all(), timeout=30))
        assert tally.sent == 600 and tally.throttled > 0 and tally.retried > 0
        kinesis = make_client(srv.url)
        iterator = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        stored = kinesis.get_records(ShardIterator=iterator)["Records"]
        assert sorted(r["PartitionKey"] for r in stored) == sorted(r.event_id for r in records)
    finally:
        srv.stop()
