"""Per-shard awareness: which open shard takes each record, and how fast it may.

Kinesis routes a record to the open shard whose hash-key range holds the record's hash
key (MD5 of the partition key, or the explicit hash key) and refuses more than 1,000
records/s or 1 MiB/s per shard with ``ProvisionedThroughputExceededException``. Sending
into that wall and retrying wastes calls and delays records, so the producer paces each
shard itself, as the KPL does:

* ``ShardDirectory`` learns the open shards with ``ListShards`` and keeps them current:
  every ``refresh_s`` seconds, and soon after a put lands on a shard other than the one
  predicted (the stream was resharded: parents closed, children took their ranges).
* ``ShardRateLimiter`` keeps a token bucket per shard for records and for bytes, as a
  GCRA ("theoretical arrival time"): reserving is O(1), never sleeps, and tells when the
  record may go. Reservations are first come, first served; a record that could not go
  before its deadline reserves nothing and is reported back to expire.

The bucket holds ``burst_s`` seconds of quota (default 0.5 s): small enough that the
records sent in any window stay under the shard's quota plus the service's own one-second
burst allowance, even when requests reach it out of order; half a second of a shard's
1,000 records/s is 500 records, one full PutRecords batch.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from streamload.core.kinesis_limits import SHARD_BYTES_PER_S, SHARD_RECORDS_PER_S

__all__ = ["ShardRange", "ShardMap", "ShardDirectory", "ShardRateLimiter", "list_open_shards",
           "SHARD_RECORDS_PER_S", "SHARD_BYTES_PER_S"]

log = logging.getLogger(__name__)

_MAX_LIST_PAGES = 1000  # 1,000 shards a page: far beyond any stream's shard quota


@dataclass(frozen=True)
class ShardRange:
    shard_id: str
    start: int  # hash-key range, inclusive
    end: int


class ShardMap:
    """Open shards by hash-key range; ``shard_for`` is a bisect."""

    def __init__(self, shards: list[ShardRange]) -> None:
        self.shards = sorted(shards, key=lambda s: s.start)
        self._starts = [s.start for s in self.shards]

    def shard_for(self, hash_key: int) -> str | None:
        i = bisect_right(self._starts, hash_key) - 1
        if i >= 0 and hash_key <= self.shards[i].end:
            return self.shards[i].shard_id
        return None  # a gap: the listing is mid-reshard

    def __len__(self) -> int:
        return len(self.shards)


async def list_open_shards(client, stream_name: str) -> list[ShardRange]:
    """Every open shard of the stream (closed parents of a reshard have an ending
    sequence number and take no writes)."""
    shards: list[ShardRange] = []
    kwargs: dict = {"StreamName": stream_name}
    for _ in range(_MAX_LIST_PAGES):
        page = await client.list_shards(**kwargs)
        for shard in page.get("Shards", []):
            if shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber") is not None:
                continue
            hash_range = shard["HashKeyRange"]
            shards.append(ShardRange(shard["ShardId"], int(hash_range["StartingHashKey"]),
                                     int(hash_range["EndingHashKey"])))
        token = page.get("NextToken")
        if not token:
            break
        kwargs = {"NextToken": token}
    return shards


class ShardDirectory:
    """The stream's open shards, re-listed periodically and when a put says the map is
    stale. Until the first listing succeeds ``shard_for`` answers ``None`` (no pacing)."""

    def __init__(self, client, stream_name: str, *, refresh_s: float = 30.0,
                 min_refresh_gap_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.stream_name = stream_name
        self.refresh_s = refresh_s
        self.min_refresh_gap_s = min_refresh_gap_s
        self.clock = clock
        self.map = ShardMap([])
        self.listings = 0
        self._stale = asyncio.Event()
        self._last_listed = -float("inf")

    def shard_for(self, hash_key: int) -> str | None:
        return self.map.shard_for(hash_key)

    def mark_stale(self) -> None:
        self._stale.set()

    async def refresh(self) -> bool:
        """List the shards now; False (and the old map kept) if the call fails."""
        self._last_listed = self.clock()
        try:
            shards = await list_open_shards(self.client, self.stream_name)
        except (ClientError, BotoCoreError, OSError, asyncio.TimeoutError) as exc:
            log.warning("ListShards on %s failed (%s); keeping %d known shards", self.stream_name,
                        exc, len(self.map))
            return False
        self.map = ShardMap(shards)
        self.listings += 1
        log.debug("stream %s has %d open shards", self.stream_name, len(shards))
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the map current until ``stop``."""
        while not stop.is_set():
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._stale.wait())}
            try:
                await asyncio.wait(waits, timeout=self.refresh_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            if stop.is_set():
                return
            gap = self._last_listed + self.min_refresh_gap_s - self.clock()
            if gap > 0:  # a burst of mismatches: one listing, not one per put
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=gap)
                if stop.is_set():
                    return
            self._stale.clear()
            await self.refresh()


