"""Real SDK clients (boto3, aiobotocore) against the server on a free loopback port."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from kinesis_helpers import LOCAL_KEY, REGION

STREAM = "my-data-stream"


def shard_records(kinesis, shard_id: str, iterator_type: str = "TRIM_HORIZON", **position) -> list[dict]:
    iterator = kinesis.get_shard_iterator(
        StreamName=STREAM, ShardId=shard_id, ShardIteratorType=iterator_type, **position
    )["ShardIterator"]
    records: list[dict] = []
    for _ in range(100):
        page = kinesis.get_records(ShardIterator=iterator, Limit=100)
        records.extend(page["Records"])
        if not page["Records"] and page["MillisBehindLatest"] == 0:
            return records
        iterator = page["NextShardIterator"]
    raise AssertionError("shard never drained")


def test_put_records_500_reads_back_in_order_from_both_shards_when_trim_horizon(kinesis):
    kinesis.create_stream(StreamName=STREAM, ShardCount=2)
    sent = [{"Data": f"record-{i}".encode(), "PartitionKey": f"user-{i}"} for i in range(500)]
    response = kinesis.put_records(StreamName=STREAM, Records=sent)
    assert response["FailedRecordCount"] == 0
    placed = response["Records"]
    assert len(placed) == 500

    shards = kinesis.list_shards(StreamName=STREAM)["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001"]
    read_back = {s["ShardId"]: shard_records(kinesis, s["ShardId"]) for s in shards}
    assert all(read_back.values()), "MD5 routing of 500 distinct keys should use both shards"
    for shard_id, records in read_back.items():
        expected = [(sent[i]["Data"], p["SequenceNumber"]) for i, p in enumerate(placed) if p["ShardId"] == shard_id]
        assert [(r["Data"], r["SequenceNumber"]) for r in records] == expected
        assert all(isinstance(r["ApproximateArrivalTimestamp"], datetime) for r in records)
    assert sum(len(r) for r in read_back.values()) == 500


def test_unknown_stream_raises_client_error_resource_not_found_when_put(kinesis):
    with pytest.raises(ClientError) as caught:
        kinesis.put_record(StreamName="no-such-stream", Data=b"x", PartitionKey="k")
    error = caught.value.response["Error"]
    assert error["Code"] == "ResourceNotFoundException"
    assert error["Message"] == "Stream no-such-stream under account 000000000000 not found."
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.describe_stream_summary(StreamName="no-such-stream")


def test_after_sequence_number_and_at_timestamp_position_reads_when_records_span_time(kinesis):
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    shard = "shardId-000000000000"
    first = [kinesis.put_record(StreamName=STREAM, Data=f"a{i}".encode(), PartitionKey="k") for i in range(3)]
    time.sleep(0.05)
    boundary = datetime.now(timezone.utc)
    time.sleep(0.05)
    for i in range(2):
        kinesis.put_record(StreamName=STREAM, Data=f"b{i}".encode(), PartitionKey="k")

    after_second = shard_records(
        kinesis, shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=first[1]["SequenceNumber"]
    )
    assert [r["Data"] for r in after_second] == [b"a2", b"b0", b"b1"]
    at_first = shard_records(kinesis, shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=first[0]["SequenceNumber"])
    assert [r["Data"] for r in at_first] == [b"a0", b"a1", b"a2", b"b0", b"b1"]
    since_boundary = shard_records(kinesis, shard, "AT_TIMESTAMP", Timestamp=boundary)
    assert [r["Data"] for r in since_boundary] == [b"b0", b"b1"]
    assert shard_records(kinesis, shard, "LATEST") == []


def test_stream_is_addressable_by_arn_and_listed_with_summary_when_created(kinesis):
    kinesis.create_stream(StreamName=STREAM, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
    assert arn == f"arn:aws:kinesis:{REGION}:000000000000:stream/{STREAM}"
    put = kinesis.put_record(StreamARN=arn, Data=b"via-arn", PartitionKey="k")
    records = kinesis.get_records(
        ShardIterator=kinesis.get_shard_iterator(StreamARN=arn, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
    )["Records"]
    assert [r["Data"] for r in records] == [b"via-arn"]
    listed = kinesis.list_streams()
    assert listed["StreamNames"] == [STREAM]
    summary = listed["StreamSummaries"][0]
    assert (summary["StreamARN"], summary["StreamStatus"], summary["StreamModeDetails"]["StreamMode"]) == (
        arn,
        "ACTIVE",
        "ON_DEMAND",
    )
    description = kinesis.describe_stream(StreamARN=arn)["StreamDescription"]
    assert len(description["Shards"]) == 4 and description["HasMoreShards"] is False
    kinesis.delete_stream(StreamARN=arn)
    assert kinesis.list_streams()["StreamNames"] == []


def test_list_shards_pages_with_next_token_when_max_results_smaller_than_shard_count(kinesis):
    kinesis.create_stream(StreamName=STREAM, ShardCount=5)
    page = kinesis.list_shards(StreamName=STREAM, MaxResults=2)
    seen = [s["ShardId"] for s in page["Shards"]]
    while "NextToken" in page:
        page = kinesis.list_shards(NextToken=page["NextToken"], MaxResults=2)
        seen += [s["ShardId"] for s in page["Shards"]]
    assert seen == [f"shardId-{i:012d}" for i in range(5)]
    streams_page = kinesis.list_streams(Limit=1)
    assert streams_page["HasMoreStreams"] is False


def test_aiobotocore_client_round_trips_records_when_used_async(server):
    async def round_trip() -> list[bytes]:
        session = get_session()
        async with session.create_client(
            "kinesis",
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id=LOCAL_KEY,
            aws_secret_access_key=LOCAL_KEY,
        ) as client:
            await client.create_stream(StreamName=STREAM, ShardCount=1)
            result = await client.put_records(
                StreamName=STREAM, Records=[{"Data": f"r{i}".encode(), "PartitionKey": str(i)} for i in range(10)]
            )
            assert result["FailedRecordCount"] == 0
            iterator = (
                await client.get_shard_iterator(
                    StreamName=STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
                )
            )["ShardIterator"]
            page = await client.get_records(ShardIterator=iterator)
            return [r["Data"] for r in page["Records"]]

    assert asyncio.run(asyncio.wait_for(round_trip(), timeout=30)) == [f"r{i}".encode() for i in range(10)]
