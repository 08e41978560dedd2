"""AWS's per-shard write/read limits and control-plane rates, on a clock the test moves."""
from __future__ import annotations

import pytest
from kinesis_helpers import make_client, start_server

from tests.support.clock import FakeClock

from emulator.kinesis import CallerIdentity, FaultPlan, KinesisBackend, KinesisSettings, PutRecordsEntry
from emulator.kinesis.exceptions import LimitExceededException, ProvisionedThroughputExceededException

CALLER = CallerIdentity("000000000000", "us-east-1", "streamload-local")
SHARD0 = "shardId-000000000000"


def one_shard_backend(clock: FakeClock, **limits) -> KinesisBackend:
    backend = KinesisBackend(KinesisSettings(**limits), clock=clock)
    backend.create_stream(CALLER, "s", 1)
    return backend


def put_batch(backend: KinesisBackend, count: int, size: int = 10) -> list:
    entries = [PutRecordsEntry(b"x" * size, f"k{i}") for i in range(count)]
    return backend.put_records(CALLER, entries, stream_name="s")


def test_put_records_fails_records_beyond_1000_per_second_when_defaults_apply():
    clock = FakeClock()
    backend = one_shard_backend(clock)
    first = put_batch(backend, 500) + put_batch(backend, 500) + put_batch(backend, 500)
    refused = [r for r in first if r.error_code]
    assert len(refused) == 500
    assert all(r.error_code == "ProvisionedThroughputExceededException" for r in refused)
    assert refused[0].error_message == "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."
    assert all(r.error_code is None for r in first[:1000])
    clock.advance(0.5)  # half a second refills half the quota
    assert sum(1 for r in put_batch(backend, 500) if r.error_code is None) == 500
    assert sum(1 for r in put_batch(backend, 10) if r.error_code is None) == 0


def test_put_records_limits_bytes_to_one_mib_per_second_when_records_are_large():
    clock = FakeClock()
    backend = one_shard_backend(clock)
    results = put_batch(backend, 20, size=128 * 1024 - 2)  # 128 KiB each with the 2-char key
    assert [r.error_code is None for r in results] == [True] * 8 + [False] * 12  # 8 x 128 KiB = 1 MiB
    clock.advance(1)
    assert sum(1 for r in put_batch(backend, 8, size=128 * 1024 - 2) if r.error_code is None) == 8


def test_put_record_raises_whole_call_throttle_when_shard_quota_used_up():
    clock = FakeClock()
    backend = one_shard_backend(clock, shard_write_records_per_s=3)
    for _ in range(3):
        backend.put_record(CALLER, b"x", "k", stream_name="s")
    with pytest.raises(ProvisionedThroughputExceededException, match="Rate exceeded for shard shardId-000000000000"):
        backend.put_record(CALLER, b"x", "k", stream_name="s")
    clock.advance(1 / 3)
    assert backend.put_record(CALLER, b"x", "k", stream_name="s").shard_id == SHARD0


def test_shards_have_separate_quotas_when_stream_has_several():
    clock = FakeClock()
    backend = KinesisBackend(KinesisSettings(shard_write_records_per_s=10), clock=clock)
    backend.create_stream(CALLER, "s", 2)
    results = put_batch(backend, 200)
    by_shard: dict[str, int] = {}
    for r in results:
        if r.error_code is None:
            by_shard[r.shard_id] = by_shard.get(r.shard_id, 0) + 1
    assert by_shard == {"shardId-000000000000": 10, "shardId-000000000001": 10}


def test_get_records_throttles_sixth_call_in_one_second_when_defaults_apply():
    clock = FakeClock()
    backend = one_shard_backend(clock)
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")
    for _ in range(5):
        iterator = backend.get_records(iterator).next_shard_iterator
    with pytest.raises(ProvisionedThroughputExceededException):
        backend.get_records(iterator)
    clock.advance(0.2)
    assert backend.get_records(iterator).records == []


