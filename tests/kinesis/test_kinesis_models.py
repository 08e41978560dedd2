"""KinesisBackend without HTTP: routing, sequence numbers, iterators, limits, hooks."""
from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.clock import FakeClock

from emulator.kinesis import (
    CallerIdentity,
    KinesisBackend,
    KinesisSettings,
    PutRecordsEntry,
    UnlimitedShardHooks,
)
from emulator.kinesis.exceptions import (
    AccessDeniedException,
    ExpiredIteratorException,
    InvalidArgumentException,
    LimitExceededException,
    ProvisionedThroughputExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from emulator.kinesis.shards import hash_key_ranges

CALLER = CallerIdentity("000000000000", "us-east-1", "streamload-local")
SHARD0, SHARD1 = "shardId-000000000000", "shardId-000000000001"


def put_many(backend: KinesisBackend, stream: str, keys: list[str]) -> list:
    entries = [PutRecordsEntry(f"data-{k}".encode(), k) for k in keys]
    return backend.put_records(CALLER, entries, stream_name=stream)


def read_all(backend: KinesisBackend, iterator: str, limit: int = 10_000) -> list:
    records = []
    for _ in range(1000):
        result = backend.get_records(iterator, limit)
        if not result.records:
            return records
        records.extend(result.records)
        iterator = result.next_shard_iterator
    raise AssertionError("shard never drained")


@given(shard_count=st.integers(1, 64), key=st.text(min_size=1, max_size=256))
@settings(max_examples=200, deadline=None)
def test_record_routes_to_shard_whose_hash_range_holds_md5_of_key_when_any_shard_count(shard_count, key):
    backend = KinesisBackend(clock=FakeClock())
    stream = backend.create_stream(CALLER, "routing", shard_count)
    result = backend.put_record(CALLER, b"x", key, stream_name="routing")
    shard = stream.shard_by_id(result.shard_id)
    md5 = int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16)
    assert shard.starting_hash_key <= md5 <= shard.ending_hash_key


def test_hash_ranges_cover_whole_key_space_without_gaps_when_split_unevenly():
    ranges = hash_key_ranges(7)
    assert ranges[0][0] == 0 and ranges[-1][1] == 2**128 - 1
    assert all(prev[1] + 1 == nxt[0] for prev, nxt in zip(ranges, ranges[1:]))


def test_explicit_hash_key_overrides_partition_key_when_given(backend):
    backend.create_stream(CALLER, "s", 4)
    top = str(2**128 - 1)
    result = backend.put_record(CALLER, b"x", "any-key", stream_name="s", explicit_hash_key=top)
    assert result.shard_id == "shardId-000000000003"
    with pytest.raises(InvalidArgumentException, match="ExplicitHashKey must be in the range"):
        backend.put_record(CALLER, b"x", "k", stream_name="s", explicit_hash_key=str(2**128))


def test_sequence_numbers_are_56_digits_and_strictly_increasing_per_shard_when_many_puts(backend, clock):
    backend.create_stream(CALLER, "s", 2)
    by_shard: dict[str, list[str]] = {}
    for batch in range(5):
        clock.advance(-1.0 if batch == 3 else 0.5)  # a wall clock stepping back must not matter
        for result in put_many(backend, "s", [f"k{batch}-{i}" for i in range(200)]):
            by_shard.setdefault(result.shard_id, []).append(result.sequence_number)
    assert set(by_shard) == {SHARD0, SHARD1}
    for numbers in by_shard.values():
        assert all(len(n) == 56 and n.isdigit() for n in numbers)
        as_ints = [int(n) for n in numbers]
        assert all(a < b for a, b in zip(as_ints, as_ints[1:]))


def test_recreated_stream_issues_larger_sequence_numbers_when_name_reused(backend, clock):
    backend.create_stream(CALLER, "s", 1)
    old = backend.put_record(CALLER, b"x", "k", stream_name="s").sequence_number
    backend.delete_stream(CALLER, "s")
    clock.advance(1)
    backend.create_stream(CALLER, "s", 1)
    new = backend.put_record(CALLER, b"x", "k", stream_name="s").sequence_number
    assert int(new) > int(old)


def test_trim_horizon_reads_every_record_in_put_order_when_paged_with_small_limit(backend):
    backend.create_stream(CALLER, "s", 1)
    keys = [f"k{i}" for i in range(250)]
    put_many(backend, "s", keys)
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")
    records = read_all(backend, iterator, limit=7)
    assert [r.partition_key for r in records] == keys


def test_latest_iterator_sees_only_records_put_after_it_when_shard_has_history(backend):
    backend.create_stream(CALLER, "s", 1)
    put_many(backend, "s", ["old1", "old2"])
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "LATEST", "s")
    assert backend.get_records(iterator).records == []
    put_many(backend, "s", ["new1"])
    assert [r.partition_key for r in read_all(backend, iterator)] == ["new1"]


