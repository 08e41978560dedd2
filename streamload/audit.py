"""End-of-run loss and duplicate audit, counted in the warehouse.

The warehouse counts the run's records per producer (rows, distinct seqs, lowest and highest)
and lists the gaps between the seqs present; the producers' compact ledgers say what each
generated and what became of every seq range. Nothing the client handles grows with the
records: every result is bounded (``audit_sql.MAX_ROWS``) and the counts are exact.

- produced = seqs generated (a producer killed mid-run: also any higher seq found);
- found = distinct seqs present; lost = produced - found, as ranges, each with its outcome in
  the producer (acknowledged, expired, rejected, or unknown: in flight when it stopped);
- duplicates = rows - distinct seqs (Kinesis retries can duplicate: reported, not hidden);
- unexpected = rows of this run from no known producer, plus rows without a run id that
  arrived during the run (another writer's).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streamload.core.audit_sql import (
    MAX_ROWS,
    duplicate_examples_sql,
    found_per_producer_sql,
    missing_ranges_sql,
    producer_counts_sql,
    unstamped_sql,
)
from streamload.core.histograms import encode_histogram, new_latency_histogram, percentile_ms
from streamload.core.ledger import ProducerLedger, planned_producer_id, read_ledger
from streamload.core.producer_summary import ProducerSummary, read_summary, summary_path_for
from streamload.core.seqranges import SeqRanges
from streamload.dataapi.client import DataApiClient, StatementError
from streamload.loss_reasons import OUTCOME_REASONS, utc_literal

__all__ = ["AuditResult", "LedgerSet", "producer_timeline", "add_put_stage", "read_ledgers", "audit_view", "lost_lines"]

MAX_LISTED_RANGES = 50


@dataclass
class LedgerSet:
    """The run's ledgers (by producer id) and their summaries; ``missing`` never wrote one."""

    ledgers: dict[str, ProducerLedger] = field(default_factory=dict)
    summaries: list[ProducerSummary] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def total(self, key: str) -> int:
        return sum(int(getattr(s, key)) for s in self.summaries)


def read_ledgers(paths: list[Path], published: dict[str, ProducerLedger] | None = None) -> LedgerSet:
    """The ledger of each planned producer: its file where this machine has it, else the one it
    published to the ledger table (``published``, by producer id)."""
    out = LedgerSet()
    for path in paths:
        ledger = read_ledger(path)
        if ledger is None and published:
            ledger = published.get(planned_producer_id(path))
        if ledger is None:
            out.missing.append(str(path))
            continue
        out.ledgers[ledger.producer_id] = ledger
        if (summary := read_summary(summary_path_for(path))) is not None:
            out.summaries.append(summary)
    return out


@dataclass
class AuditResult:
    produced: int
    sent: int
    found: int
    lost: int
    duplicates: int
    unexpected: int
    lost_by_outcome: dict[str, int]
    lost_ranges: list[dict]
    duplicate_examples: list[dict]
    producer: dict
    per_producer: dict[str, dict]
    result_bytes: int = 0
    ledgers: LedgerSet = field(default_factory=LedgerSet, repr=False)

    @property
    def acked_missing(self) -> int:
        return self.lost_by_outcome.get(OUTCOME_REASONS["acked"], 0)

    def to_json(self) -> dict:
        return {
            "produced": self.produced, "sent": self.sent, "found": self.found, "lost": self.lost,
            "duplicates": self.duplicates, "unexpected": self.unexpected,
            "lost_first_20": [_range_text(r) for r in self.lost_ranges[:20]],
            "duplicated_first_20": [f"{d['producer_id']} seq {d['seq']} x{d['copies']}"
                                    for d in self.duplicate_examples[:20]],
            "lost_by_outcome": self.lost_by_outcome, "lost_ranges": self.lost_ranges[:MAX_LISTED_RANGES],
            "lost_ranges_total": len(self.lost_ranges), "duplicate_examples": self.duplicate_examples,
            "producer": self.producer, "per_producer": self.per_producer, "result_bytes": self.result_bytes,
        }


def _range_text(r: dict) -> str:
    seqs = f"seq {r['first']}" if r["first"] == r["last"] else f"seqs {r['first']}-{r['last']}"
    return f"{r['producer_id']} {seqs}"


