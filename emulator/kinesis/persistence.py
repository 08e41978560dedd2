"""``--data-dir``: a restarted server keeps its streams and records.

Layout::

    <data-dir>/catalog.json                       streams and shards (no records)
    <data-dir>/streams/<stream dir>/<shard>.<n>.seg  records, append-only, per shard

The catalog is small and rewritten whole on every control-plane change, atomically
(write a temporary file, ``os.replace``), so a crash leaves the old or the new one. Records
go to per-shard segment files through a 1 MiB buffer -- a put costs one buffered
``write`` -- flushed every ``flush_interval_s`` and at shutdown (``fsync`` optional).
A crash can lose the last unflushed interval and leave a torn last frame; loading stops
at the first incomplete frame and cuts the file there, so later appends stay aligned.

Frame: ``>QqIH`` (sequence-number offset in the shard, arrival ms, data length,
partition-key length), then the key (UTF-8) and the data. Segments roll over at
``SEGMENT_BYTES``; retention deletes whole segments whose newest record has expired
(never the one being written, so the next sequence number survives a restart).
"""
from __future__ import annotations

import json
import os
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .settings import KinesisSettings
from .shards import StoredRecord
from .streams import Shard, Stream

if TYPE_CHECKING:
    from .models import KinesisBackend

__all__ = ["DataDirectory", "SEGMENT_BYTES"]

SEGMENT_BYTES = 64 * 1024 * 1024
_FRAME = struct.Struct(">QqIH")
_CATALOG_VERSION = 1


@dataclass
class _Segment:
    path: Path
    newest_arrival_ms: int = -1
    size: int = 0


@dataclass
class _ShardFiles:
    directory: Path
    shard_index: int
    segments: list[_Segment] = field(default_factory=list)
    writer: IO[bytes] | None = None

    def current(self) -> _Segment:
        if not self.segments or self.segments[-1].size >= SEGMENT_BYTES:
            if self.writer is not None:
                self.writer.close()
            number = int(self.segments[-1].path.name.split(".")[1]) + 1 if self.segments else 0
            self.segments.append(_Segment(self.directory / f"shard-{self.shard_index}.{number:08d}.seg"))
            self.writer = None
        if self.writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.writer = open(self.segments[-1].path, "ab", buffering=1024 * 1024)
        return self.segments[-1]


def _stream_dir_name(stream: Stream) -> str:
    return f"{stream.account_id}.{stream.region}.{stream.name}.{stream.epoch_us}"


class DataDirectory:
    def __init__(self, root: Path, settings: KinesisSettings) -> None:
        self.root = Path(root)
        self.settings = settings
        self.root.mkdir(parents=True, exist_ok=True)
        self._files: dict[tuple[int, int], _ShardFiles] = {}  # (id(stream), shard index)

    # ---- writing ----------------------------------------------------------------------

    def _shard_files(self, stream: Stream, shard: Shard) -> _ShardFiles:
        key = (id(stream), shard.index)
        files = self._files.get(key)
        if files is None:
            files = self._files[key] = _ShardFiles(self.root / "streams" / _stream_dir_name(stream), shard.index)
        return files

    def record_appended(self, stream: Stream, shard: Shard, record: StoredRecord) -> None:
        files = self._shard_files(stream, shard)
        segment = files.current()
        key = record.partition_key.encode("utf-8")
        frame = _FRAME.pack(
            record.sequence_number - shard.starting_sequence_number, record.arrival_ms, len(record.data), len(key)
        )
        files.writer.write(frame + key + record.data)
        segment.size += _FRAME.size + len(key) + len(record.data)
        segment.newest_arrival_ms = record.arrival_ms

    def flush(self) -> None:
        for files in self._files.values():
            if files.writer is not None:
                files.writer.flush()
                if self.settings.fsync:
                    os.fsync(files.writer.fileno())

    def close(self) -> None:
        self.flush()
        for files in self._files.values():
            if files.writer is not None:
                files.writer.close()
                files.writer = None

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
            if files is not None and files.writer is not None:
                files.writer.close()
        shutil.rmtree(self.root / "streams" / _stream_dir_name(stream), ignore_errors=True)

    def write_catalog(self, backend: "KinesisBackend") -> None:
        catalog = {"version": _CATALOG_VERSION, "streams": [_stream_entry(s) for s in backend.all_streams()]}
        target = self.root / "catalog.json"
        temporary = target.with_suffix(".json.tmp")
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(catalog, out)
            out.flush()
            if self.settings.fsync:
                os.fsync(out.fileno())
        os.replace(temporary, target)

    # ---- loading ----------------------------------------------------------------------

    def load_into(self, backend: "KinesisBackend") -> None:
        path = self.root / "catalog.json"
        if not path.exists():
            return
        catalog = json.loads(path.read_text(encoding="utf-8"))
        if catalog.get("version") != _CATALOG_VERSION:
            raise ValueError(f"{path}: unsupported catalog version {catalog.get('version')!r}")
        for entry in catalog["streams"]:
            stream = _stream_from_entry(entry, backend)
            backend.streams_in(stream.account_id, stream.region)[stream.name] = stream
            for shard in stream.shards:
                self._load_shard(stream, shard)
        backend.trim_expired_records()

    def _load_shard(self, stream: Stream, shard: Shard) -> None:
        files = self._shard_files(stream, shard)
        if not files.directory.exists():
            return
        paths = sorted(files.directory.glob(f"shard-{shard.index}.*.seg"))
        for path in paths:
            segment = _Segment(path)
            raw = path.read_bytes()
            offset = 0
            while offset + _FRAME.size <= len(raw):
                seq_offset, arrival_ms, data_len, key_len = _FRAME.unpack_from(raw, offset)
                end = offset + _FRAME.size + key_len + data_len
                if end > len(raw):
                    break
                body = offset + _FRAME.size
                key = raw[body : body + key_len].decode("utf-8")
                shard.log.restore(shard.starting_sequence_number + seq_offset, key, raw[body + key_len : end], arrival_ms)
                segment.newest_arrival_ms = arrival_ms
                offset = end
            if offset < len(raw):  # a torn frame from a crash: cut it off
                with open(path, "r+b") as torn:
                    torn.truncate(offset)
            segment.size = offset
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


def _stream_from_entry(entry: dict, backend: "KinesisBackend") -> Stream:
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
            backend.shard_hooks,
            (item["parent_shard_id"], item["adjacent_parent_shard_id"]),
        )
        assert shard.index == item["index"], "catalog shards out of order"
        ending = item["ending_sequence_number"]
        shard.ending_sequence_number = None if ending is None else int(ending)
        shard.closed_at_ms = item["closed_at_ms"]
        shard.expired = item["expired"]
    stream.index_open_shards()
    return stream