def test_at_and_after_sequence_number_start_at_and_after_that_record_when_record_exists(backend):
    backend.create_stream(CALLER, "s", 1)
    results = put_many(backend, "s", ["a", "b", "c", "d"])
    seq_b = results[1].sequence_number
    at = backend.get_shard_iterator(CALLER, SHARD0, "AT_SEQUENCE_NUMBER", "s", starting_sequence_number=seq_b)
    after = backend.get_shard_iterator(CALLER, SHARD0, "AFTER_SEQUENCE_NUMBER", "s", starting_sequence_number=seq_b)
    assert [r.partition_key for r in read_all(backend, at)] == ["b", "c", "d"]
    assert [r.partition_key for r in read_all(backend, after)] == ["c", "d"]


def test_at_sequence_number_is_rejected_when_number_belongs_to_another_shard(backend):
    backend.create_stream(CALLER, "s", 2)
    results = put_many(backend, "s", [f"k{i}" for i in range(20)])
    from_shard1 = next(r.sequence_number for r in results if r.shard_id == SHARD1)
    with pytest.raises(InvalidArgumentException, match=f"It encodes {SHARD1}"):
        backend.get_shard_iterator(CALLER, SHARD0, "AT_SEQUENCE_NUMBER", "s", starting_sequence_number=from_shard1)
    with pytest.raises(InvalidArgumentException, match="is invalid"):
        backend.get_shard_iterator(CALLER, SHARD0, "AT_SEQUENCE_NUMBER", "s", starting_sequence_number="12345")


