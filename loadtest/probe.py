"""The probe: a bounded canary that measures when a query first sees a record, and the
live count of what the view holds.

Each tick samples at most ``sample_size`` records of this run that became visible since the
last tick (``ProbeState``) and splits each into stages (``loadtest/decomposition.py``). Once
the producers are done, it asks the warehouse how many distinct records of each producer the
view holds (one row per producer) and compares that with what the producers' compact ledgers
say was acknowledged (``LedgerFollower``), to know when everything has arrived. The whole
population's stages are counted in SQL at the end of the run (``streamload.population_latency``);
nothing here grows with the number of records.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import orjson
from hdrh.histogram import HdrHistogram

from loadtest.decomposition import RecordStages, StageHistograms, decompose
from streamload.core.audit_sql import found_per_producer_sql, run_filter
from streamload.core.histograms import DIGITS, HIGHEST_US, LOWEST_US, encode_histogram, new_latency_histogram
from streamload.core.errors import UsageError
from streamload.core.ledger import ProducerLedger, planned_producer_id, read_ledger
from streamload.core.producer_summary import ProducerSummary, read_summary, summary_path_for
from streamload.dataapi.ledger_table import LedgerTable

log = logging.getLogger("streamload.probe")

__all__ = ["LedgerFollower", "ProbeState", "new_latency_histogram", "parse_redshift_timestamp"]

# The core latency range under the names callers of the probe import (new_latency_histogram too).
HIST_LOWEST_US, HIST_HIGHEST_US, HIST_DIGITS = LOWEST_US, HIGHEST_US, DIGITS


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
    """Reads the producers' compact ledgers (``streamload.core.ledger``): how many records each
    had acknowledged, and whether every producer has finished. A ledger whose file this machine
    lacks (a run spread over machines) is read from the run's ledger table, where producers
    publish it (``table``). Reading costs the ledgers' size (ranges), never the records."""

    ledger_paths: list[Path]
    table: LedgerTable | None = None
    run_id: str = ""
    acked: dict[str, int] = field(default_factory=dict)  # producer id -> records acknowledged

    def _published(self) -> dict[str, ProducerLedger]:
        if self.table is None:
            return {}
        try:
            return self.table.read(self.run_id)
        except Exception as exc:  # the table is a fallback: a failed read means "not yet"
            log.warning("cannot read the ledger table %s: %s", self.table.table, str(exc).splitlines()[0])
            return {}

    def _ledgers(self) -> dict[Path, ProducerLedger]:
        out: dict[Path, ProducerLedger] = {}
        published: dict[str, ProducerLedger] | None = None
        for path in self.ledger_paths:
            try:
                ledger = read_ledger(path)
            except (ValueError, OSError):  # being replaced right now: next time
                continue
            if ledger is None and self.table is not None:
                published = self._published() if published is None else published
                ledger = published.get(planned_producer_id(path))
            if ledger is not None:
                out[path] = ledger
        return out

    def poll(self) -> dict[str, int]:
        for ledger in self._ledgers().values():
            self.acked[ledger.producer_id] = ledger.acked.count
        return self.acked

    @property
    def expected(self) -> int:
        return sum(self.acked.values())

    def summaries(self) -> list[ProducerSummary]:
        """The producers' final summaries found so far."""
        out = []
        for path in self.ledger_paths:
            try:
                summary = read_summary(summary_path_for(path))
            except UsageError:  # not a summary (yet): the producer is not done as far as we know
                continue
            if summary is not None:
                out.append(summary)
        return out

    def producers_done(self) -> bool:
        """Every producer wrote a final summary (or, on another machine, published a final ledger)."""
        summaries = self.summaries()
        if len(summaries) == len(self.ledger_paths) and all(s.done for s in summaries):
            return True
        if self.table is None:
            return False
        ledgers = self._ledgers()
        return len(ledgers) == len(self.ledger_paths) and all(ledger.done for ledger in ledgers.values())


