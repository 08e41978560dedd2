"""Streams and shards as state: what a stream is, how a record finds its shard, and the
per-shard hook that throughput limits and fault injection plug into."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from .exceptions import ResourceNotFoundException
from .shards import ShardLog, first_sequence_number, hash_key_ranges, shard_id_for_index

__all__ = [
    "CallerIdentity",
    "Shard",
    "ShardHooks",
    "ShardHooksFactory",
    "UnlimitedShardHooks",
    "Stream",
    "stream_arn",
    "parse_stream_arn",
]


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """Who is calling, as far as the server knows: the account and region the request
    is for, and the access key it was signed with."""

    account_id: str
    region: str
    access_key_id: str | None = None


class ShardHooks(Protocol):
    """Consulted on every put and read of one shard. Raising a ``KinesisError`` refuses
    the operation: for PutRecords only the one record fails (its entry carries the error
    code), for PutRecord and GetRecords the whole call does. This is where per-shard
    write/read limits and injected faults live; the backend knows neither."""

    def before_put(self, shard: "Shard", record_bytes: int, now: float) -> None: ...

    def before_get(self, shard: "Shard", now: float) -> None: ...

    def after_get(self, shard: "Shard", record_count: int, byte_count: int, now: float) -> None: ...


class UnlimitedShardHooks:
    """Accepts everything: the behaviour of every other emulator, and our default until
    throughput limits are switched on."""

    def before_put(self, shard: "Shard", record_bytes: int, now: float) -> None:
        return None

    def before_get(self, shard: "Shard", now: float) -> None:
        return None

    def after_get(self, shard: "Shard", record_count: int, byte_count: int, now: float) -> None:
        return None


ShardHooksFactory = Callable[["Stream", "Shard"], ShardHooks]
_UNLIMITED = UnlimitedShardHooks()


def unlimited_hooks(stream: "Stream", shard: "Shard") -> ShardHooks:
    return _UNLIMITED


def stream_arn(region: str, account_id: str, stream_name: str) -> str:
    return f"arn:aws:kinesis:{region}:{account_id}:stream/{stream_name}"


def parse_stream_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account id, stream name) of a Kinesis stream ARN, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[1].startswith("aws") or parts[2] != "kinesis":
        return None
    region, account_id, resource = parts[3], parts[4], parts[5]
    if not resource.startswith("stream/") or len(resource) <= len("stream/"):
        return None
    return region, account_id, resource[len("stream/"):]


@dataclass(eq=False)
class Shard:
    index: int
    starting_hash_key: int
    ending_hash_key: int
    starting_sequence_number: int
    log: ShardLog
    hooks: ShardHooks = field(default=_UNLIMITED)
    parent_shard_id: str | None = None
    adjacent_parent_shard_id: str | None = None
    # Set when a reshard closes the shard: no more writes; readers reaching it are done.
    ending_sequence_number: int | None = None
    closed_at_ms: int | None = None
    # A closed shard whose records all passed retention: gone from listings, as on AWS.
    expired: bool = False

    @property
    def shard_id(self) -> str:
        return shard_id_for_index(self.index)

    @property
    def is_open(self) -> bool:
        return self.ending_sequence_number is None

    def close(self, now_ms: int) -> None:
        self.ending_sequence_number = max(self.log.next_sequence_number - 1, self.starting_sequence_number)
        self.closed_at_ms = now_ms


@dataclass(eq=False)
class Stream:
    name: str
    account_id: str
    region: str
    mode: str  # PROVISIONED | ON_DEMAND
    retention_hours: int
    created_at: float  # epoch seconds, millisecond precision
    # Identifies this incarnation of the name; iterators and tokens carry it so a
    # deleted-and-recreated stream does not honour the old one's.
    epoch_us: int
    active_at: float
    max_record_bytes: int = 1024 * 1024
    shards: list[Shard] = field(default_factory=list)
    # Open shards ordered by hash range, and their starting keys, for routing.
    _open_shards: list[Shard] = field(default_factory=list, repr=False)
    _shard_starting_keys: list[int] = field(default_factory=list, repr=False)
    # When UpdateShardCount ran (epoch s), for AWS's "10 per rolling 24 hours".
    shard_count_updates: list[float] = field(default_factory=list)
    # When UpdateStreamMode ran (epoch s), for AWS's "twice within 24 hours".
    mode_switches: list[float] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        *,
        name: str,
        account_id: str,
        region: str,
        mode: str,
        shard_count: int,
        retention_hours: int,
        now: float,
        creating_s: float,
        hooks_factory: ShardHooksFactory = unlimited_hooks,
        max_record_bytes: int = 1024 * 1024,
    ) -> "Stream":
        epoch_us = int(now * 1_000_000)
        stream = cls(
            name=name,
            account_id=account_id,
            region=region,
            mode=mode,
            retention_hours=retention_hours,
            created_at=int(now * 1000) / 1000,
            epoch_us=epoch_us,
            active_at=now + creating_s,
            max_record_bytes=max_record_bytes,
        )
        for start, end in hash_key_ranges(shard_count):
            stream.add_shard(start, end, hooks_factory)
        stream.index_open_shards()
        return stream

    def add_shard(
        self, start: int, end: int, hooks_factory: ShardHooksFactory, parents: tuple[str | None, str | None] = (None, None)
    ) -> Shard:
        index = len(self.shards)
        first = first_sequence_number(index, self.epoch_us)
        shard = Shard(index, start, end, first, ShardLog(first), parent_shard_id=parents[0], adjacent_parent_shard_id=parents[1])
        shard.hooks = hooks_factory(self, shard)
        self.shards.append(shard)
        return shard

    def index_open_shards(self) -> None:
        self._open_shards = sorted((s for s in self.shards if s.is_open), key=lambda s: s.starting_hash_key)
        self._shard_starting_keys = [s.starting_hash_key for s in self._open_shards]

    @property
    def open_shards(self) -> list[Shard]:
        return self._open_shards

    def visible_shards(self) -> list[Shard]:
        """Shards ListShards and DescribeStream show: open ones and closed ones whose
        records are still within retention."""
        return [s for s in self.shards if not s.expired]

    def reshard(self, target_shard_count: int, now: float, hooks_factory: ShardHooksFactory) -> int:
        """UNIFORM_SCALING the way AWS says it does it: SplitShard and MergeShards on
        individual shards until the open shards split the key space evenly, so every child
        has one parent (a split) or a parent and an adjacent parent (a merge).

        First every open shard is split at each new boundary inside its range, one split
        at a time (a three-way split leaves a short-lived shard behind), then the pieces
        of each new range are merged left to right (again leaving short-lived shards when
        more than two pieces meet). An open shard that already matches a new range is left
        alone. 2 -> 4 is two splits, 4 -> 2 two merges, 3 -> 5 a mix with short-lived shards
        (they hold no records here: every step happens at the same instant). Returns the
        most shards open at once during the plan, which AWS counts against the quota.
        """
        now_ms = int(now * 1000)
        targets = hash_key_ranges(target_shard_count)
        cuts = sorted(start for start, _ in targets[1:])
        pieces: list[Shard] = []
        for shard in self._open_shards:
            current = shard
            for cut in (c for c in cuts if shard.starting_hash_key < c <= shard.ending_hash_key):
                current.close(now_ms)
                pieces.append(self.add_shard(current.starting_hash_key, cut - 1, hooks_factory, (current.shard_id, None)))
                current = self.add_shard(cut, current.ending_hash_key, hooks_factory, (current.shard_id, None))
            pieces.append(current)
        peak_open = len(pieces)
        remaining = iter(pieces)
        for _, end in targets:
            current = next(remaining)
            while current.ending_hash_key < end:
                right = next(remaining)
                current.close(now_ms)
                right.close(now_ms)
                current = self.add_shard(current.starting_hash_key, right.ending_hash_key, hooks_factory,
                                         (current.shard_id, right.shard_id))
        self.index_open_shards()
        self.shard_count_updates.append(now)
        return peak_open

    def split_shard(self, shard: Shard, now: float, hooks_factory: ShardHooksFactory) -> tuple[Shard, Shard]:
        """SplitShard at the middle of ``shard``'s hash range (what on-demand scaling does)."""
        middle = (shard.starting_hash_key + shard.ending_hash_key + 1) // 2
        shard.close(int(now * 1000))
        children = (self.add_shard(shard.starting_hash_key, middle - 1, hooks_factory, (shard.shard_id, None)),
                    self.add_shard(middle, shard.ending_hash_key, hooks_factory, (shard.shard_id, None)))
        self.index_open_shards()
        return children

    @property
    def arn(self) -> str:
        return stream_arn(self.region, self.account_id, self.name)

    def status(self, now: float) -> str:
        if now >= self.active_at:
            return "ACTIVE"
        return "UPDATING" if self.shard_count_updates or self.mode_switches else "CREATING"

    def shard_for_hash_key(self, hash_key: int) -> Shard:
        return self._open_shards[bisect_right(self._shard_starting_keys, hash_key) - 1]

    def shard_by_id(self, shard_id: str) -> Shard:
        prefix = "shardId-"
        if shard_id.startswith(prefix) and shard_id[len(prefix):].isdecimal():
            index = int(shard_id[len(prefix):])
            if index < len(self.shards) and not self.shards[index].expired:
                return self.shards[index]
        raise ResourceNotFoundException.for_shard(shard_id, self.name, self.account_id)

    def shard_by_index(self, index: int) -> Shard | None:
        return self.shards[index] if 0 <= index < len(self.shards) and not self.shards[index].expired else None
