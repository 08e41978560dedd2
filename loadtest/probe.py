"""The probe: finds produced records in the materialized view and measures how long each
took to become queryable.

Every record carries ``event_id`` and ``produced_at`` (its intended send time), so the
probe needs nothing from the producer to measure latency; it reads the producer's ledger
(JSONL, growing) only to know what is still missing and when everything has arrived.

Each record seen is also split into stages (``loadtest/decomposition.py``): the probe
reads ``approximate_arrival_timestamp`` with it, the ledger's ``acked_at`` gives the put
stage, and ``SYS_MV_REFRESH_HISTORY`` the refresh that made it visible. A record waits in
``pending_refresh`` until the history shows that refresh.

Rows reach the view out of arrival order (a refresh reads shards one after another), so
each probe query re-reads ``slack_s`` of history behind the newest arrival already seen;
rows seen again are recognised by ``event_id`` and do not count twice.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import orjson
from hdrh.histogram import HdrHistogram

from loadtest.decomposition import (
    DIGITS,
    HIGHEST_US,
    LOWEST_US,
    RecordStages,
    RefreshTimeline,
    StageHistograms,
    decompose,
)

__all__ = ["LedgerFollower", "ProbeState", "new_latency_histogram", "parse_redshift_timestamp"]

# Microsecond resolution, up to one hour, 3 significant digits (shared with the stages).
HIST_LOWEST_US, HIST_HIGHEST_US, HIST_DIGITS = LOWEST_US, HIGHEST_US, DIGITS


def new_latency_histogram() -> HdrHistogram:
    return HdrHistogram(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_DIGITS)


def parse_redshift_timestamp(text: str) -> float:
    """``2024-05-01 12:00:00.123456`` (UTC, as the Data API returns TIMESTAMP) to epoch s."""
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()


def format_redshift_timestamp(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _super_text(value: Any) -> Any:
    """A SUPER value arrives as JSON text (a string keeps its quotes): decode it."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


@dataclass
class LedgerFollower:
    """Reads the producer ledgers as they grow; knows when every producer has finished."""

    ledger_paths: list[Path]
    expected: dict[str, float] = field(default_factory=dict)  # event_id -> produced_at
    acked: dict[str, float] = field(default_factory=dict)  # event_id -> acked_at
    _offsets: dict[Path, int] = field(default_factory=dict)

    def poll(self) -> list[tuple[str, float, float | None]]:
        """Read what the ledgers gained; returns the new (event_id, produced_at, acked_at)."""
        new: list[tuple[str, float, float | None]] = []
        for path in self.ledger_paths:
            if not path.exists():
                continue
            with path.open("rb") as fh:
                fh.seek(self._offsets.get(path, 0))
                data = fh.read()
            # Only whole lines: a line being written now is read next time.
            end = data.rfind(b"\n") + 1
            for line in data[:end].splitlines():
                if line.strip():
                    rec = orjson.loads(line)
                    event_id, produced = rec["event_id"], float(rec["produced_at"])
                    acked = float(rec["acked_at"]) if rec.get("acked_at") else None
                    self.expected[event_id] = produced
                    if acked is not None:
                        self.acked[event_id] = acked
                    new.append((event_id, produced, acked))
            self._offsets[path] = self._offsets.get(path, 0) + end
        return new

    def summaries(self) -> list[dict[str, Any]]:
        out = []
        for path in self.ledger_paths:
            summary = path.with_name(path.name + ".summary.json")
            if summary.exists():
                try:
                    out.append(json.loads(summary.read_text()))
                except json.JSONDecodeError:  # being written right now
                    pass
        return out

    def producers_done(self) -> bool:
        summaries = self.summaries()
        return len(summaries) == len(self.ledger_paths) and all(s.get("done") for s in summaries)