def audit_view(client: DataApiClient, mv: str, run_id: str, ledger_paths: list[Path] | LedgerSet,
               run_started_at: float) -> AuditResult:
    """Audit ``run_id``'s records in ``mv`` against the producers' ledgers (their paths, or a
    ``LedgerSet`` already read)."""
    ledgers = ledger_paths if isinstance(ledger_paths, LedgerSet) else read_ledgers(ledger_paths)
    return _account(ledgers, _count_in_warehouse(client, mv, run_id, run_started_at))


@dataclass
class _WarehouseCounts:
    """What the warehouse says of the run's rows: per producer (rows, distinct seqs, lowest,
    highest), the gaps between seqs, whether that list was cut, duplicate examples, rows
    without a run id, and the bytes all of it took to fetch."""

    present: dict[str, tuple[int, int, int, int]]
    gaps: dict[str, SeqRanges]
    cut: bool
    duplicate_rows: list
    unstamped: int
    fetched: int


def _count_in_warehouse(client: DataApiClient, mv: str, run_id: str, run_started_at: float) -> _WarehouseCounts:
    counts = client.execute(producer_counts_sql(mv, run_id), "audit")
    listed = client.execute(missing_ranges_sql(mv, run_id), "audit")
    fetched = counts.result_bytes + listed.result_bytes
    cut = len(listed.rows) > MAX_ROWS
    gaps: dict[str, SeqRanges] = {}
    for producer_id, first, last in listed.rows[:MAX_ROWS]:
        gaps.setdefault(str(producer_id), SeqRanges()).add(int(first), int(last))
    if cut:  # the gaps listed are not all of them: count the distinct seqs in the warehouse
        exact = client.execute(found_per_producer_sql(mv, run_id), "audit")
        fetched += exact.result_bytes
        distinct_of = {str(p): int(n) for p, n in exact.rows}
    else:  # every seq between the lowest and the highest is present but for the gaps
        distinct_of = {str(p): int(hi) - int(lo) + 1 - gaps.get(str(p), SeqRanges()).count
                       for p, _copies, lo, hi in counts.rows}
    present = {str(p): (int(copies), distinct_of.get(str(p), 0), int(lo), int(hi)) for p, copies, lo, hi in counts.rows}
    dupes = client.execute(duplicate_examples_sql(mv, run_id), "audit") if _any_duplicates(present) else None
    fetched += dupes.result_bytes if dupes else 0
    try:
        unstamped = client.execute(unstamped_sql(mv, f"'{utc_literal(run_started_at - 1.0)}'"), "audit")
        fetched += unstamped.result_bytes
        unstamped_count = int(unstamped.rows[0][0]) if unstamped.rows else 0
    except StatementError:  # a view without approximate_arrival_timestamp: only stamped rows count
        unstamped_count = 0
    return _WarehouseCounts(present, gaps, cut, dupes.rows if dupes else [], unstamped_count, fetched)


def _account(ledgers: LedgerSet, counts: _WarehouseCounts) -> AuditResult:
    """Set the warehouse's counts against the ledgers: produced, found, lost by outcome."""
    produced = found = copies_total = unexpected = 0
    by_outcome: dict[str, int] = {}
    lost_ranges: list[dict] = []
    per_producer: dict[str, dict] = {}
    for producer_id in sorted(set(ledgers.ledgers) | set(counts.present)):
        ledger = ledgers.ledgers.get(producer_id)
        copies, distinct, lo, hi = counts.present.get(producer_id, (0, 0, 0, -1))
        if ledger is None:
            unexpected += copies  # stamped with this run, but no producer of the run knows it
            continue
        generated = max(ledger.generated, hi + 1)
        missing = _missing(counts.gaps.get(producer_id, SeqRanges()), lo, hi, distinct, generated)
        produced, found, copies_total = produced + generated, found + distinct, copies_total + copies
        for outcome, ranges in _classify(missing, ledger).items():
            for first, last in ranges:
                by_outcome[outcome] = by_outcome.get(outcome, 0) + last - first + 1
                lost_ranges.append({"producer_id": producer_id, "first": first, "last": last,
                                    "count": last - first + 1, "reason": outcome})
        per_producer[producer_id] = {"generated": generated, "found": distinct, "rows": copies,
                                     "lost": generated - distinct, "acked": ledger.acked.count,
                                     "ledger_done": ledger.done}
    lost = produced - found
    listed = sum(by_outcome.values())
    if lost > listed or counts.cut:
        by_outcome["not classified (more missing ranges than the audit lists)"] = max(lost - listed, 0)
    return AuditResult(
        produced=produced, sent=ledgers.total("sent") or sum(l.acked.count for l in ledgers.ledgers.values()),
        found=found, lost=lost, duplicates=copies_total - found, unexpected=unexpected + counts.unstamped,
        lost_by_outcome=dict(sorted(by_outcome.items(), key=lambda kv: -kv[1])),
        lost_ranges=sorted(lost_ranges, key=lambda r: (r["producer_id"], r["first"])),
        duplicate_examples=[{"producer_id": str(p), "seq": int(s), "copies": int(n)} for p, s, n in counts.duplicate_rows],
        producer={key: ledgers.total(key) for key in ("generated", "sent", "expired", "rejected", "late")},
        per_producer=per_producer, result_bytes=counts.fetched, ledgers=ledgers,
    )


