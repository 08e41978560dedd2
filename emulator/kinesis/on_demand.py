"""ON_DEMAND capacity, as AWS documents it, so a capacity test against an on-demand stream
meets the same throttling and the same scaling it would meet on AWS.

- A new on-demand stream opens with 4 shards (4 MiB/s and 4,000 records/s of writes).
- Every shard keeps its provisioned limits (1 MiB/s, 1,000 records/s): a hot partition
  key is throttled in either mode.
- Kinesis watches each shard; "when the incoming traffic exceeds 500 KB/s per shard, it
  splits the shard within 15 minutes", evenly, into two children. That is how an
  on-demand stream keeps room for twice its peak, and why traffic that more than doubles
  within 15 minutes is throttled until the split. ``on_demand_split_delay_s`` is how long
  a shard must stay that busy (default 900 s, AWS's worst case; tests shrink it).
  AWS names only the byte rate; a shard also counts as busy above half its record limit
  (``on_demand_split_records_per_s``), an assumption of ours for small records.
- Growth stops at ``on_demand_max_write_bytes_per_s`` (AWS's default on-demand write
  maximum, 200 MiB/s: 200 shards at 1 MiB/s) and at the account's shard quota.
- No scale-down (AWS does it slowly and does not document when).

``OnDemandScaler.check`` runs from the server's housekeeping loop every
``on_demand_check_interval_s``; rates are measured between two checks.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .settings import KinesisSettings
from .streams import Shard, ShardHooksFactory, Stream

__all__ = ["OnDemandScaler"]


@dataclass
class _Reading:
    at: float
    records: int
    bytes: int
    busy_since: float | None = None


class OnDemandScaler:
    def __init__(self, settings: KinesisSettings) -> None:
        self.settings = settings
        self._readings: dict[tuple[int, int], _Reading] = {}  # (stream epoch, shard index)

    def max_shards(self) -> int:
        return max(1, int(self.settings.on_demand_max_write_bytes_per_s // self.settings.shard_write_bytes_per_s))

    def check(self, streams: Iterable[Stream], now: float, hooks_factory: ShardHooksFactory,
              room_for: Callable[[Stream], int]) -> list[tuple[Stream, Shard]]:
        """Split the shards that stayed busy long enough; returns (stream, split shard).
        ``room_for(stream)`` says how many more shards the account's quota allows."""
        split: list[tuple[Stream, Shard]] = []
        seen: set[tuple[int, int]] = set()
        for stream in streams:
            if stream.mode != "ON_DEMAND" or stream.status(now) != "ACTIVE":
                continue
            for shard in list(stream.open_shards):
                key = (stream.epoch_us, shard.index)
                seen.add(key)
                if self._busy_long_enough(key, shard, now) and len(stream.open_shards) < self.max_shards() \
                        and room_for(stream) > 0:
                    stream.split_shard(shard, now, hooks_factory)
                    split.append((stream, shard))
        for gone in set(self._readings) - seen:  # closed shards and deleted streams
            del self._readings[gone]
        return split

    def _busy_long_enough(self, key: tuple[int, int], shard: Shard, now: float) -> bool:
        records, written = shard.log.next_sequence_number, shard.log.bytes_written
        last = self._readings.get(key)
        if last is None or now <= last.at:
            self._readings[key] = _Reading(now, records, written)
            return False
        elapsed = now - last.at
        busy = ((written - last.bytes) / elapsed > self.settings.on_demand_split_bytes_per_s
                or (records - last.records) / elapsed > self.settings.on_demand_split_records_per_s)
        since = (last.busy_since if last.busy_since is not None else last.at) if busy else None
        self._readings[key] = _Reading(now, records, written, since)
        return since is not None and now - since >= self.settings.on_demand_split_delay_s
