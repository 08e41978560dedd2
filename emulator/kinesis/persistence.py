"""``--data-dir``: a restarted server keeps its streams and records.

Layout::

    <data-dir>/catalog.json                       streams and shards (no records)
    <data-dir>/streams/<stream dir>/<shard>.<n>.seg  records, append-only, per shard

The catalog is small and rewritten whole on every control-plane change, atomically
(write a temporary file, ``os.replace``), so a crash leaves the old or the new one.

Records are durable before they are acknowledged: ``record_appended`` only queues a frame,
and the backend calls ``write_pending`` once per PutRecord(s) request, before it answers --
one ``write`` per shard the request touched, not one per record. A killed server (SIGKILL,
OOM) therefore keeps every record it acknowledged: the bytes are in the operating system's
page cache. ``fsync=True`` (``--fsync``) also syncs each write to disk before the answer,
for machine crashes and power loss; without it a machine crash can lose the last seconds.

Frame: ``>IQqIH`` -- a CRC32 of the rest of the frame, then the sequence-number offset in
the shard, arrival ms, data length and partition-key length -- then the key (UTF-8) and the
data. A write cut short by a crash leaves a torn last frame, and a machine crash can leave
garbage or zeros; loading stops at the first frame that is incomplete or fails its CRC,
logs how many bytes it discarded and cuts the file there, so later appends stay aligned.
Segments roll over at ``SEGMENT_BYTES``; retention deletes whole segments whose newest
record has expired (never the one being written, so the next sequence number survives a
restart).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .models import KinesisBackend
from .settings import KinesisSettings
from .streams import Shard, ShardHooksFactory, Stream

if TYPE_CHECKING:
    from .shards import StoredRecord

__all__ = ["DataDirectory", "SEGMENT_BYTES", "FRAME_HEADER_BYTES", "open_backend"]

SEGMENT_BYTES = 64 * 1024 * 1024
_CHECKSUM = struct.Struct(">I")
_FIELDS = struct.Struct(">QqIH")  # what the checksum covers, with the key and the data
FRAME_HEADER_BYTES = _CHECKSUM.size + _FIELDS.size
# Version 2: frames carry a CRC32. Version 1 directories (no checksums) are refused.
_CATALOG_VERSION = 2
_log = logging.getLogger(__name__)


@dataclass
class _Segment:
    path: Path
    newest_arrival_ms: int = -1
    size: int = 0  # bytes written to the file plus bytes queued for it


@dataclass
class _ShardFiles:
    directory: Path
    shard_index: int
    fsync: bool
    segments: list[_Segment] = field(default_factory=list)
    fd: int | None = None  # the last segment, opened O_APPEND, unbuffered
    pending: list[bytes] = field(default_factory=list)  # frames queued for the last segment
    pending_bytes: int = 0

    def current(self, frame_bytes: int) -> _Segment:
        """The segment the next frame goes to, rolling over when the last one is full."""
        if not self.segments or self.segments[-1].size >= SEGMENT_BYTES:
            self.write_pending()  # queued frames belong to the segment they were counted in
            self.close()
            number = int(self.segments[-1].path.name.split(".")[1]) + 1 if self.segments else 0
            self.segments.append(_Segment(self.directory / f"shard-{self.shard_index}.{number:08d}.seg"))
        segment = self.segments[-1]
        segment.size += frame_bytes
        return segment

    def write_pending(self) -> None:
        """Hand every queued frame to the operating system in one write (then fsync if
        asked). On failure the file is cut back to its last whole frame and the frames stay
        queued, so a later write retries them in order and no torn frame sits mid-file."""
        if not self.pending:
            return
        if self.fd is None:
            self._open_last_segment()
        data = b"".join(self.pending) if len(self.pending) > 1 else self.pending[0]
        on_disk = self.segments[-1].size - self.pending_bytes
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]
            if self.fsync:
                os.fdatasync(self.fd)
        except OSError:
            try:
                os.ftruncate(self.fd, on_disk)
            except OSError:
                _log.exception("could not cut %s back to %d bytes after a failed write", self.segments[-1].path, on_disk)
            raise
        self.pending.clear()
        self.pending_bytes = 0

    def _open_last_segment(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.segments[-1].path
        created = not path.exists()
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if created and self.fsync:
            _fsync_directory(self.directory)  # the new file's name survives a machine crash too

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stream_dir_name(stream: Stream) -> str:
    return f"{stream.account_id}.{stream.region}.{stream.name}.{stream.epoch_us}"


def encode_frame(sequence_offset: int, arrival_ms: int, partition_key: str, data: bytes) -> bytes:
    key = partition_key.encode("utf-8")
    fields = _FIELDS.pack(sequence_offset, arrival_ms, len(data), len(key))
    checksum = zlib.crc32(data, zlib.crc32(key, zlib.crc32(fields)))
    return b"".join((_CHECKSUM.pack(checksum), fields, key, data))


def decode_frames(raw: bytes):
    """Yield ``(end offset, sequence offset, arrival ms, key, data)`` for each whole frame
    whose checksum matches, stopping at the first that is incomplete or does not match."""
    offset = 0
    while offset + FRAME_HEADER_BYTES <= len(raw):
        (checksum,) = _CHECKSUM.unpack_from(raw, offset)
        fields_at = offset + _CHECKSUM.size
        seq_offset, arrival_ms, data_len, key_len = _FIELDS.unpack_from(raw, fields_at)
        key_at = fields_at + _FIELDS.size
        end = key_at + key_len + data_len
        if end > len(raw):
            return
        body = memoryview(raw)[fields_at:end]
        if zlib.crc32(body) != checksum:
            return
        key = raw[key_at:key_at + key_len]
        try:
            partition_key = key.decode("utf-8")
        except UnicodeDecodeError:
            return
        yield end, seq_offset, arrival_ms, partition_key, raw[key_at + key_len:end]
        offset = end


class DataDirectory:
    def __init__(self, root: Path, settings: KinesisSettings) -> None:
        self.root = Path(root)
        self.settings = settings
        self.root.mkdir(parents=True, exist_ok=True)
        self._files: dict[tuple[int, int], _ShardFiles] = {}  # (id(stream), shard index)
        self._dirty: dict[int, _ShardFiles] = {}  # id(files) -> files with queued frames

    # ---- writing ----------------------------------------------------------------------

    def _shard_files(self, stream: Stream, shard: Shard) -> _ShardFiles:
        key = (id(stream), shard.index)
        files = self._files.get(key)
        if files is None:
            directory = self.root / "streams" / _stream_dir_name(stream)
            files = self._files[key] = _ShardFiles(directory, shard.index, self.settings.fsync)
        return files

    def record_appended(self, stream: Stream, shard: Shard, record: "StoredRecord") -> None:
        """Queue the record's frame; ``write_pending`` writes it before the put is answered."""
        files = self._shard_files(stream, shard)
        frame = encode_frame(record.sequence_number - shard.starting_sequence_number, record.arrival_ms,
                             record.partition_key, record.data)
        segment = files.current(len(frame))
        files.pending.append(frame)
        files.pending_bytes += len(frame)
        segment.newest_arrival_ms = record.arrival_ms
        self._dirty[id(files)] = files

    def write_pending(self) -> None:
        """Write every queued frame: one write per shard file (plus fsync with ``fsync``).
        Called once per put request, before its answer; raises OSError if the disk refuses,
        so the put fails instead of acknowledging records that are not written."""
        while self._dirty:
            _, files = self._dirty.popitem()
            try:
                files.write_pending()
            except OSError:
                self._dirty[id(files)] = files  # retried with the next request's frames
                raise

    def flush(self) -> None:
        """The periodic housekeeping job: a retry of anything a failed write left queued."""
        self.write_pending()

    def close(self) -> None:
        try:
            self.write_pending()
        finally:
            for files in self._files.values():
                files.close()

    def trimmed(self, stream: Stream, cutoff_ms: int) -> None:
        for shard in stream.shards:
            files = self._files.get((id(stream), shard.index))
            if files is None:
                continue
            while len(files.segments) > 1 and files.segments[0].newest_arrival_ms < cutoff_ms:
                files.segments.pop(0).path.unlink(missing_ok=True)

    def stream_deleted(self, stream: Stream) -> None:
        for shard in stream.shards:
            files = self._files.pop((id(stream), shard.index), None)
            if files is not None:
                self._dirty.pop(id(files), None)
                files.close()
        shutil.rmtree(self.root / "streams" / _stream_dir_name(stream), ignore_errors=True)

    def write_catalog(self, streams: list[Stream]) -> None:
        catalog = {"version": _CATALOG_VERSION, "streams": [_stream_entry(s) for s in streams]}
        target = self.root / "catalog.json"
        temporary = target.with_suffix(".json.tmp")
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(catalog, out)
            out.flush()
            if self.settings.fsync:
                os.fsync(out.fileno())
        os.replace(temporary, target)
        if self.settings.fsync:
            _fsync_directory(self.root)

    # ---- loading ----------------------------------------------------------------------

    def load(self, shard_hooks: ShardHooksFactory) -> list[Stream]:
        """The streams of the catalog with every whole record of their segments."""
        path = self.root / "catalog.json"
        if not path.exists():
            return []
        catalog = json.loads(path.read_text(encoding="utf-8"))
        version = catalog.get("version")
        if version != _CATALOG_VERSION:
            raise ValueError(f"{path}: catalog version {version!r}, this server reads version {_CATALOG_VERSION} "
                             "(records with checksums); use a new --data-dir")
        streams = [_stream_from_entry(entry, shard_hooks) for entry in catalog["streams"]]
        for stream in streams:
            for shard in stream.shards:
                self._load_shard(stream, shard)
        return streams

    def _load_shard(self, stream: Stream, shard: Shard) -> None:
        files = self._shard_files(stream, shard)
        if not files.directory.exists():
            return
        for path in sorted(files.directory.glob(f"shard-{shard.index}.*.seg")):
            segment = _Segment(path)
            raw = path.read_bytes()
            for end, seq_offset, arrival_ms, key, data in decode_frames(raw):
                shard.log.restore(shard.starting_sequence_number + seq_offset, key, data, arrival_ms)
                segment.newest_arrival_ms = arrival_ms
                segment.size = end
            if segment.size < len(raw):  # a torn or corrupt tail: cut it so appends stay aligned
                _log.warning("kinesis data dir: %s: discarded %d bytes after the last whole frame (offset %d): "
                             "a write cut short by a crash, or corruption", path, len(raw) - segment.size, segment.size)
                with open(path, "r+b") as torn:
                    torn.truncate(segment.size)
            files.segments.append(segment)


