"""Stream lifecycle: resharding with parent/child shards, retention and trimming, modes,
record-size options, and --data-dir persistence across restarts."""
from __future__ import annotations

import pytest
from kinesis_helpers import make_client, start_server

from tests.support.clock import FakeClock

from emulator.kinesis import CallerIdentity, KinesisBackend, KinesisSettings, PutRecordsEntry, open_backend
from emulator.kinesis.exceptions import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ValidationException,
)

CALLER = CallerIdentity("000000000000", "us-east-1", "streamload-local")


def put(backend, keys, stream="s"):
    return backend.put_records(CALLER, [PutRecordsEntry(f"d-{k}".encode(), k) for k in keys], stream_name=stream)


def drain(backend, shard_id, stream="s"):
    """(records, ended) reading one shard from the trim horizon."""
    iterator = backend.get_shard_iterator(CALLER, shard_id, "TRIM_HORIZON", stream)
    records = []
    for _ in range(100):
        page = backend.get_records(iterator)
        records += page.records
        if page.next_shard_iterator is None:
            return records, True
        if not page.records:
            return records, False
        iterator = page.next_shard_iterator
    raise AssertionError("shard never drained")


def test_update_shard_count_closes_parents_and_routes_new_records_to_children_when_doubling(backend, clock):
    backend.create_stream(CALLER, "s", 2)
    put(backend, [f"old{i}" for i in range(100)])
    stream, before = backend.update_shard_count(CALLER, 4, stream_name="s")
    assert before == 2 and len(stream.open_shards) == 4
    shards, _ = backend.list_shards(CALLER, "s")
    parents = {s.shard_id: (s.parent_shard_id, s.adjacent_parent_shard_id) for s in shards[2:]}
    assert parents == {
        "shardId-000000000002": ("shardId-000000000000", None),
        "shardId-000000000003": ("shardId-000000000000", None),
        "shardId-000000000004": ("shardId-000000000001", None),
        "shardId-000000000005": ("shardId-000000000001", None),
    }
    assert all(s.ending_sequence_number is not None for s in shards[:2])
    new = put(backend, [f"new{i}" for i in range(100)])
    assert {r.shard_id for r in new} <= set(parents)
    old_records, ended = drain(backend, "shardId-000000000000")
    assert ended and old_records and all(r.partition_key.startswith("old") for r in old_records)
    child_seq = min(int(r.sequence_number) for r in new)
    assert child_seq > max(r.sequence_number for r in old_records)


def test_update_shard_count_names_two_parents_when_merging(backend):
    backend.create_stream(CALLER, "s", 4)
    backend.update_shard_count(CALLER, 2, stream_name="s")
    shards, _ = backend.list_shards(CALLER, "s")
    assert [(s.shard_id, s.parent_shard_id, s.adjacent_parent_shard_id) for s in shards[4:]] == [
        ("shardId-000000000004", "shardId-000000000000", "shardId-000000000001"),
        ("shardId-000000000005", "shardId-000000000002", "shardId-000000000003"),
    ]


def test_update_shard_count_refuses_when_beyond_double_or_half_or_daily_quota(backend, clock):
    backend.create_stream(CALLER, "s", 2)
    with pytest.raises(LimitExceededException, match="between half and double"):
        backend.update_shard_count(CALLER, 5, stream_name="s")
    with pytest.raises(InvalidArgumentException, match="already has 2 open shards"):
        backend.update_shard_count(CALLER, 2, stream_name="s")
    for target in (3, 2) * 5:
        backend.update_shard_count(CALLER, target, stream_name="s")
    with pytest.raises(LimitExceededException, match="10 times in the last 24 hours"):
        backend.update_shard_count(CALLER, 3, stream_name="s")
    clock.advance(86_401)
    backend.update_shard_count(CALLER, 3, stream_name="s")


def test_stream_is_updating_and_refuses_another_reshard_when_updating_delay_set(clock):
    backend = KinesisBackend(KinesisSettings.unthrottled(stream_updating_s=5), clock=clock)
    stream = backend.create_stream(CALLER, "s", 1)
    backend.update_shard_count(CALLER, 2, stream_name="s")
    assert stream.status(clock()) == "UPDATING"
    assert put(backend, ["k"])[0].error_code is None  # writes go on while UPDATING
    with pytest.raises(ResourceInUseException, match="not ACTIVE, instead in state UPDATING"):
        backend.update_shard_count(CALLER, 1, stream_name="s")
    clock.advance(5)
    assert stream.status(clock()) == "ACTIVE"


def test_on_demand_stream_refuses_update_shard_count_when_not_provisioned(backend):
    stream = backend.create_stream(CALLER, "od")
    with pytest.raises(ValidationException, match="ON_DEMAND"):
        backend.update_shard_count(CALLER, 8, stream_name="od")
    backend.update_stream_mode(CALLER, stream.arn, "PROVISIONED")
    backend.update_shard_count(CALLER, 8, stream_name="od")
    assert len(stream.open_shards) == 8


def test_retention_trims_records_and_closed_shards_when_retention_passes(backend, clock):
    backend.create_stream(CALLER, "s", 1)
    put(backend, ["a", "b"])
    backend.update_shard_count(CALLER, 2, stream_name="s")
    clock.advance(23 * 3600)
    put(backend, ["c"])
    assert backend.trim_expired_records() == 0
    clock.advance(3600 + 1)
    assert backend.trim_expired_records() == 2
    shard_ids = [s.shard_id for s in backend.list_shards(CALLER, "s")[0]]
    assert shard_ids == ["shardId-000000000001", "shardId-000000000002"]  # closed parent is gone
    remaining = drain(backend, "shardId-000000000001")[0] + drain(backend, "shardId-000000000002")[0]
    assert [r.partition_key for r in remaining] == ["c"]


