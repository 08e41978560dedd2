"""What ``KinesisBackend`` calls on its persistence: a journal handed to it (``persistence.
DataDirectory`` with ``--data-dir``; none keeps everything in memory). The backend decides when
(records before a put is answered, the catalog on every control-plane change); the journal
decides how, and never reaches into the backend."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .streams import Shard, ShardHooksFactory, Stream

if TYPE_CHECKING:
    from .shards import StoredRecord

__all__ = ["Journal"]


class Journal(Protocol):
    def load(self, shard_hooks: ShardHooksFactory) -> list[Stream]:
        """The streams (with their records) kept by an earlier server, shards built with ``shard_hooks``."""

    def record_appended(self, stream: Stream, shard: Shard, record: "StoredRecord") -> None:
        """Queue one accepted record; ``write_pending`` makes it durable."""

    def write_pending(self) -> None:
        """Write every queued record; called once per put request, before it is answered."""

    def write_catalog(self, streams: list[Stream]) -> None:
        """Keep the streams and shards (not records) after a control-plane change."""

    def stream_deleted(self, stream: Stream) -> None: ...

    def trimmed(self, stream: Stream, cutoff_ms: int) -> None:
        """Records older than ``cutoff_ms`` left the stream (retention)."""

    def flush(self) -> None: ...

    def close(self) -> None: ...
