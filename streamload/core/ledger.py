"""The compact ledger: what one producer did with every record it generated, as seq ranges.

A producer stamps each record with ``run_id``, ``producer_id`` and a ``seq`` that is gap-free
over what it generated, so the ledger keeps *ranges* (acknowledged, expired, rejected by
reason) and counters, never a line per record: its size follows the ranges, not the records.
Beside them: per shard the acknowledged count and the first/last Kinesis sequence numbers (for
loss diagnosis), acknowledgements per second (for the report), and an HdrHistogram of the put
stage (acked_at - produced_at).

On disk (``LedgerWriter``), crash-safe without fsync on every write:
- ``<path>``: a JSON snapshot, replaced atomically (temporary file + rename) about once a second
  and at the end; it names its write-ahead generation ``wal``;
- ``<path>.wal.<wal>``: one JSON line per acknowledged batch since that snapshot (ranges only),
  written and flushed before the producer counts the batch as sent. Replaying it is idempotent
  (unions of ranges, maxima), and a torn last line is ignored.
A reader (``read_ledger``) loads the snapshot and replays its generation's WAL, so after a
SIGKILL the ledger holds every batch whose acknowledgement was recorded; records generated but
in none of the ranges were in flight (``unknown outcome``, never counted as lost by Kinesis).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable

import orjson
from hdrh.histogram import HdrHistogram

from streamload.core.atomic_write import write_atomically
from streamload.core.histograms import decode_histogram, encode_histogram, new_latency_histogram
from streamload.core.producer_summary import ProducerSummary, summary_path_for, write_summary
from streamload.core.seqranges import SeqRanges

__all__ = ["LEDGER_FORMAT", "LedgerEntry", "ProducerLedger", "LedgerWriter", "planned_producer_id", "read_ledger"]

LEDGER_FORMAT = "streamload-ledger/2"
SNAPSHOT_EVERY_S = 1.0
MAX_BUCKETS = 1024

LedgerEntry = tuple[str, str, int, str, str, float, float]
"""One acknowledged record: (event_id, producer_id, seq, shard_id, sequence_number, produced_at, acked_at)."""


@dataclass
class ProducerLedger:
    """One producer's ledger (the state ``LedgerWriter`` keeps and ``read_ledger`` returns)."""

    producer_id: str = ""
    run_id: str = ""
    generated: int = 0  # seqs 0 .. generated-1 were generated
    acked: SeqRanges = field(default_factory=SeqRanges)
    expired: SeqRanges = field(default_factory=SeqRanges)
    rejected: dict[str, SeqRanges] = field(default_factory=dict)
    # shard id -> {"acked": n, "first": sequence number, "last": sequence number}
    shards: dict[str, dict] = field(default_factory=dict)
    # What happened over time: kind (acked, throttled, retried, late) -> bucket start (epoch s, a
    # multiple of bucket_s) -> count. Buckets double in width past MAX_BUCKETS, so an hours-long
    # run keeps a small ledger. Only acked is in the WAL's ranges; these are as of the snapshot.
    timeline: dict[str, dict[int, int]] = field(default_factory=dict)
    bucket_s: int = 1
    put: HdrHistogram = field(default_factory=new_latency_histogram)
    done: bool = False
    updated_at: float = 0.0
    wal: int = 0

    @property
    def unknown(self) -> SeqRanges:
        """Generated seqs with no recorded outcome: in flight when the producer stopped."""
        known = SeqRanges(self.acked)
        known.update(self.expired)
        for ranges in self.rejected.values():
            known.update(ranges)
        out, cursor = SeqRanges(), 0
        for first, last in known:
            if first > cursor:
                out.add(cursor, min(first, self.generated) - 1)
            cursor = max(cursor, last + 1)
        if cursor < self.generated:
            out.add(cursor, self.generated - 1)
        return out

    @property
    def acked_per_second(self) -> dict[int, int]:
        return self.timeline.get("acked", {})

    def count_event(self, kind: str, at: float, count: int = 1) -> None:
        width = self.bucket_s
        series = self.timeline.setdefault(kind, {})
        bucket = int(at) // width * width
        series[bucket] = series.get(bucket, 0) + count
        if len(series) > MAX_BUCKETS:
            self.bucket_s = width = width * 2
            for name, buckets in self.timeline.items():
                merged: dict[int, int] = {}
                for start, n in buckets.items():
                    merged[start // width * width] = merged.get(start // width * width, 0) + n
                self.timeline[name] = merged

    def apply(self, line: dict) -> None:
        """One WAL line (also how the writer updates itself): idempotent."""
        self.generated = max(self.generated, int(line.get("g", 0)))
        for first, last in line.get("a", ()):
            self.acked.add(first, last)
        for first, last in line.get("e", ()):
            self.expired.add(first, last)
        for reason, ranges in (line.get("r") or {}).items():
            target = self.rejected.setdefault(reason, SeqRanges())
            for first, last in ranges:
                target.add(first, last)
        for shard, (count, first, last) in (line.get("s") or {}).items():
            known = self.shards.setdefault(shard, {"acked": 0, "first": first, "last": last})
            known["acked"] = max(known["acked"], count)
            known["first"] = min(known["first"], first, key=_seq_key)
            known["last"] = max(known["last"], last, key=_seq_key)

    def to_json(self) -> dict:
        return {
            "format": LEDGER_FORMAT, "producer_id": self.producer_id, "run_id": self.run_id,
            "generated": self.generated, "acked": self.acked.to_json(), "expired": self.expired.to_json(),
            "rejected": {k: v.to_json() for k, v in self.rejected.items()}, "shards": self.shards,
            "timeline": {kind: {str(k): v for k, v in sorted(b.items())} for kind, b in self.timeline.items()},
            "bucket_s": self.bucket_s,
            "put_histogram": encode_histogram(self.put), "done": self.done, "updated_at": self.updated_at,
            "wal": self.wal,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ProducerLedger":
        if data.get("format") != LEDGER_FORMAT:
            raise ValueError(f"not a {LEDGER_FORMAT} ledger (format {data.get('format')!r})")
        return cls(
            producer_id=data.get("producer_id", ""), run_id=data.get("run_id", ""),
            generated=int(data.get("generated", 0)), acked=SeqRanges.from_json(data.get("acked")),
            expired=SeqRanges.from_json(data.get("expired")),
            rejected={k: SeqRanges.from_json(v) for k, v in (data.get("rejected") or {}).items()},
            shards=dict(data.get("shards") or {}),
            timeline={kind: {int(k): int(v) for k, v in b.items()} for kind, b in (data.get("timeline") or {}).items()},
            bucket_s=int(data.get("bucket_s", 1)),
            put=decode_histogram(data.get("put_histogram")) or new_latency_histogram(),
            done=bool(data.get("done")), updated_at=float(data.get("updated_at", 0.0)), wal=int(data.get("wal", 0)),
        )


def planned_producer_id(path: Path) -> str:
    """``ledger-pod-1.json`` -> ``pod-1`` (how ``streamload run``/``plan`` name ledgers)."""
    return Path(path).name.removeprefix("ledger-").removesuffix(".json")


def _seq_key(sequence_number: str) -> tuple[int, str]:
    return (len(sequence_number), sequence_number)  # numeric order of decimal strings


def _wal_path(path: Path, generation: int) -> Path:
    return path.with_name(f"{path.name}.wal.{generation}")


def read_ledger(path: Path) -> ProducerLedger | None:
    """The ledger at ``path`` (snapshot + its WAL), or None if the producer never wrote one."""
    path = Path(path)
    try:
        ledger = ProducerLedger.from_json(orjson.loads(path.read_bytes()))
    except FileNotFoundError:
        return None
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a ledger ({exc})") from None
    try:
        with _wal_path(path, ledger.wal).open("rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return ledger
    for line in data[:data.rfind(b"\n") + 1].splitlines():  # whole lines only: the last may be torn
        if line.strip():
            ledger.apply(orjson.loads(line))
    return ledger


class LedgerWriter:
    """Keeps one producer's ledger at ``path`` (anything there before is replaced)."""

    def __init__(self, path: Path, producer_id: str = "", run_id: str = "",
                 clock=time.time, snapshot_every_s: float = SNAPSHOT_EVERY_S) -> None:
        self.path = Path(path)
        self.summary_path = summary_path_for(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.summary_path.unlink(missing_ok=True)
        for stale in self.path.parent.glob(f"{self.path.name}.wal.*"):
            stale.unlink(missing_ok=True)
        self.state = ProducerLedger(producer_id=producer_id, run_id=run_id)
        self._clock = clock
        self._snapshot_every_s = snapshot_every_s
        self._wal: IO[bytes] | None = None
        self._snapshot()

    def generated(self, next_seq: int) -> None:
        """Seqs below ``next_seq`` have been generated (recorded with the next WAL line)."""
        self.state.generated = max(self.state.generated, next_seq)

    def append(self, entries: list[LedgerEntry]) -> None:
        """Acknowledged records; written through to the operating system before returning."""
        if not entries:
            return
        state = self.state
        acked = SeqRanges()
        acked.add_all(entry[2] for entry in entries)
        seconds: dict[int, int] = {}
        by_shard: dict[str, list[str]] = {}
        record_put = state.put.record_value
        for _event_id, _producer, _seq, shard_id, sequence_number, produced_at, acked_at in entries:
            record_put(max(int((acked_at - produced_at) * 1e6), 1))
            second = int(acked_at)  # a batch shares one acknowledgement time: one bucket, once
            seconds[second] = seconds.get(second, 0) + 1
            if shard_id and sequence_number:
                by_shard.setdefault(shard_id, []).append(sequence_number)
        for second, count in seconds.items():
            state.count_event("acked", second, count)
        shards = {}
        for shard_id, numbers in by_shard.items():
            known = state.shards.get(shard_id)
            first, last = min(numbers, key=_seq_key), max(numbers, key=_seq_key)
            if known:
                first, last = min(first, known["first"], key=_seq_key), max(last, known["last"], key=_seq_key)
            state.shards[shard_id] = shards[shard_id] = {
                "acked": (known["acked"] if known else 0) + len(numbers), "first": first, "last": last}
        line = {"g": state.generated, "a": acked.to_json(),
                "s": {k: [v["acked"], v["first"], v["last"]] for k, v in shards.items()}}
        self._log(line)

    def count(self, kind: str, count: int) -> None:
        """Something that happened now, for the report's timeline (throttled, retried, late)."""
        if count:
            self.state.count_event(kind, self._clock(), count)

    def expired(self, seqs: Iterable[int]) -> None:
        ranges = SeqRanges()
        ranges.add_all(seqs)
        if len(ranges):
            self._log({"g": self.state.generated, "e": ranges.to_json()})

    def rejected(self, seqs: Iterable[int], reason: str) -> None:
        ranges = SeqRanges()
        ranges.add_all(seqs)
        if len(ranges):
            self._log({"g": self.state.generated, "r": {reason: ranges.to_json()}})

    def _log(self, line: dict) -> None:
        self.state.apply(line)
        if self._wal is None:
            return
        self._wal.write(orjson.dumps(line) + b"\n")
        self._wal.flush()  # reaches the OS: survives the process, not the machine
        if self._clock() - self.state.updated_at >= self._snapshot_every_s:
            self._snapshot()

    def _snapshot(self) -> None:
        """Write the whole state under a new WAL generation, then start that generation's WAL."""
        old = self.state.wal
        self.state.wal = old + 1
        self.state.updated_at = self._clock()
        write_atomically(self.path, orjson.dumps(self.state.to_json()))
        if self._wal is not None:
            self._wal.close()
        _wal_path(self.path, old).unlink(missing_ok=True)
        self._wal = None if self.state.done else _wal_path(self.path, self.state.wal).open("wb")

    def write_summary(self, summary: ProducerSummary) -> None:
        """The producer's summary beside the ledger."""
        write_summary(self.summary_path, summary)

    def close(self) -> None:
        if self._wal is not None:
            self.state.done = True
            self._snapshot()

    def __enter__(self) -> "LedgerWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