def producer_timeline(ledgers: LedgerSet, started_at: float, kind: str = "acked") -> list[list[float]]:
    """``[[second since start, <kind> per second], ...]`` over every producer (kind: acked,
    throttled, retried, late), one row per bucket of the widest ledger's width (1 s for runs
    under ~17 minutes), gaps as zeros."""
    width = max((ledger.bucket_s for ledger in ledgers.ledgers.values()), default=1)
    origin = int(started_at) // width * width
    merged: dict[int, int] = {}
    for ledger in ledgers.ledgers.values():
        for start, count in ledger.timeline.get(kind, {}).items():
            offset = (start // width * width) - origin
            if offset >= 0:
                merged[offset] = merged.get(offset, 0) + count
    if not merged:
        return []
    return [[s, merged.get(s, 0) / width] for s in range(0, max(merged) + 1, width)]


def add_put_stage(population: dict, ledgers: LedgerSet) -> None:
    """The put stage (acked_at - produced_at) of every acknowledged record, from the ledgers."""
    merged = new_latency_histogram()
    for ledger in ledgers.ledgers.values():
        merged.add(ledger.put)
    if merged.get_total_count():
        entry = {"count": merged.get_total_count(), "histogram": encode_histogram(merged)}
        entry.update({f"p{q:g}_ms": percentile_ms(merged, q) for q in (50, 90, 95, 99, 99.9)})
        population.setdefault("stages", {})["put"] = entry


def _any_duplicates(present: dict[str, tuple[int, int, int, int]]) -> bool:
    return any(copies > distinct for copies, distinct, _lo, _hi in present.values())


def _missing(inner: SeqRanges, lo: int, hi: int, distinct: int, generated: int) -> SeqRanges:
    """The seqs below ``generated`` not in the view: before the lowest, the gaps, after the highest."""
    missing = SeqRanges(inner)
    if distinct == 0:
        missing.add(0, generated - 1)
        return missing
    missing.add(0, lo - 1)
    missing.add(hi + 1, generated - 1)
    return missing


def _classify(missing: SeqRanges, ledger: ProducerLedger) -> dict[str, SeqRanges]:
    """Split missing seqs by what the producer's ledger says became of them."""
    out: dict[str, SeqRanges] = {}
    labelled = [(OUTCOME_REASONS["acked"], ledger.acked), (OUTCOME_REASONS["expired"], ledger.expired)]
    labelled += [(f"rejected by Kinesis: {reason}", ranges) for reason, ranges in ledger.rejected.items()]
    labelled.append((OUTCOME_REASONS["unknown"], ledger.unknown))
    for first, last in missing:
        for label, ranges in labelled:
            part = ranges.intersection(first, last)
            if len(part):
                out.setdefault(label, SeqRanges()).update(part)
    return out


def lost_lines(audit: dict) -> list[str]:
    """The summary lines for a report's ``audit`` section: lost records and why (none if none)."""
    if not audit["lost"]:
        return []
    lines = [f"  LOST {audit['lost']} records, first: {', '.join(audit['lost_first_20'][:5])}"]
    reasons = audit.get("lost_reasons", {}).get("lost_by_reason") or audit.get("lost_by_outcome", {})
    for reason, count in reasons.items():
        lines.append(f"    {count} {reason}")
    return lines
