"""Why records are missing from the view: each lost record gets a reason a person can act on.

The audit says *how many* records are missing; this module says *why*, from what any
target exposes (the local stack and AWS alike): the producer's ledger (shard and sequence
number of every acknowledged record), Redshift's SYS_STREAM_SCAN_ERRORS,
SYS_STREAM_SCAN_STATES and SYS_MV_REFRESH_HISTORY, and the stream itself. Reasons:

- ``expired in the producer``/``rejected by Kinesis: <code>``: never acknowledged (from
  the producer's summary; such records have no sequence number);
- ``scan error: <reason>``: Redshift skipped the record (e.g. longer than VARBYTE allows);
- ``blocked behind poison record <shard>/<sequence> (<why>)``: a record that JSON_PARSE
  cannot read sits after the view's checkpoint (on any shard: one REFRESH reads them all
  in one transaction), so every REFRESH fails and the view stops there (Redshift's
  behaviour; the cure is ``WHERE CAN_JSON_PARSE(kinesis_data)``);
- ``expired from the stream before a refresh read it``: retention trimmed it first;
- ``read by a refresh but not in the view``: the view's WHERE clause dropped it;
- ``not ingested yet``: the last refresh had not reached it (refresh lag at the end).

Poison records are found by reading the shard after the view's checkpoint, a bounded
number of calls, and checking each record the way JSON_PARSE would.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from streamload.dataapi.client import DataApiClient, StatementError

if TYPE_CHECKING:
    from streamload.audit import AuditResult

# What the producer's ledger says became of a missing record (the audit's first split).
OUTCOME_REASONS = {
    "acked": "acknowledged by Kinesis but not in the view",
    "expired": "expired in the producer before Kinesis acknowledged it",
    "unknown": "unknown outcome: in flight when the producer stopped",
}

__all__ = ["OUTCOME_REASONS", "PoisonRecord", "explain_losses", "sys_rows", "why_not_json", "utc_literal"]

log = logging.getLogger(__name__)

VARBYTE_MAX_BYTES = 1_024_000  # Redshift's VARBYTE limit, hence kinesis_data's
MAX_NESTING = 1000  # deeper than this is reported as the reason the parse fails
MAX_GET_RECORDS_CALLS = 20  # per shard, when looking for a poison record
DIAGNOSE_BUDGET_S = 30.0


@dataclass(frozen=True)
class PoisonRecord:
    shard_id: str
    sequence_number: str
    bytes: int
    reason: str

    def to_json(self) -> dict:
        return {"shard_id": self.shard_id, "sequence_number": self.sequence_number, "bytes": self.bytes,
                "reason": self.reason}


def _nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside strings, without recursion (the input may be huge)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def why_not_json(data: bytes) -> str | None:
    """Why JSON_PARSE(kinesis_data) fails on ``data``, or None when it parses."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}"
    depth = _nesting_depth(text)
    if depth > MAX_NESTING:
        return f"JSON nested {depth} levels deep"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc.msg} at offset {exc.pos}"
    except RecursionError:
        return f"JSON nested {depth} levels deep"
    return None


def utc_literal(epoch_s: float) -> str:
    """A Redshift TIMESTAMP literal (UTC, as SYS views store it)."""
    return dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def sys_rows(client: DataApiClient, sql: str) -> list[dict[str, Any]]:
    """Rows of a system-view query as dicts with trimmed text (Redshift pads CHAR columns)."""
    result = client.execute(sql, "diagnose")
    return [{name.lower(): value.strip() if isinstance(value, str) else value
             for name, value in zip(result.columns, row)} for row in result.rows]


def _first(row: dict, *names: str) -> Any:
    for name in names:
        if row.get(name) not in (None, ""):
            return row[name]
    return None


