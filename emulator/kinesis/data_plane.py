"""The record half of ``KinesisBackend``: PutRecord(s), GetShardIterator, GetRecords and
retention trimming, split out so models.py stays about streams. ``RecordOperations`` declares
the backend state and the one stream lookup it relies on; ``KinesisBackend`` provides them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .exceptions import (
    ExpiredIteratorException,
    InvalidArgumentException,
    KinesisError,
    ResourceNotFoundException,
    ValidationException,
)
from .iterators import ShardIteratorState
from .shards import MAX_HASH_KEY, hash_key_for_partition_key, shard_id_for_index, shard_index_of_sequence_number
from .streams import CallerIdentity, Shard, Stream

if TYPE_CHECKING:  # the backend's parts, for the declarations below
    from .faults import FaultInjector
    from .journal import Journal
    from .settings import KinesisSettings

__all__ = ["RecordOperations", "PutRecordResult", "PutRecordsEntry", "PutRecordsEntryResult", "GetRecordsResult"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PutRecordResult:
    shard_id: str
    sequence_number: str


@dataclass(frozen=True, slots=True)
class PutRecordsEntry:
    data: bytes
    partition_key: str
    explicit_hash_key: str | None = None


@dataclass(frozen=True, slots=True)
class PutRecordsEntryResult:
    shard_id: str | None = None
    sequence_number: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class GetRecordsResult:
    records: list  # list[StoredRecord]
    # None once a closed shard has been read to its end (the consumer moves to children).
    next_shard_iterator: str | None
    millis_behind_latest: int


def _aws_time(epoch_ms: int) -> str:
    """The Java ``Date.toString`` form AWS uses in iterator-expiry messages."""
    return datetime.fromtimestamp(epoch_ms / 1000, timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y")


def _check_sequence_number_given(iterator_type: str, starting_sequence_number: str | None) -> None:
    """AT_/AFTER_SEQUENCE_NUMBER need a StartingSequenceNumber; TRIM_HORIZON and LATEST refuse one."""
    wants_one = iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
    if wants_one == (starting_sequence_number is not None):
        return
    raise InvalidArgumentException(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
        "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "
        f"{iterator_type} and {'no' if wants_one else 'also a'} StartingSequenceNumber."
    )


class RecordOperations:
    """The data plane of a Kinesis backend. What it uses of the backend, declared here:"""

    settings: KinesisSettings
    clock: Callable[[], float]
    faults: FaultInjector
    journal: Journal | None
    _streams: dict[tuple[str, str], dict[str, Stream]]  # (account, region) -> name -> stream

    def active_stream(self, caller: CallerIdentity, action: str, stream_name: str | None,
                      stream_arn: str | None) -> Stream:
        """The ACTIVE (or UPDATING) stream a request names, else the AWS error (the backend's)."""
        raise NotImplementedError

    # ---- puts ----------------------------------------------------------------------

    def _check_record_size(self, stream: Stream, data: bytes, partition_key: str, member_path: str) -> int:
        size = len(data) + len(partition_key.encode("utf-8"))
        if size > stream.max_record_bytes:
            raise ValidationException.from_violations(
                [
                    f"Value 'java.nio.HeapByteBuffer[pos=0 lim={len(data)} cap={len(data)}]' at '{member_path}' "
                    f"failed to satisfy constraint: Member must have length less than or equal to "
                    f"{stream.max_record_bytes}"
                ]
            )
        return size

    def _route(self, stream: Stream, partition_key: str, explicit_hash_key: str | None) -> Shard:
        if explicit_hash_key is None:
            return stream.shard_for_hash_key(hash_key_for_partition_key(partition_key))
        hash_key = int(explicit_hash_key) if explicit_hash_key.isdecimal() else -1
        if not 0 <= hash_key <= MAX_HASH_KEY:
            raise InvalidArgumentException(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {explicit_hash_key}"
            )
        return stream.shard_for_hash_key(hash_key)

    def put_record(
        self,
        caller: CallerIdentity,
        data: bytes,
        partition_key: str,
        stream_name: str | None = None,
        *,
        stream_arn: str | None = None,
        explicit_hash_key: str | None = None,
    ) -> PutRecordResult:
        stream = self.active_stream(caller, "PutRecord", stream_name, stream_arn)
        size = self._check_record_size(stream, data, partition_key, "data")
        shard = self._route(stream, partition_key, explicit_hash_key)
        now = self.clock()
        shard.hooks.before_put(shard, size, now)
        record = shard.log.append(partition_key, data, int(now * 1000))
        if self.journal is not None:
            self.journal.record_appended(stream, shard, record)
        return PutRecordResult(shard.shard_id, str(record.sequence_number))

    def put_records(
        self,
        caller: CallerIdentity,
        entries: list[PutRecordsEntry],
        stream_name: str | None = None,
        *,
        stream_arn: str | None = None,
    ) -> list[PutRecordsEntryResult]:
        """One result per entry, in order; a refused record carries its error code and
        does not stop the others (callers retry only the failed ones)."""
        stream = self.active_stream(caller, "PutRecords", stream_name, stream_arn)
        if not 1 <= len(entries) <= 500:  # the protocol layer checks too; this guards direct callers
            raise ValidationException.from_violations(
                ["Value at 'records' failed to satisfy constraint: Member must have length between 1 and 500"]
            )
        total = 0
        routed: list[tuple[PutRecordsEntry, Shard, int]] = []
        for position, entry in enumerate(entries, start=1):
            size = self._check_record_size(stream, entry.data, entry.partition_key, f"records.{position}.member.data")
            total += size
            routed.append((entry, self._route(stream, entry.partition_key, entry.explicit_hash_key), size))
        # A stream taking 10 MiB records takes a 10 MiB request (one such record) too.
        request_limit = max(self.settings.max_put_records_request_bytes, stream.max_record_bytes)
        if total > request_limit:
            raise InvalidArgumentException(f"Records size exceeds {request_limit // MIB} MB limit")
        now = self.clock()
        now_ms = int(now * 1000)
        journal = self.journal
        results = []
        for entry, shard, size in routed:
            try:
                shard.hooks.before_put(shard, size, now)
            except KinesisError as refused:
                results.append(PutRecordsEntryResult(error_code=refused.code, error_message=refused.message))
                continue
            if self.faults.active and self.faults.record_lost():
                results.append(PutRecordsEntryResult(shard.shard_id, str(shard.log.skip_sequence_number())))
                continue
            record = shard.log.append(entry.partition_key, entry.data, now_ms)
            if journal is not None:
                journal.record_appended(stream, shard, record)
            results.append(PutRecordsEntryResult(shard.shard_id, str(record.sequence_number)))
        return results

    # ---- reads ---------------------------------------------------------------------

    def get_shard_iterator(
        self,
        caller: CallerIdentity,
        shard_id: str,
        iterator_type: str,
        stream_name: str | None = None,
        *,
        stream_arn: str | None = None,
        starting_sequence_number: str | None = None,
        timestamp: float | None = None,
    ) -> str:
        stream = self.active_stream(caller, "GetShardIterator", stream_name, stream_arn)
        shard = stream.shard_by_id(shard_id)
        log = shard.log
        if iterator_type in ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            _check_sequence_number_given(iterator_type, starting_sequence_number)
        if iterator_type == "TRIM_HORIZON":
            start = shard.starting_sequence_number
        elif iterator_type == "LATEST":
            start = log.next_sequence_number
        elif iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            start = self._own_sequence_number(stream, shard, starting_sequence_number)
            if iterator_type == "AFTER_SEQUENCE_NUMBER":
                start += 1
        elif iterator_type == "AT_TIMESTAMP":
            start = self._first_at_or_after(log, timestamp)
        else:  # the protocol layer checks the enum; this guards direct callers
            raise InvalidArgumentException(f"Unknown ShardIteratorType {iterator_type}.")
        state = ShardIteratorState(
            stream.account_id, stream.region, stream.name, stream.epoch_us, shard.index, start, int(self.clock() * 1000)
        )
        return state.encode()

    def _first_at_or_after(self, log, timestamp: float | None) -> int:
        """The sequence number an AT_TIMESTAMP iterator starts at."""
        if timestamp is None:
            raise InvalidArgumentException(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                "Current request has no timestamp parameter."
            )
        micros = round(timestamp * 1_000_000)
        now_ms = int(self.clock() * 1000)
        if micros // 1000 > now_ms:  # AWS compares whole milliseconds
            raise InvalidArgumentException(
                "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
                f"timestampInMillis: {micros // 1000}, currentTimestampInMillis: {now_ms}"
            )
        # Arrival times are whole milliseconds; the first record at or after the
        # requested instant is the first whose millisecond is not before it.
        record = log.record_at(log.position_of_arrival(-(-micros // 1000)))
        return record.sequence_number if record is not None else log.next_sequence_number

    def _own_sequence_number(self, stream: Stream, shard: Shard, sequence_number: str) -> int:
        value = int(sequence_number) if sequence_number.isdecimal() else -1
        issued_by = shard_index_of_sequence_number(value)
        if issued_by is None:
            raise InvalidArgumentException(
                f"StartingSequenceNumber {sequence_number} used in GetShardIterator on shard {shard.shard_id} "
                f"in stream {stream.name} under account {stream.account_id} is invalid."
            )
        if issued_by != shard.index:
            raise InvalidArgumentException(
                f"Invalid StartingSequenceNumber. It encodes {shard_id_for_index(issued_by)}, "
                f"while it was used in a call to a shard with {shard.shard_id}"
            )
        return value

    def get_records(self, shard_iterator: str, limit: int = 10_000) -> GetRecordsResult:
        state = ShardIteratorState.decode(shard_iterator)
        now = self.clock()
        now_ms = int(now * 1000)
        ttl_ms = int(self.settings.iterator_ttl_s * 1000)
        if now_ms - state.issued_ms > ttl_ms:
            raise ExpiredIteratorException(
                f"Iterator expired. The iterator was created at time {_aws_time(state.issued_ms)} while right now "
                f"it is {_aws_time(now_ms)} which is further in the future than the tolerated delay of "
                f"{ttl_ms} milliseconds."
            )
        stream = self._streams.get((state.account_id, state.region), {}).get(state.stream_name)
        if stream is None or stream.epoch_us != state.stream_epoch_us:
            raise ResourceNotFoundException.for_stream(state.stream_name, state.account_id)
        shard = stream.shard_by_index(state.shard_index)
        if shard is None:
            raise ResourceNotFoundException.for_shard(
                shard_id_for_index(state.shard_index), stream.name, stream.account_id
            )
        shard.hooks.before_get(shard, now)
        log = shard.log
        position = log.position_of_sequence_number(state.start_sequence_number)
        records = log.read(position, limit, self.settings.max_get_records_response_bytes)
        next_start = records[-1].sequence_number + 1 if records else state.start_sequence_number
        unread = log.record_at(position + len(records))
        behind = 0 if unread is None else max(0, now_ms - unread.arrival_ms)
        shard.hooks.after_get(shard, len(records), sum(len(r.data) + len(r.partition_key) for r in records), now)
        drained_closed_shard = shard.ending_sequence_number is not None and unread is None
        next_iterator = None if drained_closed_shard else state.advanced_to(next_start, now_ms).encode()
        return GetRecordsResult(records, next_iterator, behind)

    # ---- housekeeping ----------------------------------------------------------------

    def trim_expired_records(self) -> int:
        """Drop records older than each stream's retention period (or the local
        ``retention_override_s``); closed shards past retention disappear. Returns how
        many records were dropped."""
        now_ms = int(self.clock() * 1000)
        override_s = self.settings.retention_override_s
        dropped = 0
        for streams in self._streams.values():
            for stream in streams.values():
                retention_ms = int(override_s * 1000) if override_s else stream.retention_hours * 3_600_000
                cutoff = now_ms - retention_ms
                for shard in stream.shards:
                    if shard.expired:
                        continue
                    dropped += shard.log.trim_arrived_before(cutoff)
                    if shard.closed_at_ms is not None and shard.closed_at_ms < cutoff and not len(shard.log):
                        shard.expired = True
                if self.journal is not None:
                    self.journal.trimmed(stream, cutoff)
        return dropped