@dataclass
class ProbeState:
    """The bounded canary probe: each tick samples at most ``sample_size`` records of this run
    that became visible since the last tick, and measures when a query first saw them.

    With the view's ``refresh_time`` (streamload's view has it), "became visible" is exact: the
    rows of refreshes newer than the newest refresh already seen; each sampled record's stages
    are arrival (approximate_arrival_timestamp - produced_at), refresh_lag (refresh_time -
    arrival) and visibility (seen - refresh_time), which add up to its e2e latency. A view
    without ``refresh_time`` is sampled by arrival time instead (records that reach the view out
    of arrival order may go unsampled). Either way a tick's result has the same size at 100 and
    at 100,000 records/s, and nothing is remembered per record.
    """

    run_id: str
    run_started_at: float
    sample_size: int = 50
    has_refresh_time: bool = True
    watermark: float = 0.0  # newest refresh_time (or arrival) already sampled, epoch s
    found: dict[str, int] = field(default_factory=dict)  # producer -> distinct records in the view
    count_watermark: float = 0.0  # newest refresh_time counted live
    rows_counted: int = 0  # rows of the run counted live, refresh by refresh
    reported_found: int = 0  # what streamload_records_found_total has been given so far
    sampled: int = 0
    e2e: HdrHistogram = field(default_factory=new_latency_histogram)
    arrival: HdrHistogram = field(default_factory=new_latency_histogram)
    stages: StageHistograms = field(default_factory=StageHistograms)
    # (produced_at - run start, e2e ms) pairs for "latency over time" plots; reservoir sampled.
    samples: list[tuple[float, float]] = field(default_factory=list)
    max_samples: int = 5000
    _rng: random.Random = field(default_factory=lambda: random.Random(0))

    def probe_sql(self, mv: str) -> str:
        since = format_redshift_timestamp(self.watermark or self.run_started_at - 60)
        columns = ("payload.producer_id::varchar, payload.seq::bigint, payload.produced_at::float8, "
                   "approximate_arrival_timestamp")
        order = "MOD(payload.seq::bigint * 7919, 10007)"  # a spread-out sample, not one shard's
        if self.has_refresh_time:
            return (f"SELECT {columns}, refresh_time FROM {mv} WHERE refresh_time > '{since}' "
                    f"AND {run_filter(self.run_id)} ORDER BY refresh_time DESC, {order} LIMIT {self.sample_size}")
        # The time filter first: the warehouse's zone maps skip every older block.
        return (f"SELECT {columns} FROM {mv} WHERE approximate_arrival_timestamp > '{since}' "
                f"AND {run_filter(self.run_id)} "
                f"ORDER BY approximate_arrival_timestamp DESC, {order} LIMIT {self.sample_size}")

    def completion_sql(self, mv: str) -> str:
        return found_per_producer_sql(mv, self.run_id)

    def observe_found(self, rows: Iterable[list[Any]]) -> int:
        """Take the per-producer distinct counts; returns how many more than already reported
        (live counts included) the view now holds."""
        for producer_id, found in rows:
            self.found[str(producer_id)] = int(found)
        return self._report_found(sum(self.found.values()))

    def live_count_sql(self, mv: str) -> str:
        """Rows of the run that refreshes brought in since the last count (one row back): a
        refresh's rows share its refresh_time and appear together, so each is counted once."""
        since = format_redshift_timestamp(self.count_watermark or self.run_started_at - 60)
        return (f"SELECT COUNT(*), MAX(refresh_time) FROM {mv} WHERE refresh_time > '{since}' "
                f"AND {run_filter(self.run_id)}")

    def observe_live_count(self, rows: Iterable[list[Any]]) -> int:
        """Take a live count; returns how many more rows to report as found."""
        for count, newest in rows:
            if newest:
                self.count_watermark = max(self.count_watermark, parse_redshift_timestamp(newest))
                self.rows_counted += int(count or 0)
        return self._report_found(self.rows_counted)

    def _report_found(self, total: int) -> int:
        more = max(total - self.reported_found, 0)
        self.reported_found += more
        return more

    def observe(self, rows: Iterable[list[Any]], seen_at: float | None = None) -> list[RecordStages]:
        """Take one probe result; return the stages of the records sampled."""
        seen_at = time.time() if seen_at is None else seen_at
        new: list[RecordStages] = []
        for row in rows:
            produced, arrival_text = row[2], row[3]
            if not isinstance(produced, (int, float)) or not arrival_text:
                continue
            arrival = parse_redshift_timestamp(arrival_text)
            refresh = parse_redshift_timestamp(row[4]) if self.has_refresh_time and row[4] else None
            self.watermark = max(self.watermark, refresh if refresh is not None else arrival)
            stages = decompose(float(produced), seen_at, arrival_at=arrival, refresh_at=refresh)
            new.append(stages)
            self.sampled += 1
            self.stages.record_stages(stages, skip=("put",))  # put comes from the ledgers
            self.e2e.record_value(max(stages.total, HIST_LOWEST_US))
            if stages.arrival is not None:
                self.arrival.record_value(max(stages.arrival, HIST_LOWEST_US))
            self._sample(float(produced) - self.run_started_at, max(stages.total / 1e6, 0.0))
        return new

    def _sample(self, at: float, latency: float) -> None:
        point = (round(at, 3), round(latency * 1000.0, 2))
        if len(self.samples) < self.max_samples:
            self.samples.append(point)
        else:
            slot = self._rng.randrange(self.sampled)
            if slot < self.max_samples:
                self.samples[slot] = point

    def missing(self, expected: int) -> int:
        return max(expected - max(sum(self.found.values()), self.rows_counted if not self.found else 0), 0)

    def to_json(self, expected: int) -> dict[str, Any]:
        def ms(h: HdrHistogram, q: float) -> float | None:
            return h.get_value_at_percentile(q) / 1000.0 if h.get_total_count() else None

        return {
            "found": sum(self.found.values()),
            "expected": expected,
            "missing": self.missing(expected),
            "sampled": self.sampled,
            "sample_per_tick": self.sample_size,
            "sampled_by": "refresh_time" if self.has_refresh_time else "approximate_arrival_timestamp",
            "e2e_p50_ms": ms(self.e2e, 50),
            "e2e_p99_ms": ms(self.e2e, 99),
            "e2e_max_ms": ms(self.e2e, 100),
            "arrival_p50_ms": ms(self.arrival, 50),
            "arrival_p99_ms": ms(self.arrival, 99),
            "e2e_histogram": encode_histogram(self.e2e),
            "arrival_histogram": encode_histogram(self.arrival),
            "latency_samples": sorted(self.samples),
            "stages": self.stages.to_json(),
        }
