"""ON_DEMAND streams as AWS documents them: 4 shards to start, per-shard limits still
apply, a shard busier than 500 KB/s for long enough splits evenly in two, growth stops at
the stream's write maximum, and a stream switches mode at most twice a day."""
from __future__ import annotations

import time

import pytest
from kinesis_helpers import make_client, start_server

from tests.support.clock import FakeClock

from emulator.kinesis import CallerIdentity, KinesisBackend, KinesisSettings, PutRecordsEntry
from emulator.kinesis.exceptions import LimitExceededException

CALLER = CallerIdentity("000000000000", "us-east-1", "streamload-local")
CHUNK = b"x" * 60_000


def _backend(clock: FakeClock, **settings) -> KinesisBackend:
    defaults = {"on_demand_split_delay_s": 60, "throughput_limits_enabled": False, "control_plane_limits_enabled": False}
    return KinesisBackend(KinesisSettings(**{**defaults, **settings}), clock=clock)


def _write_to(backend: KinesisBackend, stream: str, hash_key: int, seconds: int, clock: FakeClock,
              bytes_per_s: int) -> None:
    """``bytes_per_s`` into the shard holding ``hash_key``, checking scaling every 10 s."""
    for second in range(seconds):
        entries = [PutRecordsEntry(CHUNK, "k", str(hash_key)) for _ in range(bytes_per_s // len(CHUNK))]
        backend.put_records(CALLER, entries, stream_name=stream)
        clock.advance(1)
        if second % 10 == 9:
            backend.scale_on_demand_streams()


def test_busy_on_demand_shard_splits_evenly_after_the_delay_and_quiet_ones_stay_when_traffic_rises(clock):
    backend = _backend(clock)
    stream = backend.create_stream(CALLER, "od")
    assert stream.mode == "ON_DEMAND" and len(stream.open_shards) == 4
    backend.scale_on_demand_streams()
    hot = stream.open_shards[0]
    _write_to(backend, "od", hot.starting_hash_key, 50, clock, 600_000)  # busy, but not 60 s yet
    assert len(stream.open_shards) == 4
    _write_to(backend, "od", hot.starting_hash_key, 20, clock, 600_000)
    assert len(stream.open_shards) == 5 and not hot.is_open
    children = [s for s in stream.open_shards if s.parent_shard_id == hot.shard_id]
    assert [(c.starting_hash_key, c.ending_hash_key) for c in children] == [
        (hot.starting_hash_key, (hot.starting_hash_key + hot.ending_hash_key + 1) // 2 - 1),
        ((hot.starting_hash_key + hot.ending_hash_key + 1) // 2, hot.ending_hash_key)]
    # Below 500 KB/s nothing splits, however long it lasts.
    _write_to(backend, "od", stream.open_shards[-1].starting_hash_key, 120, clock, 420_000)
    assert len(stream.open_shards) == 5


def test_on_demand_growth_stops_at_the_write_maximum_when_traffic_keeps_rising(clock):
    backend = _backend(clock, on_demand_max_write_bytes_per_s=6 * 1024 * 1024, on_demand_split_delay_s=10)
    stream = backend.create_stream(CALLER, "od")
    backend.scale_on_demand_streams()
    for _ in range(10):  # every open shard busy
        for shard in list(stream.open_shards):
            for _ in range(2):  # 6 MB in 10 s: 600 KB/s
                backend.put_records(CALLER, [PutRecordsEntry(CHUNK, "k", str(shard.starting_hash_key))] * 50,
                                    stream_name="od")
        clock.advance(10)
        backend.scale_on_demand_streams()
    assert len(stream.open_shards) == 6


def test_provisioned_stream_never_splits_when_busy(clock):
    backend = _backend(clock)
    stream = backend.create_stream(CALLER, "p", 2)
    backend.scale_on_demand_streams()
    _write_to(backend, "p", 0, 120, clock, 900_000)
    assert len(stream.open_shards) == 2


def test_on_demand_shard_still_throttles_a_hot_key_above_shard_limits_when_limits_on(clock):
    backend = KinesisBackend(KinesisSettings(control_plane_limits_enabled=False), clock=clock)
    backend.create_stream(CALLER, "od")
    results = backend.put_records(CALLER, [PutRecordsEntry(b"r", "same-key")] * 500, stream_name="od")
    results += backend.put_records(CALLER, [PutRecordsEntry(b"r", "same-key")] * 500, stream_name="od")
    results += backend.put_records(CALLER, [PutRecordsEntry(b"r", "same-key")] * 500, stream_name="od")
    refused = [r for r in results if r.error_code]
    assert refused and {r.error_code for r in refused} == {"ProvisionedThroughputExceededException"}


def test_mode_switch_updates_then_refuses_a_third_within_a_day_when_switched_twice(clock):
    backend = _backend(clock, stream_updating_s=5)
    stream = backend.create_stream(CALLER, "s", 3)
    backend.update_stream_mode(CALLER, stream.arn, "ON_DEMAND")
    assert stream.status(clock()) == "UPDATING" and len(stream.open_shards) == 3  # shards carry over
    clock.advance(5)
    backend.update_stream_mode(CALLER, stream.arn, "PROVISIONED")
    clock.advance(5)
    with pytest.raises(LimitExceededException, match="2 times in the last 24 hours"):
        backend.update_stream_mode(CALLER, stream.arn, "ON_DEMAND")
    clock.advance(86_400)
    backend.update_stream_mode(CALLER, stream.arn, "ON_DEMAND")


def test_server_splits_busy_on_demand_shard_by_itself_when_running():
    settings = KinesisSettings.unthrottled(on_demand_split_delay_s=0.3, on_demand_check_interval_s=0.1)
    srv = start_server(KinesisBackend(settings))
    try:
        kinesis = make_client(srv.url)
        kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
        records = [{"Data": b"y" * 8_000, "PartitionKey": "k", "ExplicitHashKey": "0"}] * 125  # 1 MB a call
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            kinesis.put_records(StreamName="od", Records=records)
            summary = kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
            if summary["OpenShardCount"] > 4:
                break
        assert summary["OpenShardCount"] == 5 and summary["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    finally:
        srv.stop()