class ShardRateLimiter:
    """Token buckets per shard for records/s and bytes/s (GCRA)."""

    def __init__(self, records_per_s: float = SHARD_RECORDS_PER_S, bytes_per_s: float = SHARD_BYTES_PER_S,
                 burst_s: float = 0.5) -> None:
        if not (records_per_s > 0 and bytes_per_s > 0 and burst_s >= 0):
            raise ValueError("shard limits must be > 0 and burst_s >= 0")
        self.record_interval = 1.0 / records_per_s
        self.bytes_per_s = bytes_per_s
        self.burst_s = burst_s
        self._tat: dict[str, list[float]] = {}  # shard -> [records TAT, bytes TAT]

    def reserve(self, shard_id: str, size: int, deadline: float, now: float) -> float | None:
        """When a record of ``size`` bytes may go to ``shard_id``: ``now`` or later; ``None``
        (nothing reserved) if not before ``deadline``."""
        tat = self._tat.get(shard_id)
        if tat is None:
            tat = self._tat[shard_id] = [now, now]
        records_from, bytes_from = max(tat[0], now), max(tat[1], now)
        # Checked before charging (as the service does): a record bigger than the burst
        # still goes on an idle shard, and the long-run rate is the quota either way.
        ready = max(now, records_from - self.burst_s, bytes_from - self.burst_s)
        if ready >= deadline:
            return None
        tat[0] = records_from + self.record_interval
        tat[1] = bytes_from + size / self.bytes_per_s
        return ready

    def backlog_s(self, shard_id: str, now: float) -> float:
        """How far ahead of ``now`` the shard's quota is already promised."""
        tat = self._tat.get(shard_id)
        return 0.0 if tat is None else max(0.0, max(tat) - now)


class ShardPacer:
    """Plans when each record of a batch may go: records of shards with quota to spare go
    now; the rest are grouped by the time their shard can take them (records whose shard
    is unknown -- no listing yet, or mid-reshard -- go now, unpaced)."""

    def __init__(self, directory: ShardDirectory, limiter: ShardRateLimiter, merge_window_s: float = 0.05) -> None:
        self.directory = directory
        self.limiter = limiter
        self.merge_window_s = merge_window_s

    def plan(self, records: list, deadline_of: Callable[[object], float], now: float
             ) -> tuple[list[tuple[float, list]], list]:
        """(groups as ``(ready_at, records)`` in time order, records that cannot go before
        their deadline). Sets each planned record's ``shard`` to the predicted shard id."""
        timed: list[tuple[float, object]] = []
        too_late = []
        for record in records:
            shard = record.shard = self.directory.shard_for(record.hash_key)
            if shard is None:
                timed.append((now, record))
                continue
            ready = self.limiter.reserve(shard, record.size, deadline_of(record), now)
            if ready is None:
                too_late.append(record)
            else:
                timed.append((ready, record))
        timed.sort(key=lambda pair: pair[0])
        groups: list[list] = []  # [ready_at of the latest member, members]
        group_first = now
        for ready, record in timed:
            # Records that may go now never wait for delayed ones; delayed ones travel
            # together when their times are close (fewer, fuller calls).
            joins = groups and (ready <= now if group_first <= now else ready <= group_first + self.merge_window_s)
            if joins:
                groups[-1][0] = ready
                groups[-1][1].append(record)
            else:
                group_first = ready
                groups.append([ready, [record]])
        return [(at, members) for at, members in groups], too_late
