"""Per-shard throughput limits and control-plane rate limits, as token buckets.

Write limit per shard: 1,000 records/s and 1 MiB/s; read limit: 5 GetRecords calls/s and
2 MiB/s (``KinesisSettings``). A refused put raises ``ProvisionedThroughputExceededException``
from the shard hook, so PutRecords fails only that record and PutRecord/GetRecords the
whole call -- the backend decides nothing about rates.

Burst allowance: each bucket holds ``throughput_burst_s`` (default 1 s) of quota. AWS
enforces its per-shard quotas per second and lets an idle shard absorb a short spike; a
one-second bucket reproduces that (a quiet shard takes 1,000 records at once) while the
sustained rate is exactly the quota, which is what a capacity test must see.

Reads may overdraw the byte bucket: AWS lets one GetRecords return up to 10 MiB and then
throttles the shard's reads until the 2 MiB/s quota has paid it back (about 5 s after a
10 MiB read); the negative balance here does the same. Writes check the balance before a
record and charge it after, so a record bigger than one second of quota (10 MiB records)
still gets through on an idle shard, and the long-run rate stays the quota.

``FaultPlan.throttle_capacity_fraction`` scales every shard's quota down at run time.
"""
from __future__ import annotations

from collections.abc import Callable

from . import metrics
from .exceptions import InternalFailureException, LimitExceededException, ProvisionedThroughputExceededException
from .faults import FaultInjector
from .settings import KinesisSettings
from .streams import Shard, ShardHooks, Stream

__all__ = ["TokenBucket", "ShardThroughputLimiter", "throughput_hooks", "ControlPlaneRateLimiter", "CONTROL_PLANE_TPS"]


# Clocks near 1.7e9 s have ~0.2 µs resolution; without slack a bucket refilled for
# exactly one record's worth of time could come out a hair short.
_SLACK = 1e-3


class TokenBucket:
    __slots__ = ("rate", "capacity", "tokens", "updated")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def refill(self, now: float) -> float:
        elapsed = now - self.updated
        if elapsed > 0:  # a wall clock stepping back neither refills nor drains
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
            self.updated = now
        return self.tokens


def _shard_rate_exceeded(stream: Stream, shard: Shard) -> ProvisionedThroughputExceededException:
    return ProvisionedThroughputExceededException(
        f"Rate exceeded for shard {shard.shard_id} in stream {stream.name} under account {stream.account_id}."
    )


class ShardThroughputLimiter:
    """The ``ShardHooks`` of one shard: its write and read buckets, and injected faults."""

    __slots__ = ("stream", "settings", "faults", "_version", "_write_records", "_write_bytes", "_read_calls", "_read_bytes")

    def __init__(self, stream: Stream, settings: KinesisSettings, faults: FaultInjector) -> None:
        self.stream = stream
        self.settings = settings
        self.faults = faults
        self._version = -1

    def _buckets(self, now: float) -> bool:
        """(Re)build the buckets when the fault plan changed; False if no limit applies."""
        if self._version != self.faults.version:
            self._version = self.faults.version
            s = self.settings
            fraction = self.faults.capacity_fraction
            burst = s.throughput_burst_s

            def bucket(rate: float) -> TokenBucket:
                return TokenBucket(rate * fraction, max(1.0, rate * fraction * burst), now)

            self._write_records = bucket(s.shard_write_records_per_s)
            self._write_bytes = bucket(s.shard_write_bytes_per_s)
            self._read_calls = bucket(s.shard_read_calls_per_s)
            self._read_bytes = bucket(s.shard_read_bytes_per_s)
        return self.settings.throughput_limits_enabled or self.faults.capacity_fraction < 1.0

    def before_put(self, shard: Shard, record_bytes: int, now: float) -> None:
        faults = self.faults
        if faults.active and faults.record_fails():
            raise InternalFailureException("Internal service failure.")
        if not self._buckets(now):
            return
        records, data = self._write_records, self._write_bytes
        if records.refill(now) < 1 - _SLACK or data.refill(now) <= 0:
            faults.count_throttled("PutRecord")
            raise _shard_rate_exceeded(self.stream, shard)
        records.tokens -= 1
        data.tokens -= record_bytes

    def before_get(self, shard: Shard, now: float) -> None:
        faults = self.faults
        if faults.active and faults.record_fails():
            raise InternalFailureException("Internal service failure.")
        if not self._buckets(now):
            return
        calls = self._read_calls
        if calls.refill(now) < 1 - _SLACK or self._read_bytes.refill(now) <= 0:
            faults.count_throttled("GetRecords")
            raise _shard_rate_exceeded(self.stream, shard)
        calls.tokens -= 1

    def after_get(self, shard: Shard, record_count: int, byte_count: int, now: float) -> None:
        if self._buckets(now):
            self._read_bytes.tokens -= byte_count


def throughput_hooks(settings: KinesisSettings, faults: FaultInjector) -> Callable[[Stream, Shard], ShardHooks]:
    """The backend's default ``ShardHooksFactory``: AWS's limits plus injected faults."""

    def make(stream: Stream, shard: Shard) -> ShardHooks:
        return ShardThroughputLimiter(stream, settings, faults)

    return make


# Transactions per second AWS allows, per account unless the scope says otherwise.
CONTROL_PLANE_TPS: dict[str, float] = {
    "CreateStream": 5,
    "DeleteStream": 5,
    "ListStreams": 5,
    "DescribeStream": 10,
    "DescribeStreamSummary": 20,
    "UpdateShardCount": 5,
    "UpdateStreamMode": 5,
    "UpdateMaxRecordSize": 5,
    "IncreaseStreamRetentionPeriod": 5,
    "DecreaseStreamRetentionPeriod": 5,
    "ListShards": 1000,  # per stream
    "GetShardIterator": 5,  # per shard; AWS answers ProvisionedThroughputExceededException
}


class ControlPlaneRateLimiter:
    """``LimitExceededException`` when an account (or stream/shard, per the operation's
    scope) calls an operation faster than AWS allows."""

    def __init__(self, settings: KinesisSettings) -> None:
        self.enabled = settings.control_plane_limits_enabled
        self.burst_s = settings.throughput_burst_s
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}

    def check(self, operation: str, scope: tuple[str, ...], now: float) -> None:
        if not self.enabled:
            return
        rate = CONTROL_PLANE_TPS.get(operation)
        if rate is None:
            return
        key = (operation, *scope)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 100_000:  # scopes of deleted streams: forget them all
                self._buckets.clear()
            bucket = self._buckets[key] = TokenBucket(rate, max(1.0, rate * self.burst_s), now)
        if bucket.refill(now) < 1 - _SLACK:
            metrics.throttled_requests_total.labels(operation=operation).inc()
            if operation == "GetShardIterator":
                raise ProvisionedThroughputExceededException(
                    f"Rate exceeded for shard {scope[-1]} in stream {scope[-2]} under account {scope[0]}."
                )
            raise LimitExceededException(f"Rate exceeded for {operation} under account {scope[0]}.")
        bucket.tokens -= 1