def test_retention_period_changes_follow_aws_rules_when_increased_or_decreased(backend):
    stream = backend.create_stream(CALLER, "s", 1)
    backend.change_retention(CALLER, 48, increase=True, stream_name="s")
    assert stream.retention_hours == 48
    with pytest.raises(InvalidArgumentException, match="can not be shorter"):
        backend.change_retention(CALLER, 24, increase=True, stream_name="s")
    with pytest.raises(InvalidArgumentException, match="out of range"):
        backend.change_retention(CALLER, 9000, increase=True, stream_name="s")
    backend.change_retention(CALLER, 24, increase=False, stream_name="s")
    assert stream.retention_hours == 24


def test_memory_stays_bounded_by_retention_when_records_keep_arriving(clock):
    backend = KinesisBackend(KinesisSettings.unthrottled(retention_override_s=10), clock=clock)
    stream = backend.create_stream(CALLER, "s", 1)
    log = stream.shards[0].log
    for _ in range(60):
        put(backend, [f"k{i}" for i in range(500)])
        clock.advance(1)
        backend.trim_expired_records()
    assert len(log) <= 11 * 500
    assert len(log._records) <= 2 * 11 * 500 + 4096  # trimmed slots are compacted away


def test_ten_mib_records_are_accepted_when_stream_max_record_size_raised(backend):
    backend.create_stream(CALLER, "big", 1, max_record_size_kib=10240)
    backend.create_stream(CALLER, "small", 1)
    nine_mib = b"x" * (9 * 1024 * 1024)
    assert backend.put_record(CALLER, nine_mib, "k", stream_name="big").shard_id
    with pytest.raises(ValidationException, match="less than or equal to 1048576"):
        backend.put_record(CALLER, nine_mib, "k", stream_name="small")
    with pytest.raises(ValidationException, match="between 1024 and 10240"):
        backend.create_stream(CALLER, "huge", 1, max_record_size_kib=20480)


def test_boto3_sees_children_parents_and_end_of_closed_shard_when_resharded(kinesis):
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"before", PartitionKey="k")
    answer = kinesis.update_shard_count(StreamName="s", TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert (answer["CurrentShardCount"], answer["TargetShardCount"]) == (1, 2)
    shards = kinesis.list_shards(StreamName="s")["Shards"]
    assert [s.get("ParentShardId") for s in shards] == [None, "shardId-000000000000", "shardId-000000000000"]
    assert "EndingSequenceNumber" in shards[0]["SequenceNumberRange"]
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    page = kinesis.get_records(ShardIterator=iterator)
    assert [r["Data"] for r in page["Records"]] == [b"before"] and "NextShardIterator" not in page
    summary = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 2
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=72)
    assert kinesis.describe_stream(StreamName="s")["StreamDescription"]["RetentionPeriodHours"] == 72


def test_restarted_server_keeps_streams_records_and_sequence_order_when_data_dir_set(tmp_path):
    settings = KinesisSettings.unthrottled(data_dir=tmp_path)
    srv = start_server(open_backend(settings))
    try:
        kinesis = make_client(srv.url)
        kinesis.create_stream(StreamName="kept", ShardCount=2)
        put_before = kinesis.put_records(StreamName="kept", Records=[{"Data": f"r{i}".encode(), "PartitionKey": str(i)} for i in range(50)])
        kinesis.create_stream(StreamName="gone", ShardCount=1)
        kinesis.delete_stream(StreamName="gone")
    finally:
        srv.stop()  # flushes segments on shutdown
    srv = start_server(open_backend(settings))
    try:
        kinesis = make_client(srv.url)
        assert kinesis.list_streams()["StreamNames"] == ["kept"]
        read = []
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            iterator = kinesis.get_shard_iterator(StreamName="kept", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            read += kinesis.get_records(ShardIterator=iterator)["Records"]
        assert sorted(r["SequenceNumber"] for r in read) == sorted(r["SequenceNumber"] for r in put_before["Records"])
        after = kinesis.put_record(StreamName="kept", Data=b"new", PartitionKey="0")
        same_shard = [r for r in put_before["Records"] if r["ShardId"] == after["ShardId"]]
        assert int(after["SequenceNumber"]) > max(int(r["SequenceNumber"]) for r in same_shard)
    finally:
        srv.stop()


def test_torn_last_frame_is_dropped_when_server_crashed_mid_write(tmp_path, clock):
    settings = KinesisSettings.unthrottled(data_dir=tmp_path)
    backend = open_backend(settings, clock=clock)
    backend.create_stream(CALLER, "s", 1)
    put(backend, ["a", "b", "c"])
    backend.journal.close()
    segment = next((tmp_path / "streams").rglob("*.seg"))
    segment.write_bytes(segment.read_bytes()[:-2])  # the crash cut record "c" short
    reloaded = open_backend(settings, clock=clock)
    assert [r.partition_key for r in drain(reloaded, "shardId-000000000000")[0]] == ["a", "b"]
    put(reloaded, ["d"])
    reloaded.journal.close()
    again = open_backend(settings, clock=clock)
    assert [r.partition_key for r in drain(again, "shardId-000000000000")[0]] == ["a", "b", "d"]


def test_backend_refuses_a_data_dir_it_was_given_no_journal_for_when_built_directly(tmp_path):
    # Records would silently stay in memory: say how to build a persisting backend instead.
    with pytest.raises(ValueError, match="open_backend"):
        KinesisBackend(KinesisSettings.unthrottled(data_dir=tmp_path))
    assert open_backend(KinesisSettings.unthrottled(data_dir=tmp_path)).journal is not None
    assert open_backend(KinesisSettings.unthrottled()).journal is None