def _seq(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class _StreamReader:
    """Bounded reads of one stream for the diagnosis (botocore retries throttling)."""

    def __init__(self, kinesis, stream: str, deadline: float) -> None:
        self.kinesis = kinesis
        self.stream = stream
        self.deadline = deadline
        self._horizons: dict[str, int | None] = {}

    def _pages(self, shard_id: str, after: int | None, limit: int = 10_000):
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": str(after)}
                    if after is not None else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=shard_id,
                                                   **position)["ShardIterator"]
        for _ in range(MAX_GET_RECORDS_CALLS):
            if not iterator or time.monotonic() > self.deadline:
                return
            page = self.kinesis.get_records(ShardIterator=iterator, Limit=limit)
            yield page["Records"]
            if not page["Records"] and not page.get("MillisBehindLatest"):
                return
            iterator = page.get("NextShardIterator")

    def horizon(self, shard_id: str) -> int | None:
        """Sequence number of the oldest record still in the shard (None: empty)."""
        if shard_id not in self._horizons:
            first = next((records[0] for records in self._pages(shard_id, None, limit=1) if records), None)
            self._horizons[shard_id] = _seq(first["SequenceNumber"]) if first else None
        return self._horizons[shard_id]

    def shard_ids(self) -> list[str]:
        shards, kwargs = [], {"StreamName": self.stream}
        for _ in range(100):
            page = self.kinesis.list_shards(**kwargs)
            shards += [s["ShardId"] for s in page.get("Shards", [])]
            if not page.get("NextToken"):
                break
            kwargs = {"NextToken": page["NextToken"]}
        return shards

    def first_poison(self, shard_id: str, checkpoint: int | None) -> PoisonRecord | None:
        """The first record after ``checkpoint`` that JSON_PARSE rejects (bounded reads)."""
        for records in self._pages(shard_id, checkpoint):
            for record in records:
                data = record["Data"]
                if len(data) > VARBYTE_MAX_BYTES:
                    continue  # skipped by Redshift with a scan error, never blocks
                if (why := why_not_json(data)) is not None:
                    return PoisonRecord(shard_id, record["SequenceNumber"], len(data), why)
        return None


def _checkpoints(client: DataApiClient, mv: str, since: float) -> dict[str, int]:
    """Per shard, the last position a refresh during the run read (Redshift keeps a row per
    batch; the local stack one per shard)."""
    checkpoints: dict[str, int] = {}
    since_sql = f"SELECT * FROM sys_stream_scan_states WHERE record_time >= '{utc_literal(since - 5)}'"
    for row in sys_rows(client, since_sql):
        if str(row.get("mv_name", "")).lower() != mv.lower():
            continue
        shard = _first(row, "partition_id", "shard_id")
        position = _seq(_first(row, "latest_position", "shard_sequence_number"))
        if shard and position is not None:
            checkpoints[shard] = max(position, checkpoints.get(shard, position))
    return checkpoints


def _scan_errors(client: DataApiClient, stream: str, since: float) -> dict[tuple[str, int], str]:
    errors = {}
    rows = sys_rows(client, f"SELECT * FROM sys_stream_scan_errors WHERE record_time >= '{utc_literal(since - 5)}'")
    for row in rows:
        if row.get("stream_name") not in (None, stream):
            continue
        position = _seq(row.get("position"))
        shard = _first(row, "partition_id", "shard_id")
        if shard and position is not None:
            errors[(shard, position)] = str(_first(row, "error_reason", "error_message") or "unknown")
    return errors


def _last_refresh_failure(client: DataApiClient, mv: str, since: float) -> str | None:
    rows = sys_rows(client, f"SELECT * FROM sys_mv_refresh_history WHERE start_time >= '{utc_literal(since - 5)}'")
    mine = [r for r in rows if str(r.get("mv_name", "")).lower() == mv.lower()]
    if not mine:
        return None
    last = max(mine, key=lambda r: str(r.get("start_time")))
    status = str(last.get("status", ""))
    return status if "fail" in status.lower() else None