def test_at_timestamp_starts_at_first_record_arriving_at_or_after_it_when_millisecond_boundaries(backend, clock):
    backend.create_stream(CALLER, "s", 1)
    put_many(backend, "s", ["t0"])
    clock.advance(0.0104)
    put_many(backend, "s", ["t1"])
    arrival_t1 = backend.get_records(backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")).records[1].arrival_ms
    clock.advance(5)
    put_many(backend, "s", ["t2"])
    # The timestamp a reader saw for t1 (whole ms) must find t1 itself, not skip it.
    exact = backend.get_shard_iterator(CALLER, SHARD0, "AT_TIMESTAMP", "s", timestamp=arrival_t1 / 1000)
    assert [r.partition_key for r in read_all(backend, exact)] == ["t1", "t2"]
    just_after = backend.get_shard_iterator(CALLER, SHARD0, "AT_TIMESTAMP", "s", timestamp=arrival_t1 / 1000 + 0.0005)
    assert [r.partition_key for r in read_all(backend, just_after)] == ["t2"]
    now = backend.get_shard_iterator(CALLER, SHARD0, "AT_TIMESTAMP", "s", timestamp=clock.now)
    assert read_all(backend, now) == []
    with pytest.raises(InvalidArgumentException, match="timestampInMillis"):
        backend.get_shard_iterator(CALLER, SHARD0, "AT_TIMESTAMP", "s")


def test_get_records_raises_expired_iterator_when_iterator_older_than_five_minutes(backend, clock):
    backend.create_stream(CALLER, "s", 1)
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")
    clock.advance(299)
    next_iterator = backend.get_records(iterator).next_shard_iterator
    clock.advance(2)
    with pytest.raises(ExpiredIteratorException, match="tolerated delay of 300000 milliseconds"):
        backend.get_records(iterator)
    assert backend.get_records(next_iterator).records == []  # a fresh iterator restarts the clock


def test_get_records_reports_resource_not_found_when_stream_recreated_under_same_name(backend, clock):
    backend.create_stream(CALLER, "s", 1)
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")
    backend.delete_stream(CALLER, "s")
    clock.advance(0.001)
    backend.create_stream(CALLER, "s", 1)
    with pytest.raises(ResourceNotFoundException, match="Stream s under account 000000000000 not found."):
        backend.get_records(iterator)


def test_get_records_raises_invalid_argument_when_iterator_is_garbage(backend):
    for garbage in ("not-an-iterator", "AAAA", "aTF8eA=="):
        with pytest.raises(InvalidArgumentException, match="Invalid ShardIterator"):
            backend.get_records(garbage)


def test_millis_behind_latest_is_zero_at_tip_and_positive_when_records_remain(backend, clock):
    backend.create_stream(CALLER, "s", 1)
    put_many(backend, "s", ["a", "b"])
    clock.advance(2)
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")
    first = backend.get_records(iterator, limit=1)
    assert first.millis_behind_latest == 2000
    assert backend.get_records(first.next_shard_iterator).millis_behind_latest == 0


def test_stream_is_creating_and_refuses_puts_until_delay_passes_when_creating_delay_set(clock):
    backend = KinesisBackend(KinesisSettings(stream_creating_s=2), clock=clock)
    stream = backend.create_stream(CALLER, "s", 1)
    assert stream.status(clock()) == "CREATING"
    with pytest.raises(ResourceNotFoundException):
        backend.put_record(CALLER, b"x", "k", stream_name="s")
    clock.advance(2)
    assert stream.status(clock()) == "ACTIVE"
    assert backend.put_record(CALLER, b"x", "k", stream_name="s").shard_id == SHARD0


def test_create_stream_refuses_when_name_taken_or_shard_quota_exceeded(clock):
    backend = KinesisBackend(KinesisSettings(max_shards_per_region=5), clock=clock)
    backend.create_stream(CALLER, "s", 3)
    with pytest.raises(ResourceInUseException, match="Stream s under account 000000000000 already exists."):
        backend.create_stream(CALLER, "s", 1)
    with pytest.raises(LimitExceededException, match="shard limit"):
        backend.create_stream(CALLER, "t", 3)


def test_on_demand_stream_gets_four_shards_when_no_shard_count_given(backend):
    stream = backend.create_stream(CALLER, "od")
    assert stream.mode == "ON_DEMAND" and len(stream.shards) == 4


def test_streams_are_separate_per_account_and_region_when_same_name(backend):
    other_account = CallerIdentity("111111111111", "us-east-1")
    other_region = CallerIdentity("000000000000", "eu-west-1")
    backend.create_stream(CALLER, "s", 1)
    backend.create_stream(other_account, "s", 2)
    backend.create_stream(other_region, "s", 3)
    assert len(backend.resolve_stream(other_account, "DescribeStream", "s").shards) == 2
    arn = backend.resolve_stream(other_region, "DescribeStream", "s").arn
    assert arn == "arn:aws:kinesis:eu-west-1:000000000000:stream/s"
    assert len(backend.resolve_stream(CALLER, "DescribeStream", stream_arn=arn).shards) == 3
    with pytest.raises(AccessDeniedException):
        backend.resolve_stream(other_account, "DescribeStream", stream_arn=arn)


def test_put_records_fails_only_refused_records_when_shard_hook_refuses():
    class RefuseShardOne(UnlimitedShardHooks):
        def before_put(self, shard, record_bytes, now):
            if shard.index == 1:
                raise ProvisionedThroughputExceededException("Rate exceeded for shard shardId-000000000001.")

    backend = KinesisBackend(clock=FakeClock(), shard_hooks=lambda stream, shard: RefuseShardOne())
    backend.create_stream(CALLER, "s", 2)
    results = put_many(backend, "s", [f"k{i}" for i in range(50)])
    refused = [r for r in results if r.error_code]
    assert refused and all(r.error_code == "ProvisionedThroughputExceededException" for r in refused)
    assert all(r.shard_id == SHARD0 for r in results if not r.error_code)
    stored = read_all(backend, backend.get_shard_iterator(CALLER, SHARD1, "TRIM_HORIZON", "s"))
    assert stored == []


def test_put_records_rejects_whole_request_when_one_record_exceeds_size_limit(clock):
    backend = KinesisBackend(KinesisSettings(max_record_bytes=100), clock=clock)
    backend.create_stream(CALLER, "s", 1)
    entries = [PutRecordsEntry(b"x" * 10, "ok"), PutRecordsEntry(b"x" * 99, "kk")]
    with pytest.raises(ValidationException, match="'records.2.member.data'.*less than or equal to 100"):
        backend.put_records(CALLER, entries, stream_name="s")
    assert read_all(backend, backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")) == []


def test_retention_trim_drops_only_records_older_than_retention_when_run(backend, clock):
    backend.create_stream(CALLER, "s", 1)
    put_many(backend, "s", ["old"])
    clock.advance(23 * 3600)
    put_many(backend, "s", ["young"])
    clock.advance(3600 + 1)
    assert backend.trim_expired_records() == 1
    iterator = backend.get_shard_iterator(CALLER, SHARD0, "TRIM_HORIZON", "s")
    assert [r.partition_key for r in read_all(backend, iterator)] == ["young"]


def test_positioned_reads_find_the_right_record_when_shard_holds_many_records(backend):
    # Speed (flat put cost, bisected positioning) is measured side by side in
    # bench/kinesis_emulator.py; here: 120k appended records keep their order and numbers,
    # and AT_/AFTER_SEQUENCE_NUMBER land exactly on the asked-for record.
    backend.create_stream(CALLER, "s", 1)
    for chunk in range(240):
        backend.put_records(CALLER, [PutRecordsEntry(f"{chunk * 500 + i}".encode(), "k") for i in range(500)],
                            stream_name="s")
    shard = backend.resolve_stream(CALLER, "DescribeStream", "s").shards[0]
    assert len(shard.log) == 120_000
    for position in (0, 1, 59_999, 60_000, 119_999):
        number = shard.log.record_at(position).sequence_number
        at = backend.get_shard_iterator(CALLER, SHARD0, "AT_SEQUENCE_NUMBER", "s", starting_sequence_number=str(number))
        assert [r.data for r in backend.get_records(at, 2).records] == [
            str(p).encode() for p in range(position, min(position + 2, 120_000))]
        after = backend.get_shard_iterator(CALLER, SHARD0, "AFTER_SEQUENCE_NUMBER", "s", starting_sequence_number=str(number))
        assert [r.data for r in backend.get_records(after, 1).records] == (
            [str(position + 1).encode()] if position + 1 < 120_000 else [])
