"""``KinesisBackend``: all Kinesis state (accounts -> regions -> streams) and AWS's rules
about it. Nothing here knows about HTTP; ``responses.py`` translates. This module holds
the stream (control-plane) operations; ``data_plane.py`` the record operations.

Not thread-safe: one event loop owns a backend (``BackgroundServer.call`` runs code in it).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .data_plane import GetRecordsResult, PutRecordResult, PutRecordsEntry, PutRecordsEntryResult, RecordOperations
from .exceptions import (
    AccessDeniedException,
    ExpiredNextTokenException,
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from .faults import FaultInjector
from .iterators import decode_list_token, encode_list_token
from .journal import Journal
from .on_demand import OnDemandScaler
from .settings import KinesisSettings
from .shards import hash_key_ranges
from .streams import CallerIdentity, Shard, ShardHooksFactory, Stream, parse_stream_arn
from .throttling import ControlPlaneRateLimiter, throughput_hooks

__all__ = ["KinesisBackend", "PutRecordResult", "PutRecordsEntry", "PutRecordsEntryResult", "GetRecordsResult"]

_DAY_S = 86_400.0


class KinesisBackend(RecordOperations):
    def __init__(
        self,
        settings: KinesisSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        shard_hooks: ShardHooksFactory | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.settings = settings or KinesisSettings()
        self.clock = clock
        self.faults = FaultInjector(self.settings.faults)
        # Default hooks: AWS's per-shard limits and the fault plan; tests may bring their own.
        self.shard_hooks = shard_hooks or throughput_hooks(self.settings, self.faults)
        self.control_plane = ControlPlaneRateLimiter(self.settings)
        self.on_demand = OnDemandScaler(self.settings)
        self._streams: dict[tuple[str, str], dict[str, Stream]] = {}
        if self.settings.data_dir is not None and journal is None:  # persistence.open_backend builds one
            raise ValueError("settings.data_dir needs a journal: use emulator.kinesis.persistence.open_backend")
        self.journal = journal  # where streams and records persist; none keeps them in memory
        if journal is not None:
            self.restore(journal.load(self.shard_hooks))

    # ---- puts: durable before acknowledged -------------------------------------------

    def put_record(self, *args: Any, **kwargs: Any) -> PutRecordResult:
        try:
            return super().put_record(*args, **kwargs)
        finally:
            self._write_journal()

    def put_records(self, *args: Any, **kwargs: Any) -> list[PutRecordsEntryResult]:
        try:
            return super().put_records(*args, **kwargs)
        finally:
            self._write_journal()

    def _write_journal(self) -> None:
        # One write per shard file per request, before the caller can answer: a server
        # killed right after acknowledging still has the records (persistence.py).
        if self.journal is not None:
            self.journal.write_pending()

    # ---- request admission ------------------------------------------------------------

    def admit(self, caller: CallerIdentity, operation: str, params: dict[str, Any]) -> None:
        """AWS's control-plane TPS quotas: raises LimitExceededException (or, for
        GetShardIterator, ProvisionedThroughputExceededException) when exceeded."""
        if not self.control_plane.enabled:
            return
        scope: tuple[str, ...] = (caller.account_id, caller.region)
        if operation == "ListShards":
            scope += (params.get("StreamName") or params.get("StreamARN") or params.get("NextToken", "")[:64],)
        elif operation == "GetShardIterator":
            scope += (params.get("StreamName") or params.get("StreamARN") or "", params.get("ShardId", ""))
        self.control_plane.check(operation, scope, self.clock())

    # ---- streams -------------------------------------------------------------------

    def streams_in(self, account_id: str, region: str) -> dict[str, Stream]:
        return self._streams.setdefault((account_id, region), {})

    def _open_shard_count(self, account_id: str, region: str) -> int:
        return sum(len(s.open_shards) for s in self.streams_in(account_id, region).values())

    def _check_shard_quota(self, caller: CallerIdentity, additional: int) -> None:
        open_shards = self._open_shard_count(caller.account_id, caller.region)
        limit = self.settings.max_shards_per_region
        if open_shards + additional > limit:
            raise LimitExceededException(
                f"This request would exceed the shard limit for the account {caller.account_id} in {caller.region}. "
                f"Current shard count for the account: {open_shards}. Limit: {limit}. "
                f"Number of additional shards that would have resulted from this request: {additional}."
            )

    def create_stream(
        self,
        caller: CallerIdentity,
        stream_name: str,
        shard_count: int | None = None,
        stream_mode: str | None = None,
        max_record_size_kib: int | None = None,
    ) -> Stream:
        streams = self.streams_in(caller.account_id, caller.region)
        if stream_name in streams:
            raise ResourceInUseException(f"Stream {stream_name} under account {caller.account_id} already exists.")
        # Omitting both ShardCount and the mode makes an on-demand stream, as AWS does now.
        mode = stream_mode or ("PROVISIONED" if shard_count is not None else "ON_DEMAND")
        if mode == "ON_DEMAND":
            if shard_count is not None:
                raise InvalidArgumentException("ShardCount is not supported for streams in ON_DEMAND mode.")
            shard_count = self.settings.on_demand_shard_count
        elif shard_count is None:
            raise InvalidArgumentException("ShardCount is required for streams in PROVISIONED mode.")
        self._check_shard_quota(caller, shard_count)
        max_record_bytes = self.settings.max_record_bytes
        if max_record_size_kib is not None:
            max_record_bytes = self._valid_max_record_bytes(max_record_size_kib)
        stream = Stream.create(
            name=stream_name,
            account_id=caller.account_id,
            region=caller.region,
            mode=mode,
            shard_count=shard_count,
            retention_hours=self.settings.default_retention_hours,
            now=self.clock(),
            creating_s=self.settings.stream_creating_s,
            hooks_factory=self.shard_hooks,
            max_record_bytes=max_record_bytes,
        )
        streams[stream_name] = stream
        self._catalog_changed()
        return stream

    @staticmethod
    def _valid_max_record_bytes(kib: int) -> int:
        if not 1024 <= kib <= 10240:
            raise ValidationException.from_violations(
                [f"Value '{kib}' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value "
                 "between 1024 and 10240"]
            )
        return kib * 1024

    def resolve_stream(
        self, caller: CallerIdentity, action: str, stream_name: str | None = None, stream_arn: str | None = None
    ) -> Stream:
        """The stream a request names by StreamName and/or StreamARN."""
        account_id, region, name = caller.account_id, caller.region, stream_name
        if stream_arn is not None:
            parsed = parse_stream_arn(stream_arn)
            if parsed is None:
                raise InvalidArgumentException(f"StreamARN {stream_arn} is not a valid Kinesis stream ARN.")
            region, account_id, arn_name = parsed
            if stream_name is not None and stream_name != arn_name:
                raise InvalidArgumentException("StreamARN and StreamName refer to different streams.")
            name = arn_name
            if account_id != caller.account_id:
                # Cross-account access needs a resource-based policy, which we do not model yet.
                raise AccessDeniedException(
                    f"User: arn:aws:iam::{caller.account_id}:user/local is not authorized to perform: "
                    f"kinesis:{action} on resource: {stream_arn} because no resource-based policy "
                    f"allows the kinesis:{action} action"
                )
        if name is None:
            raise InvalidArgumentException("Either StreamName or StreamARN must be provided.")
        stream = self._streams.get((account_id, region), {}).get(name)
        if stream is None:
            raise ResourceNotFoundException.for_stream(name, account_id)
        return stream

    def active_stream(self, caller: CallerIdentity, action: str, stream_name: str | None, stream_arn: str | None) -> Stream:
        """Like ``resolve_stream``, for data-plane calls, which a stream still CREATING
        answers with ResourceNotFoundException, as AWS does (UPDATING streams take them)."""
        stream = self.resolve_stream(caller, action, stream_name, stream_arn)
        if stream.status(self.clock()) == "CREATING":
            raise ResourceNotFoundException.for_stream(stream.name, stream.account_id)
        return stream

    def _require_active(self, stream: Stream) -> None:
        status = stream.status(self.clock())
        if status != "ACTIVE":
            raise ResourceInUseException(
                f"Stream {stream.name} under account {stream.account_id} not ACTIVE, instead in state {status}"
            )

    def delete_stream(self, caller: CallerIdentity, stream_name: str | None = None, stream_arn: str | None = None) -> None:
        stream = self.resolve_stream(caller, "DeleteStream", stream_name, stream_arn)
        self._require_active(stream)
        del self._streams[(stream.account_id, stream.region)][stream.name]
        if self.journal is not None:
            self.journal.stream_deleted(stream)
        self._catalog_changed()

    def update_shard_count(
        self,
        caller: CallerIdentity,
        target_shard_count: int,
        scaling_type: str = "UNIFORM_SCALING",
        stream_name: str | None = None,
        stream_arn: str | None = None,
    ) -> tuple[Stream, int]:
        """Split and merge shards until ``target_shard_count`` even shards are open
        (``Stream.reshard``); returns the stream and the shard count before."""
        stream = self.resolve_stream(caller, "UpdateShardCount", stream_name, stream_arn)
        if scaling_type != "UNIFORM_SCALING":
            raise ValidationException.from_violations(
                [f"Value '{scaling_type}' at 'scalingType' failed to satisfy constraint: "
                 "Member must satisfy enum value set: [UNIFORM_SCALING]"]
            )
        if stream.mode == "ON_DEMAND":
            raise ValidationException(f"UpdateShardCount is not supported for stream {stream.name} in ON_DEMAND mode.")
        self._require_active(stream)
        now = self.clock()
        current = len(stream.open_shards)
        recent = _used_in_last_day(stream, stream.shard_count_updates, now,
                                   self.settings.max_shard_count_updates_per_day, "been scaled")
        if target_shard_count > current * 2 or target_shard_count * 2 < current:
            raise LimitExceededException(
                f"UpdateShardCount cannot scale stream {stream.name} under account {stream.account_id} from "
                f"{current} to {target_shard_count} shards: the target must be between half and double the "
                "current open shard count."
            )
        if target_shard_count == current:
            raise InvalidArgumentException(
                f"Stream {stream.name} under account {stream.account_id} already has {current} open shards."
            )
        # Short-lived shards of the split/merge plan count against the quota too (AWS says so):
        # at the peak every old and new boundary starts an open shard.
        boundaries = {s.starting_hash_key for s in stream.open_shards} | {a for a, _ in hash_key_ranges(target_shard_count)}
        self._check_shard_quota(caller, max(0, len(boundaries) - current))
        stream.shard_count_updates = recent
        stream.reshard(target_shard_count, now, self.shard_hooks)
        stream.active_at = now + self.settings.stream_updating_s
        self._catalog_changed()
        return stream, current

    def update_stream_mode(self, caller: CallerIdentity, stream_arn: str, mode: str) -> None:
        """Switch capacity mode; shards carry over (on-demand scaling starts from them), the
        stream is UPDATING for ``stream_updating_s``, twice per rolling 24 hours at most."""
        stream = self.resolve_stream(caller, "UpdateStreamMode", stream_arn=stream_arn)
        self._require_active(stream)
        if stream.mode == mode:
            raise ResourceInUseException(f"Stream {stream.name} under account {stream.account_id} is already in {mode} mode.")
        now = self.clock()
        recent = _used_in_last_day(stream, stream.mode_switches, now,
                                   self.settings.max_mode_switches_per_day, "switched capacity mode")
        stream.mode = mode
        stream.mode_switches = recent + [now]
        stream.active_at = now + self.settings.stream_updating_s
        self._catalog_changed()

    def scale_on_demand_streams(self) -> int:
        """Split the busy shards of ON_DEMAND streams (on_demand.py); returns how many."""
        streams = [s for by_name in self._streams.values() for s in by_name.values()]

        def room_for(stream: Stream) -> int:
            return self.settings.max_shards_per_region - self._open_shard_count(stream.account_id, stream.region)

        split = self.on_demand.check(streams, self.clock(), self.shard_hooks, room_for)
        if split:
            self._catalog_changed()
        return len(split)

    def update_max_record_size(self, caller: CallerIdentity, stream_arn: str, max_record_size_kib: int) -> None:
        stream = self.resolve_stream(caller, "UpdateMaxRecordSize", stream_arn=stream_arn)
        self._require_active(stream)
        stream.max_record_bytes = self._valid_max_record_bytes(max_record_size_kib)
        self._catalog_changed()

    def change_retention(
        self, caller: CallerIdentity, hours: int, increase: bool, stream_name: str | None = None, stream_arn: str | None = None
    ) -> None:
        action = "IncreaseStreamRetentionPeriod" if increase else "DecreaseStreamRetentionPeriod"
        stream = self.resolve_stream(caller, action, stream_name, stream_arn)
        self._require_active(stream)
        if not 24 <= hours <= 8760:
            raise InvalidArgumentException(
                f"Minimum allowed retention period is 24 hours and maximum is 8760 hours. Requested retention "
                f"period ({hours} hours) for stream {stream.name} is out of range."
            )
        current = stream.retention_hours
        if increase and hours < current:
            raise InvalidArgumentException(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not be shorter than "
                f"existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
            )
        if not increase and hours > current:
            raise InvalidArgumentException(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not be longer than "
                f"existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
            )
        stream.retention_hours = hours
        self._catalog_changed()

    def _catalog_changed(self) -> None:
        if self.journal is not None:
            self.journal.write_catalog(self.all_streams())

    def restore(self, streams: list[Stream]) -> None:
        """Streams kept by an earlier server (their records included), then retention applied."""
        for stream in streams:
            self.streams_in(stream.account_id, stream.region)[stream.name] = stream
        self.trim_expired_records()

    def all_streams(self) -> list[Stream]:
        return [stream for streams in self._streams.values() for stream in streams.values()]

    # ---- listing -------------------------------------------------------------------

    def list_streams(
        self,
        caller: CallerIdentity,
        limit: int = 100,
        exclusive_start_stream_name: str | None = None,
        next_token: str | None = None,
    ) -> tuple[list[Stream], bool, str | None]:
        """(streams, has_more, next_token), ordered by name."""
        start_after = exclusive_start_stream_name
        if next_token is not None:
            if exclusive_start_stream_name is not None:
                raise InvalidArgumentException("NextToken and ExclusiveStartStreamName cannot be provided together.")
            start_after = decode_list_token(next_token, "s1", caller.account_id, caller.region, self.clock())[0]
        names = sorted(self.streams_in(caller.account_id, caller.region))
        if start_after is not None:
            names = [n for n in names if n > start_after]
        page, has_more = names[:limit], len(names) > limit
        streams = self.streams_in(caller.account_id, caller.region)
        token = None
        if has_more:
            token = encode_list_token("s1", caller.account_id, caller.region, page[-1], now_s=self.clock())
        return [streams[n] for n in page], has_more, token

    def list_shards(
        self,
        caller: CallerIdentity,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        next_token: str | None = None,
        exclusive_start_shard_id: str | None = None,
        max_results: int = 1000,
    ) -> tuple[list[Shard], str | None]:
        start_index = 0
        if next_token is not None:
            if stream_name is not None or stream_arn is not None:
                raise InvalidArgumentException("NextToken and StreamName cannot be provided together.")
            stream_name, epoch, last_index = decode_list_token(next_token, "l1", caller.account_id, caller.region,
                                                               self.clock())
            if not last_index.isdecimal():
                raise InvalidArgumentException("Invalid NextToken.")
            stream = self.resolve_stream(caller, "ListShards", stream_name)
            if str(stream.epoch_us) != epoch:
                raise ExpiredNextTokenException("The NextToken refers to a stream that no longer exists.")
            start_index = int(last_index) + 1
        else:
            stream = self.resolve_stream(caller, "ListShards", stream_name, stream_arn)
        if exclusive_start_shard_id is not None:
            start_index = max(start_index, _shard_index_after(exclusive_start_shard_id))
        visible = [s for s in stream.visible_shards() if s.index >= start_index]
        page = visible[: min(max_results, 1000)]
        token = None
        if len(visible) > len(page):
            token = encode_list_token("l1", caller.account_id, caller.region, stream.name, stream.epoch_us,
                                      page[-1].index, now_s=self.clock())
        return page, token


def _shard_index_after(shard_id: str) -> int:
    prefix = "shardId-"
    if shard_id.startswith(prefix) and shard_id[len(prefix):].isdecimal():
        return int(shard_id[len(prefix):]) + 1
    raise InvalidArgumentException(f"Invalid ExclusiveStartShardId {shard_id}.")


def _used_in_last_day(stream: Stream, times: list[float], now: float, quota: int, what: str) -> list[float]:
    """Those of ``times`` within the rolling 24 hours before ``now``; LimitExceededException
    when ``quota`` of them are used up already (UpdateShardCount, UpdateStreamMode)."""
    recent = [t for t in times if now - t < _DAY_S]
    if len(recent) >= quota:
        raise LimitExceededException(
            f"Stream {stream.name} under account {stream.account_id} has already {what} {len(recent)} "
            f"times in the last 24 hours. Limit: {quota}."
        )
    return recent