def test_get_records_blocks_reads_until_bytes_repaid_when_one_call_returned_more_than_quota():
    clock = FakeClock()
    backend = one_shard_backend(clock, shard_write_bytes_per_s=100 * 1024 * 1024, shard_read_bytes_per_s=1000)
    put_batch(backend, 4, size=1000)  # ~4 KB: four seconds of the 1 KB/s read quota
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")
    page = backend.get_records(iterator)
    assert len(page.records) == 4  # one call may take more than a second's quota...
    clock.advance(2)
    with pytest.raises(ProvisionedThroughputExceededException):  # ...then the shard pays it back
        backend.get_records(page.next_shard_iterator)
    clock.advance(1.1)
    assert backend.get_records(page.next_shard_iterator).records == []


def test_capacity_fraction_fault_shrinks_write_quota_when_applied():
    clock = FakeClock()
    backend = one_shard_backend(clock)
    backend.faults.apply(FaultPlan(throttle_capacity_fraction=0.1))
    assert sum(1 for r in put_batch(backend, 500) if r.error_code is None) == 100
    backend.faults.clear()
    assert sum(1 for r in put_batch(backend, 500) if r.error_code is None) == 500


def test_capacity_fraction_fault_throttles_even_when_limits_switched_off():
    clock = FakeClock()
    backend = one_shard_backend(clock, throughput_limits_enabled=False)
    assert all(r.error_code is None for r in put_batch(backend, 500) + put_batch(backend, 500) + put_batch(backend, 500))
    backend.faults.apply(FaultPlan(throttle_capacity_fraction=0.5))
    assert sum(1 for r in put_batch(backend, 500) + put_batch(backend, 500) if r.error_code is None) == 500


def test_control_plane_raises_limit_exceeded_when_create_stream_called_faster_than_5_per_second():
    clock = FakeClock()
    backend = KinesisBackend(KinesisSettings(), clock=clock)
    for i in range(5):
        backend.admit(CALLER, "CreateStream", {"StreamName": f"s{i}"})
    with pytest.raises(LimitExceededException, match="Rate exceeded for CreateStream under account 000000000000"):
        backend.admit(CALLER, "CreateStream", {"StreamName": "s6"})
    other_account = CallerIdentity("111111111111", "us-east-1")
    backend.admit(other_account, "CreateStream", {"StreamName": "s"})  # quotas are per account
    clock.advance(0.2)
    backend.admit(CALLER, "CreateStream", {"StreamName": "s6"})


def test_get_shard_iterator_throttles_per_shard_when_called_more_than_5_per_second():
    backend = KinesisBackend(KinesisSettings(), clock=FakeClock())
    params = {"StreamName": "s", "ShardId": SHARD0}
    for _ in range(5):
        backend.admit(CALLER, "GetShardIterator", params)
    with pytest.raises(ProvisionedThroughputExceededException):
        backend.admit(CALLER, "GetShardIterator", params)
    backend.admit(CALLER, "GetShardIterator", {"StreamName": "s", "ShardId": "shardId-000000000001"})


def test_boto3_put_records_reports_failed_record_count_when_server_throttles():
    srv = start_server(KinesisBackend(KinesisSettings(shard_write_records_per_s=50)))
    try:
        kinesis = make_client(srv.url)
        kinesis.create_stream(StreamName="s", ShardCount=1)
        response = kinesis.put_records(
            StreamName="s", Records=[{"Data": b"x", "PartitionKey": str(i)} for i in range(80)]
        )
        assert 20 <= response["FailedRecordCount"] <= 30  # 50 burst, plus refill while serving
        failed = [r for r in response["Records"] if "ErrorCode" in r]
        assert {r["ErrorCode"] for r in failed} == {"ProvisionedThroughputExceededException"}
        assert all("SequenceNumber" in r for r in response["Records"][:50])
        with pytest.raises(kinesis.exceptions.ProvisionedThroughputExceededException):
            for _ in range(100):
                kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")
    finally:
        srv.stop()


def test_default_server_enforces_limits_when_started_without_settings():
    srv = start_server(KinesisBackend())
    try:
        kinesis = make_client(srv.url)
        kinesis.create_stream(StreamName="s", ShardCount=1)
        batches = [
            kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": str(i)} for i in range(500)])
            for _ in range(4)
        ]
        assert sum(b["FailedRecordCount"] for b in batches) > 0
        with pytest.raises(kinesis.exceptions.LimitExceededException):
            for _ in range(30):
                kinesis.describe_stream(StreamName="s")
    finally:
        srv.stop()
