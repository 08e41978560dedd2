"""Shards: hash-key routing, AWS-like sequence numbers and the per-shard record log.

Sequence numbers are 56-digit decimal strings, like the real service's, built so that a
plain integer comparison orders them within a shard::

    49 | shard index (14 digits) | stream epoch, µs (16 digits) | counter (24 digits)

The shard index lets a sequence number say which shard issued it (AWS rejects one used
on another shard); the stream epoch makes a re-created stream's numbers larger than any
the deleted stream issued, so a stale consumer checkpoint cannot skip new records.

``ShardLog`` keeps records in arrival order in parallel lists, so a put is an append and
every positional read is a bisect; trimming advances a start index and compacts in bulk,
which keeps both amortised O(1) per record however long the log grows.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_left
from dataclasses import dataclass

__all__ = [
    "MAX_HASH_KEY",
    "StoredRecord",
    "ShardLog",
    "hash_key_for_partition_key",
    "hash_key_ranges",
    "first_sequence_number",
    "shard_index_of_sequence_number",
    "shard_id_for_index",
]

MAX_HASH_KEY = 2**128 - 1
_SEQUENCE_PREFIX = 49 * 10**54
_SHARD_FACTOR = 10**40
_EPOCH_FACTOR = 10**24
_MAX_SHARD_INDEX = 10**14 - 1
_COMPACT_MIN_DEAD = 4096


def hash_key_for_partition_key(partition_key: str) -> int:
    """The 128-bit hash key AWS routes by: MD5 of the UTF-8 key, read as an integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def hash_key_ranges(shard_count: int) -> list[tuple[int, int]]:
    """Split 0..2**128-1 evenly; the last shard takes the remainder, as AWS does."""
    width = (MAX_HASH_KEY + 1) // shard_count
    ranges = [(i * width, (i + 1) * width - 1) for i in range(shard_count)]
    ranges[-1] = (ranges[-1][0], MAX_HASH_KEY)
    return ranges


def shard_id_for_index(index: int) -> str:
    return f"shardId-{index:012d}"


def first_sequence_number(shard_index: int, stream_epoch_us: int) -> int:
    if not 0 <= shard_index <= _MAX_SHARD_INDEX:
        raise ValueError(f"shard index out of range: {shard_index}")
    return _SEQUENCE_PREFIX + shard_index * _SHARD_FACTOR + stream_epoch_us * _EPOCH_FACTOR


def shard_index_of_sequence_number(sequence_number: int) -> int | None:
    """The shard index a number of ours encodes, or None if we never could have issued it."""
    if not _SEQUENCE_PREFIX <= sequence_number < 50 * 10**54:
        return None
    return (sequence_number - _SEQUENCE_PREFIX) // _SHARD_FACTOR


@dataclass(slots=True, frozen=True)
class StoredRecord:
    sequence_number: int
    partition_key: str
    data: bytes
    # Milliseconds, the precision AWS reports: a client that reads a timestamp back
    # and asks for AT_TIMESTAMP with it must find the same record.
    arrival_ms: int


class ShardLog:
    """The records one shard holds, oldest first. Not thread-safe: one event loop owns it."""

    __slots__ = ("_records", "_sequence_numbers", "_arrival_ms", "_start", "_next_sequence_number", "bytes_stored",
                 "bytes_written")

    def __init__(self, first_sequence_number: int) -> None:
        self._records: list[StoredRecord] = []
        self._sequence_numbers: list[int] = []
        self._arrival_ms: list[int] = []
        self._start = 0  # records before this index are trimmed and await compaction
        self._next_sequence_number = first_sequence_number
        self.bytes_stored = 0
        # Bytes appended since this process started (not restored ones): on-demand scaling
        # reads write rates from it.
        self.bytes_written = 0

    def __len__(self) -> int:
        return len(self._records) - self._start

    @property
    def next_sequence_number(self) -> int:
        """The number the next appended record gets; reading from here reads only new records."""
        return self._next_sequence_number

    def append(self, partition_key: str, data: bytes, now_ms: int) -> StoredRecord:
        # Arrival times never go backwards within a shard even if the wall clock does,
        # so AT_TIMESTAMP can bisect them.
        if self._arrival_ms and now_ms < self._arrival_ms[-1]:
            now_ms = self._arrival_ms[-1]
        record = StoredRecord(self._next_sequence_number, partition_key, data, now_ms)
        self._next_sequence_number += 1
        self._records.append(record)
        self._sequence_numbers.append(record.sequence_number)
        self._arrival_ms.append(now_ms)
        size = len(data) + len(partition_key)
        self.bytes_stored += size
        self.bytes_written += size
        return record

    def skip_sequence_number(self) -> int:
        """A sequence number handed out for a record that is not stored (an injected loss)."""
        self._next_sequence_number += 1
        return self._next_sequence_number - 1

    def restore(self, sequence_number: int, partition_key: str, data: bytes, arrival_ms: int) -> None:
        """Re-append a record read back from disk, keeping its original number."""
        record = StoredRecord(sequence_number, partition_key, data, arrival_ms)
        self._records.append(record)
        self._sequence_numbers.append(sequence_number)
        self._arrival_ms.append(arrival_ms)
        self._next_sequence_number = sequence_number + 1
        self.bytes_stored += len(data) + len(partition_key)

    def position_of_sequence_number(self, sequence_number: int) -> int:
        """Index of the first retained record whose number is >= ``sequence_number``."""
        return bisect_left(self._sequence_numbers, sequence_number, self._start)

    def position_of_arrival(self, arrival_ms: int) -> int:
        """Index of the first retained record that arrived at or after ``arrival_ms``."""
        return bisect_left(self._arrival_ms, arrival_ms, self._start)

    def read(self, position: int, limit: int, max_bytes: int) -> list[StoredRecord]:
        """Up to ``limit`` records from ``position``; always at least one if any remain,
        so a single record bigger than ``max_bytes`` cannot stall a reader."""
        end = min(position + limit, len(self._records))
        batch = self._records[position:end]
        total = 0
        for taken, record in enumerate(batch):
            total += len(record.data) + len(record.partition_key)
            if total > max_bytes and taken > 0:
                return batch[:taken]
        return batch

    def record_at(self, position: int) -> StoredRecord | None:
        return self._records[position] if position < len(self._records) else None

    def trim_arrived_before(self, cutoff_ms: int) -> int:
        """Drop records that arrived before ``cutoff_ms`` (retention); returns how many."""
        new_start = self.position_of_arrival(cutoff_ms)
        dropped = new_start - self._start
        if dropped <= 0:
            return 0
        for record in self._records[self._start:new_start]:
            self.bytes_stored -= len(record.data) + len(record.partition_key)
        self._start = new_start
        if self._start >= _COMPACT_MIN_DEAD and self._start * 2 >= len(self._records):
            del self._records[: self._start]
            del self._sequence_numbers[: self._start]
            del self._arrival_ms[: self._start]
            self._start = 0
        return dropped
