"""The SQL of the end-of-run audit: every statement counts, groups or buckets in the warehouse
and returns a bounded result, whatever the number of records (Redshift and the local stack run
the same text).

Records are found by their envelope: ``payload.run_id``, ``payload.producer_id`` and
``payload.seq`` (gap-free per producer over what it generated). SUPER values are cast before
they are compared or counted (``::varchar``, ``::bigint``, ``::float8``), as Redshift needs.
Latencies are differences of timestamps in microseconds (``DATEDIFF``), because Redshift's
``EXTRACT(EPOCH FROM timestamp)`` drops the fraction of a second.
"""
from __future__ import annotations

from streamload.core.histograms import log_bucket_sql

__all__ = ["MAX_ROWS", "sql_literal", "run_filter", "producer_counts_sql", "missing_ranges_sql",
           "duplicate_examples_sql", "unstamped_sql", "population_latency_sql", "found_per_producer_sql"]

# Every audit result is bounded by this many rows (the Data API refuses results over 500 MB).
MAX_ROWS = 10_000
DUPLICATE_EXAMPLES = 20

_PRODUCER = "payload.producer_id::varchar"
_SEQ = "payload.seq::bigint"
_PRODUCED_TS = "(TIMESTAMP 'epoch' + payload.produced_at::float8 * INTERVAL '1 second')"


def sql_literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def run_filter(run_id: str) -> str:
    return f"payload.run_id::varchar = {sql_literal(run_id)}"


def _per_producer_sql(mv: str, run_id: str, columns: str, *, per_seq: bool = False, having: str = "",
                      limit: int = MAX_ROWS) -> str:
    """``SELECT producer_id[, seq], <columns>`` over the run's rows of ``mv``, grouped and
    ordered by producer (and seq), ``having`` (``HAVING ...``) kept, at most ``limit`` rows."""
    keys, groups = f"{_PRODUCER} AS producer_id", "1"
    if per_seq:
        keys, groups = f"{keys}, {_SEQ} AS seq", "1, 2"
    return (f"SELECT {keys}, {columns} FROM {mv} WHERE {run_filter(run_id)} GROUP BY {groups} "
            f"{having + ' ' if having else ''}ORDER BY {groups} LIMIT {limit}")


def producer_counts_sql(mv: str, run_id: str) -> str:
    """Per producer of the run: rows, lowest and highest seq (distinct seqs follow from the gaps,
    so no DISTINCT over every record is needed)."""
    return _per_producer_sql(mv, run_id, f"COUNT(*) AS copies, MIN({_SEQ}) AS min_seq, MAX({_SEQ}) AS max_seq")


def found_per_producer_sql(mv: str, run_id: str) -> str:
    """Per producer of the run: distinct seqs in the view (the probe's completion check)."""
    return _per_producer_sql(mv, run_id, f"COUNT(DISTINCT {_SEQ}) AS found")


def missing_ranges_sql(mv: str, run_id: str) -> str:
    """Gaps between the seqs present, per producer: ``(producer_id, first_missing, last_missing)``,
    in order; one row more than ``MAX_ROWS`` says the list was cut. One sort of the run's rows:
    a duplicate follows its twin (``seq = prev_seq``), which is no gap, so no DISTINCT first."""
    seqs = f"SELECT {_PRODUCER} AS producer_id, {_SEQ} AS seq FROM {mv} WHERE {run_filter(run_id)}"
    ordered = (f"SELECT producer_id, seq, LAG(seq) OVER (PARTITION BY producer_id ORDER BY seq) AS prev_seq "
               f"FROM ({seqs}) AS present")
    return (f"SELECT producer_id, prev_seq + 1 AS first_missing, seq - 1 AS last_missing FROM ({ordered}) AS gaps "
            f"WHERE seq > prev_seq + 1 ORDER BY producer_id, first_missing LIMIT {MAX_ROWS + 1}")


def duplicate_examples_sql(mv: str, run_id: str) -> str:
    """A few records present more than once: ``(producer_id, seq, copies)``."""
    return _per_producer_sql(mv, run_id, "COUNT(*) AS copies", per_seq=True, having="HAVING COUNT(*) > 1",
                             limit=DUPLICATE_EXAMPLES)


def unstamped_sql(mv: str, since_literal: str) -> str:
    """Rows without a run id that arrived since the run started (another writer's records)."""
    return (f"SELECT COUNT(*) AS unstamped FROM {mv} WHERE payload.run_id IS NULL "
            f"AND approximate_arrival_timestamp >= {since_literal}")


def population_latency_sql(mv: str, run_id: str, with_refresh_time: bool = True) -> str:
    """Log-linear bucket counts of every record's stages: ``(stage, bucket, records)``.

    ``arrival`` = approximate_arrival_timestamp - produced_at; with the view's ``refresh_time``
    also ``refresh_lag`` = refresh_time - arrival and ``ingest`` = refresh_time - produced_at.
    At most a few thousand rows per stage (``streamload.core.histograms``)."""
    def seconds(start: str, end: str) -> str:
        # In FLOAT8: a DECIMAL here would make LN() arbitrary-precision and many times slower.
        return f"CAST(DATEDIFF(microsecond, {start}, {end}) AS FLOAT8) / 1000000"

    columns = [f"{seconds(_PRODUCED_TS, 'approximate_arrival_timestamp')} AS arrival"]
    stages = ["arrival"]
    if with_refresh_time:
        columns += [f"{seconds('approximate_arrival_timestamp', 'refresh_time')} AS refresh_lag",
                    f"{seconds(_PRODUCED_TS, 'refresh_time')} AS ingest"]
        stages += ["refresh_lag", "ingest"]
    stamped = f"SELECT {', '.join(columns)} FROM {mv} WHERE {run_filter(run_id)}"
    parts = [f"SELECT '{stage}' AS stage, {log_bucket_sql(stage)} AS bucket, COUNT(*) AS records "
             f"FROM stamped GROUP BY 2" for stage in stages]
    return f"WITH stamped AS ({stamped}) " + " UNION ALL ".join(parts)