def _stream_entry(stream: Stream) -> dict:
    return {
        "name": stream.name,
        "account_id": stream.account_id,
        "region": stream.region,
        "mode": stream.mode,
        "retention_hours": stream.retention_hours,
        "created_at": stream.created_at,
        "epoch_us": stream.epoch_us,
        "active_at": stream.active_at,
        "max_record_bytes": stream.max_record_bytes,
        "shard_count_updates": stream.shard_count_updates,
        "mode_switches": stream.mode_switches,
        "shards": [
            {
                "index": s.index,
                "starting_hash_key": str(s.starting_hash_key),
                "ending_hash_key": str(s.ending_hash_key),
                "parent_shard_id": s.parent_shard_id,
                "adjacent_parent_shard_id": s.adjacent_parent_shard_id,
                "ending_sequence_number": None if s.ending_sequence_number is None else str(s.ending_sequence_number),
                "closed_at_ms": s.closed_at_ms,
                "expired": s.expired,
            }
            for s in stream.shards
        ],
    }


def _stream_from_entry(entry: dict, shard_hooks: ShardHooksFactory) -> Stream:
    stream = Stream(
        name=entry["name"],
        account_id=entry["account_id"],
        region=entry["region"],
        mode=entry["mode"],
        retention_hours=entry["retention_hours"],
        created_at=entry["created_at"],
        epoch_us=entry["epoch_us"],
        active_at=entry["active_at"],
        max_record_bytes=entry["max_record_bytes"],
        shard_count_updates=list(entry["shard_count_updates"]),
        mode_switches=list(entry.get("mode_switches", [])),
    )
    for item in entry["shards"]:
        shard = stream.add_shard(
            int(item["starting_hash_key"]),
            int(item["ending_hash_key"]),
            shard_hooks,
            (item["parent_shard_id"], item["adjacent_parent_shard_id"]),
        )
        assert shard.index == item["index"], "catalog shards out of order"
        ending = item["ending_sequence_number"]
        shard.ending_sequence_number = None if ending is None else int(ending)
        shard.closed_at_ms = item["closed_at_ms"]
        shard.expired = item["expired"]
    stream.index_open_shards()
    return stream


def open_backend(settings: KinesisSettings | None = None, *, clock: Callable[[], float] = time.time,
                 shard_hooks: ShardHooksFactory | None = None) -> KinesisBackend:
    """A backend for ``settings``: with ``data_dir``, journaled there (and restored from it)."""
    settings = settings or KinesisSettings()
    journal = DataDirectory(settings.data_dir, settings) if settings.data_dir is not None else None
    return KinesisBackend(settings, clock=clock, shard_hooks=shard_hooks, journal=journal)
