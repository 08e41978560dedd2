"""The probe: finds produced records in the materialized view and measures how long each
took to become queryable.

Every record carries ``event_id`` and ``produced_at`` (its intended send time), so the
probe needs nothing from the producer to measure latency; it reads the producer's ledger
(JSONL, growing) only to know what is still missing and when everything has arrived.

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

__all__ = ["LedgerFollower", "ProbeState", "new_latency_histogram", "parse_redshift_timestamp"]

# Microsecond resolution, up to one hour, 3 significant digits.
HIST_LOWEST_US = 1
HIST_HIGHEST_US = 3_600_000_000
HIST_DIGITS = 3


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
    _offsets: dict[Path, int] = field(default_factory=dict)

    def poll(self) -> None:
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
                    self.expected[rec["event_id"]] = float(rec["produced_at"])
            self._offsets[path] = self._offsets.get(path, 0) + end

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

    def observe(self, rows: Iterable[list[Any]], seen_at: float | None = None) -> list[float]:
        """Take one probe result; return the e2e latencies (s) of records seen first now."""
        seen_at = time.time() if seen_at is None else seen_at
        copies: dict[str, int] = {}
        new_latencies: list[float] = []
        for event_id, produced_at, arrival_text in rows:
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
            latency = max(seen_at - produced, 0.0)
            new_latencies.append(latency)
            self.e2e.record_value(max(int(latency * 1e6), HIST_LOWEST_US))
            self._sample(produced - self.run_started_at, latency)
            if arrival:
                self.arrival.record_value(max(int((arrival - produced) * 1e6), HIST_LOWEST_US))
        for event_id, n in copies.items():
            if n > self.max_copies.get(event_id, 1):
                self.max_copies[event_id] = n
        return new_latencies

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
        }
