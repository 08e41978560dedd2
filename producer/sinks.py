"""Where records go: a Kinesis stream (default), or -- for demo data without AWS -- a
JSON Lines file or stdout.

``--sink kinesis`` | ``--sink stdout`` | ``--sink file:PATH``. The file and stdout sinks
write each record's JSON document as one line, in the order batches complete, at the
same open-loop rate as Kinesis would get them (``--rate 1e6`` for "as fast as possible").
Every record written counts as ``sent``; the ledger, when asked for, lists them with an
empty shard and sequence number.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from streamload.core.ledger import LedgerWriter
from producer.outcomes import OutcomeTally
from producer.partition_keys import KeyedRecord
from producer.schedule import SendSlots

__all__ = ["RecordSink", "SinkSpec", "parse_sink", "LineSink"]


@dataclass(frozen=True)
class SinkSpec:
    kind: str  # kinesis | stdout | file
    path: Path | None = None

    def __str__(self) -> str:
        return f"file:{self.path}" if self.kind == "file" else self.kind


def parse_sink(text: str) -> SinkSpec:
    """``kinesis``, ``stdout`` or ``file:PATH``; ``ValueError`` (one line) otherwise."""
    kind, sep, arg = text.partition(":")
    if kind in ("kinesis", "stdout") and not sep:
        return SinkSpec(kind)
    if kind == "file" and arg:
        return SinkSpec("file", Path(arg))
    raise ValueError(f"bad sink {text!r}: use kinesis, stdout or file:PATH")


class RecordSink:
    """What every sink (``KinesisBatchSender``, ``LineSink``) holds: whose records it sends,
    the tally their outcomes go to, the slots that bound its concurrent writes, the ledger
    (optional), and the size above which a record is rejected unsent (None: no limit)."""

    def __init__(self, producer_id: str, tally: OutcomeTally, slots: SendSlots,
                 ledger: LedgerWriter | None, max_record_bytes: int | None) -> None:
        self.producer_id = producer_id
        self.tally = tally
        self.slots = slots
        self.ledger = ledger
        self.max_record_bytes = max_record_bytes

    def fitting(self, batch: list[KeyedRecord]) -> list[KeyedRecord]:
        """The records of ``batch`` within the size limit; the others count as rejected
        (reason ``oversize``) and are never sent."""
        limit = self.max_record_bytes
        if limit is None or all(r.size <= limit for r in batch):
            return batch
        self.tally.add_rejected([r.record.seq for r in batch if r.size > limit], "oversize")
        return [r for r in batch if r.size <= limit]


class LineSink(RecordSink):
    """Writes records as JSON lines to a binary stream; ``send`` has the sender's shape."""

    def __init__(self, out: IO[bytes], producer_id: str, tally: OutcomeTally, *,
                 slots: SendSlots | None = None, ledger: LedgerWriter | None = None,
                 max_record_bytes: int | None = None) -> None:
        super().__init__(producer_id, tally, slots or SendSlots(1), ledger, max_record_bytes)
        self.out = out

    @classmethod
    def open(cls, spec: SinkSpec, producer_id: str, tally: OutcomeTally, **kw) -> "LineSink":
        if spec.kind == "stdout":
            return cls(sys.stdout.buffer, producer_id, tally, **kw)
        assert spec.path is not None
        spec.path.parent.mkdir(parents=True, exist_ok=True)
        return cls(spec.path.open("wb"), producer_id, tally, **kw)

    async def send(self, batch: list[KeyedRecord]) -> None:
        batch = self.fitting(batch)
        if not batch:
            return
        async with self.slots.call([r.record.produced_at for r in batch]):
            self.out.write(b"".join(r.record.data + b"\n" for r in batch))
            self.out.flush()
        written_at = time.time()
        if self.ledger is not None:
            self.ledger.append([(r.record.event_id, self.producer_id, r.record.seq, "", "",
                                 r.record.produced_at, written_at) for r in batch])
        self.tally.add_sent(len(batch), sum(len(r.record.data) for r in batch))

    def close(self) -> None:
        if self.out is not sys.stdout.buffer:
            self.out.close()