@dataclass
class ProbeState:
    run_started_at: float
    slack_s: float = 10.0
    first_seen: dict[str, float] = field(default_factory=dict)
    max_copies: dict[str, int] = field(default_factory=dict)
    newest_arrival: float = 0.0
    e2e: HdrHistogram = field(default_factory=new_latency_histogram)
    arrival: HdrHistogram = field(default_factory=new_latency_histogram)
    stages: StageHistograms = field(default_factory=StageHistograms)
    refreshes: RefreshTimeline = field(default_factory=RefreshTimeline)
    # (produced_at, arrival, seen_at) of records seen whose refresh is not in the history yet
    pending_refresh: list[tuple[float, float, float]] = field(default_factory=list)
    # (produced_at - run start, e2e latency) pairs for "latency over time" plots; reservoir
    # sampled so a long run keeps a bounded, unbiased sample.
    samples: list[tuple[float, float]] = field(default_factory=list)
    max_samples: int = 5000
    _sampled: int = 0
    _rng: random.Random = field(default_factory=lambda: random.Random(0))

    def probe_sql(self, mv: str) -> str:
        sql = (
            "SELECT payload.event_id, payload.produced_at, approximate_arrival_timestamp "
            f"FROM {mv}"
        )
        if self.newest_arrival:
            since = format_redshift_timestamp(self.newest_arrival - self.slack_s)
            sql += f" WHERE approximate_arrival_timestamp >= '{since}'"
        return sql

    def refresh_history_sql(self, mv: str) -> str:
        """Refreshes of ``mv`` that brought rows in, newer than the last one known."""
        name = mv.split(".")[-1].strip('"')
        since = self.refreshes.latest / 1e6 if self.refreshes.latest else self.run_started_at - 60
        return (
            "SELECT end_time FROM SYS_MV_REFRESH_HISTORY "
            f"WHERE mv_name = '{name}' AND end_time > '{format_redshift_timestamp(since)}' "
            "AND (status LIKE 'Refresh%updated%' OR status LIKE 'Refresh%recomputed%') "
            "AND status NOT LIKE '%no new data%' ORDER BY end_time"
        )

    def observe_refreshes(self, rows: Iterable[list[Any]]) -> list[RecordStages]:
        """Take refresh end times; return the full stages of records now credited to one."""
        for (end_text, *_rest) in rows:
            if end_text:
                self.refreshes.add(parse_redshift_timestamp(end_text))
        resolved, waiting = [], []
        for produced, arrival, seen_at in self.pending_refresh:
            refresh_at = self.refreshes.ingesting_refresh(arrival)
            if refresh_at is None:
                waiting.append((produced, arrival, seen_at))
                continue
            stages = decompose(produced, seen_at, arrival_at=arrival, refresh_at=refresh_at)
            self.stages.record("refresh_lag", stages.refresh_lag)
            self.stages.record("visibility", stages.visibility)
            resolved.append(stages)
        self.pending_refresh = waiting
        return resolved

    def observe_ledger(self, records: Iterable[tuple[str, float, float | None]]) -> list[int]:
        """Record the put stage of newly acknowledged records; returns those put times (us)."""
        puts = []
        for _event_id, produced, acked in records:
            if acked is not None and produced >= self.run_started_at - 1.0:
                stages = decompose(produced, produced, acked_at=acked)
                self.stages.record("put", stages.put)
                puts.append(stages.put)
        return puts

    def observe(self, rows: Iterable[list[Any]], seen_at: float | None = None) -> list[RecordStages]:
        """Take one probe result; return the stages of the records seen first now.

        Rows are (event_id, produced_at, approximate_arrival_timestamp). The refresh stages
        follow from ``observe_refreshes``.
        """
        seen_at = time.time() if seen_at is None else seen_at
        copies: dict[str, int] = {}
        new: list[RecordStages] = []
        for row in rows:
            event_id, produced_at, arrival_text = row[0], row[1], row[2]
            event_id = _super_text(event_id)
            produced = _super_text(produced_at)
            if not isinstance(event_id, str) or not isinstance(produced, (int, float)):
                continue  # not a streamload record
            if produced < self.run_started_at - 1.0:
                continue  # left over from an earlier run on the same view
            arrival = parse_redshift_timestamp(arrival_text) if arrival_text else 0.0
            self.newest_arrival = max(self.newest_arrival, arrival)
            copies[event_id] = copies.get(event_id, 0) + 1
            if event_id in self.first_seen:
                continue
            self.first_seen[event_id] = seen_at
            stages = decompose(produced, seen_at, arrival_at=arrival or None)
            new.append(stages)
            self.stages.record_stages(stages, skip=("put",))  # put comes from the ledger
            if arrival:
                self.pending_refresh.append((produced, arrival, seen_at))
            latency = max(stages.total / 1e6, 0.0)
            self.e2e.record_value(max(stages.total, HIST_LOWEST_US))
            self._sample(produced - self.run_started_at, latency)
            if stages.arrival is not None:
                self.arrival.record_value(max(stages.arrival, HIST_LOWEST_US))
        for event_id, n in copies.items():
            if n > self.max_copies.get(event_id, 1):
                self.max_copies[event_id] = n
        return new

    def _sample(self, at: float, latency: float) -> None:
        self._sampled += 1
        point = (round(at, 3), round(latency * 1000.0, 2))
        if len(self.samples) < self.max_samples:
            self.samples.append(point)
        else:
            slot = self._rng.randrange(self._sampled)
            if slot < self.max_samples:
                self.samples[slot] = point

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.max_copies.values())

    def missing(self, expected: dict[str, float]) -> int:
        return sum(1 for event_id in expected if event_id not in self.first_seen)

    def to_json(self, expected: dict[str, float]) -> dict[str, Any]:
        def ms(h: HdrHistogram, q: float) -> float | None:
            return h.get_value_at_percentile(q) / 1000.0 if h.get_total_count() else None

        return {
            "found": len(self.first_seen),
            "expected": len(expected),
            "missing": self.missing(expected),
            "duplicates": self.duplicates,
            "e2e_p50_ms": ms(self.e2e, 50),
            "e2e_p99_ms": ms(self.e2e, 99),
            "e2e_max_ms": ms(self.e2e, 100),
            "arrival_p50_ms": ms(self.arrival, 50),
            "arrival_p99_ms": ms(self.arrival, 99),
            "e2e_histogram": self.e2e.encode().decode() if self.e2e.get_total_count() else None,
            "arrival_histogram": self.arrival.encode().decode() if self.arrival.get_total_count() else None,
            "latency_samples": sorted(self.samples),
            "stages": self.stages.to_json(),
            "stages_without_refresh": len(self.pending_refresh),
        }