def explain_losses(client: DataApiClient, kinesis, stream: str, mv: str, audit: "AuditResult",
                   run_started_at: float) -> dict:
    """``{"lost_by_reason", "lost_examples", "poison_records", "scan_errors"}`` for the report.

    Records the producer never got acknowledged keep the outcome the audit found in its ledger.
    Acknowledged records missing from the view are explained per shard, from bounded reads:
    scan errors at positions inside the run's acknowledged range of the shard, a failing
    refresh (and the poison record behind it), the view's checkpoint against the last
    acknowledged position, and the stream's trim horizon against the first."""
    by_reason: Counter = Counter({k: v for k, v in audit.lost_by_outcome.items() if k != OUTCOME_REASONS["acked"]})
    examples: dict[str, list[str]] = defaultdict(list)
    for r in audit.lost_ranges:
        if r["reason"] != OUTCOME_REASONS["acked"] and len(examples[r["reason"]]) < 5:
            examples[r["reason"]].append(_range_label(r))
    out: dict[str, Any] = {"lost_by_reason": {}, "lost_examples": {}, "poison_records": [], "scan_errors": 0}
    poison: list[PoisonRecord] = []
    remaining = audit.acked_missing
    try:
        shards = _acked_positions(audit)
        scan_errors = _scan_errors(client, stream, run_started_at)
        out["scan_errors"] = len(scan_errors)
        if remaining:
            for reason, count in _scan_errors_in_run(scan_errors, shards).items():
                taken = min(count, remaining)
                by_reason[f"scan error: {reason}"] += taken
                remaining -= taken
        if remaining:
            reader = _StreamReader(kinesis, stream, time.monotonic() + DIAGNOSE_BUDGET_S)
            checkpoints = _checkpoints(client, mv, run_started_at)
            failing = _last_refresh_failure(client, mv, run_started_at)
            if failing:
                # One REFRESH reads every shard in one transaction: poison on any shard stops them all.
                found = (reader.first_poison(shard, checkpoints.get(shard)) for shard in reader.shard_ids())
                poison = [p for p in found if p is not None]
            reason = _shard_reason(shards, checkpoints, failing, reader, poison)
            by_reason[reason] += remaining
            remaining = 0
    except (StatementError, ClientError, BotoCoreError) as exc:
        out["error"] = f"could not explain every loss: {str(exc).splitlines()[0]}"
    if remaining:
        by_reason[OUTCOME_REASONS["acked"]] += remaining
    acked_examples = [_range_label(r) for r in audit.lost_ranges if r["reason"] == OUTCOME_REASONS["acked"]][:5]
    for reason in by_reason:
        if reason not in examples and acked_examples:
            examples[reason] = acked_examples
    out["lost_by_reason"] = dict(by_reason.most_common())
    out["lost_examples"] = {k: v for k, v in examples.items() if k in by_reason}
    out["poison_records"] = [p.to_json() for p in poison]
    return out


def _range_label(r: dict) -> str:
    return f"{r['producer_id']} seq {r['first']}" + (f"-{r['last']}" if r["last"] != r["first"] else "")


def _acked_positions(audit: "AuditResult") -> dict[str, tuple[int, int]]:
    """Per shard, the first and last sequence numbers the run's producers were acknowledged."""
    shards: dict[str, tuple[int, int]] = {}
    for ledger in audit.ledgers.ledgers.values():
        for shard, known in ledger.shards.items():
            first, last = _seq(known.get("first")), _seq(known.get("last"))
            if first is None or last is None:
                continue
            if shard in shards:
                first, last = min(first, shards[shard][0]), max(last, shards[shard][1])
            shards[shard] = (first, last)
    return shards


def _scan_errors_in_run(scan_errors: dict[tuple[str, int], str], shards: dict[str, tuple[int, int]]) -> Counter:
    reasons: Counter = Counter()
    for (shard, position), reason in scan_errors.items():
        span = shards.get(shard)
        if span is not None and span[0] <= position <= span[1]:
            reasons[reason] += 1
    return reasons


def _shard_reason(shards: dict[str, tuple[int, int]], checkpoints: dict[str, int], failing: str | None,
                  reader: "_StreamReader", poison: list[PoisonRecord]) -> str:
    """Why acknowledged records are missing, from the state of the shards they were written to."""
    if failing and poison:
        first = poison[0]
        return (f"blocked behind poison record {first.shard_id}/{first.sequence_number} "
                f"({first.reason}): every refresh fails on it")
    if failing:
        return f"not ingested: the refresh is failing ({failing})"
    reasons = set()
    for shard, (first, last) in shards.items():
        checkpoint = checkpoints.get(shard)
        horizon = reader.horizon(shard)
        if (horizon is None or first < horizon) and (checkpoint is None or checkpoint < first):
            reasons.add("expired from the stream before a refresh read it")
        elif checkpoint is None or checkpoint < last:
            reasons.add("not ingested yet (the last refresh had not reached it)")
    if not reasons:
        return "read by a refresh but not in the view (filtered out by its WHERE clause?)"
    return " or ".join(sorted(reasons))
