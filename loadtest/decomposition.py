"""End-to-end latency of each record, split into stages.

For one record (all timestamps epoch seconds, converted to whole microseconds first so the
stages add up exactly):

- ``put``         = acked_at − produced_at (the producer's ledger: PutRecords acknowledged);
- ``arrival``     = approximate_arrival_timestamp − produced_at (Kinesis stamped it);
- ``refresh_lag`` = refresh_time − arrival, where refresh_time is the view's own column:
                    when the REFRESH that ingested the record ran;
- ``visibility``  = first seen by a query − refresh_time (the probe's polling cadence and
                    its query's own time);
- ``total``       = first seen − produced_at.

``arrival + refresh_lag + visibility == total`` for every record. ``put`` runs alongside
``arrival`` (Kinesis stamps the record before the producer receives the ack), so it is
shown next to the chain, not added to it.

Which REFRESH ingested a record: the view's ``refresh_time`` column says so for every row
(streamload's view selects it; Kinesis streaming sources provide it), so the stages come
straight from the row the probe samples, and the whole population's from SQL at the end.

Timestamps come from three clocks (producer host, Kinesis, Redshift). A stage can come out
negative when those clocks disagree; HdrHistograms cannot hold negatives, so such values
are recorded as 0 and counted per stage (``negative``), which says how far to trust the
split. Histograms from several processes merge by addition, never by averaging.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Iterable

from hdrh.histogram import HdrHistogram

from streamload.core.histograms import (
    HIGHEST_US,
    LOWEST_US,
    decode_histogram,
    encode_histogram,
    new_latency_histogram,
)

__all__ = ["CHAIN", "STAGES", "RecordStages", "StageHistograms", "decompose", "to_us",
           "merge_stage_json"]

CHAIN = ("arrival", "refresh_lag", "visibility")  # these sum to total
STAGES = ("put", *CHAIN, "total")

PERCENTILES = (50, 95, 99)


def to_us(epoch_s: float) -> int:
    return round(epoch_s * 1_000_000)


@dataclass(frozen=True)
class RecordStages:
    """One record's stages in whole microseconds; ``None`` where a timestamp is unknown."""

    total: int
    put: int | None = None
    arrival: int | None = None
    refresh_lag: int | None = None
    visibility: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in STAGES}


def decompose(produced_at: float, seen_at: float, acked_at: float | None = None,
              arrival_at: float | None = None, refresh_at: float | None = None) -> RecordStages:
    """The stages of one record from its timestamps (epoch seconds)."""
    produced, seen = to_us(produced_at), to_us(seen_at)
    arrival = to_us(arrival_at) if arrival_at else None
    refresh = to_us(refresh_at) if refresh_at else None
    return RecordStages(
        total=seen - produced,
        put=to_us(acked_at) - produced if acked_at else None,
        arrival=arrival - produced if arrival is not None else None,
        refresh_lag=refresh - arrival if refresh is not None and arrival is not None else None,
        visibility=seen - refresh if refresh is not None else None,
    )


class StageHistograms:
    """One HdrHistogram per stage, plus how many values were negative (clock skew)."""

    def __init__(self) -> None:
        self.histograms: dict[str, HdrHistogram] = {name: new_latency_histogram() for name in STAGES}
        self.negative: dict[str, int] = {name: 0 for name in STAGES}

    def record(self, stage: str, value_us: int) -> None:
        if value_us < 0:
            self.negative[stage] += 1
        self.histograms[stage].record_value(min(max(value_us, LOWEST_US), HIGHEST_US))

    def record_stages(self, stages: RecordStages, skip: Iterable[str] = ()) -> None:
        for name, value in stages.as_dict().items():
            if value is not None and name not in skip:
                self.record(name, value)

    def add(self, other: "StageHistograms") -> None:
        for name in STAGES:
            self.histograms[name].add(other.histograms[name])
            self.negative[name] += other.negative[name]

    def to_json(self) -> dict[str, Any]:
        """Per stage: count, negatives, p50/p95/p99/max in ms, and the encoded histogram."""
        out: dict[str, Any] = {}
        for name in STAGES:
            hist = self.histograms[name]
            count = hist.get_total_count()
            entry: dict[str, Any] = {"count": count, "negative": self.negative[name]}
            for q in PERCENTILES:
                entry[f"p{q}_ms"] = hist.get_value_at_percentile(q) / 1000.0 if count else None
            entry["max_ms"] = hist.get_max_value() / 1000.0 if count else None
            entry["histogram"] = encode_histogram(hist)
            out[name] = entry
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StageHistograms":
        out = cls()
        for name in STAGES:
            entry = (data or {}).get(name) or {}
            decoded = decode_histogram(entry.get("histogram"))
            if decoded is not None:
                out.histograms[name].add(decoded)
            out.negative[name] += int(entry.get("negative", 0))
        return out


def merge_stage_json(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Stage histograms from several processes, merged by histogram addition."""
    merged = StageHistograms()
    for part in parts:
        if part:
            merged.add(StageHistograms.from_json(part))
    return merged.to_json()
