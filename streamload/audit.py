"""End-of-run loss and duplicate audit: every record the producers generated is looked up
in the materialized view.

Loss = produced − found (a record that expired or was rejected in the producer is lost
too: the report says why). Duplicates = extra copies of produced records in the view
(Kinesis retries can duplicate; report, don't hide). Unexpected = rows stamped during this
run that no producer's ledger knows.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from streamload.dataapi.client import DataApiClient

__all__ = ["AuditResult", "read_ledgers", "audit_view", "lost_lines"]


@dataclass
class LedgerTotals:
    event_ids: set[str] = field(default_factory=set)
    acked_at: list[float] = field(default_factory=list)
    generated: int = 0
    sent: int = 0
    expired: int = 0
    rejected: int = 0
    late: int = 0
    summaries: list[dict] = field(default_factory=list)


@dataclass
class AuditResult:
    produced: int
    sent: int
    found: int
    lost: int
    duplicates: int
    unexpected: int
    lost_ids: list[str]
    duplicate_ids: list[str]
    producer: dict
    acked_at: list[float] = field(default_factory=list, repr=False)

    def to_json(self) -> dict:
        return {
            "produced": self.produced,
            "sent": self.sent,
            "found": self.found,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "unexpected": self.unexpected,
            "lost_first_20": self.lost_ids[:20],
            "duplicated_first_20": self.duplicate_ids[:20],
            "producer": self.producer,
        }


def read_ledgers(paths: list[Path]) -> LedgerTotals:
    totals = LedgerTotals()
    for path in paths:
        if path.exists():
            with path.open("rb") as fh:
                for line in fh:
                    if line.strip():
                        rec = orjson.loads(line)
                        totals.event_ids.add(rec["event_id"])
                        if rec.get("acked_at"):
                            totals.acked_at.append(float(rec["acked_at"]))
        summary_path = path.with_name(path.name + ".summary.json")
        if summary_path.exists():
            summary = json.loads(summary_path.read_text())
            totals.summaries.append(summary)
            for key in ("generated", "sent", "expired", "rejected", "late"):
                setattr(totals, key, getattr(totals, key) + int(summary.get(key, 0)))
    # A producer that died before its summary still left its ledger: count what it sent.
    totals.generated = max(totals.generated, len(totals.event_ids))
    totals.sent = max(totals.sent, len(totals.event_ids))
    return totals


def _decode(value):
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def audit_view(client: DataApiClient, mv: str, ledger_paths: list[Path], run_started_at: float) -> AuditResult:
    totals = read_ledgers(ledger_paths)
    result = client.execute(f"SELECT payload.event_id, payload.produced_at FROM {mv}", "audit")
    copies: Counter[str] = Counter()
    unexpected = 0
    for event_id, produced_at in result.rows:
        event_id, produced_at = _decode(event_id), _decode(produced_at)
        if event_id in totals.event_ids:
            copies[event_id] += 1
        elif isinstance(produced_at, (int, float)) and produced_at >= run_started_at - 1.0:
            unexpected += 1
    found = len(copies)
    lost_ids = sorted(totals.event_ids - copies.keys())
    duplicate_ids = sorted(e for e, n in copies.items() if n > 1)
    return AuditResult(
        produced=totals.generated,
        sent=totals.sent,
        found=found,
        lost=totals.generated - found,
        duplicates=sum(copies[e] - 1 for e in duplicate_ids),
        unexpected=unexpected,
        lost_ids=lost_ids,
        duplicate_ids=duplicate_ids,
        producer={
            "generated": totals.generated,
            "sent": totals.sent,
            "expired": totals.expired,
            "rejected": totals.rejected,
            "late": totals.late,
        },
        acked_at=totals.acked_at,
    )


def lost_lines(audit: dict) -> list[str]:
    """The summary lines for a report's ``audit`` section: lost records and why (none if none)."""
    if not audit["lost"]:
        return []
    lines = [f"  LOST {audit['lost']} records, first: {', '.join(audit['lost_first_20'][:5])}"]
    for reason, count in audit.get("lost_reasons", {}).get("lost_by_reason", {}).items():
        lines.append(f"    {count} {reason}")
    return lines
