"""Every Prometheus metric the load-test process exports, declared once.

Names follow shared/DESIGN.md §3: namespace ``streamload``, base units, counters ending
``_total``, histograms (not summaries), low-cardinality labels; the run id appears only
on ``streamload_run_info``.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info, start_http_server

__all__ = [
    "E2E_LATENCY",
    "REFRESH_SECONDS",
    "QUERY_SECONDS",
    "DATAAPI_PHASE_SECONDS",
    "STATEMENTS",
    "RECORDS_FOUND",
    "RECORDS_PENDING",
    "RECORDS_LOST",
    "RECORDS_DUPLICATED",
    "RLS_VIOLATIONS",
    "RUN_INFO",
    "serve_metrics",
]

# From 10 ms to 10 min: end-to-end latency through a refresh cycle can reach minutes.
E2E_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
STATEMENT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

E2E_LATENCY = Histogram(
    "e2e_latency_seconds",
    "Time from a record's produced_at (its intended send time) until a query first returned it.",
    namespace="streamload",
    buckets=E2E_BUCKETS,
)
REFRESH_SECONDS = Histogram(
    "refresh_seconds",
    "Duration of REFRESH MATERIALIZED VIEW statements, submit to FINISHED, through the Data API.",
    ["outcome"],
    namespace="streamload",
    buckets=STATEMENT_BUCKETS,
)
QUERY_SECONDS = Histogram(
    "query_seconds",
    "Duration of query statements, submit to last result page, through the Data API.",
    ["persona", "outcome"],
    namespace="streamload",
    buckets=STATEMENT_BUCKETS,
)
DATAAPI_PHASE_SECONDS = Histogram(
    "dataapi_phase_seconds",
    "Duration of each Data API phase of a statement: submit, wait (until FINISHED), fetch.",
    ["phase"],
    namespace="streamload",
    buckets=STATEMENT_BUCKETS,
)
STATEMENTS = Counter(
    "statements_total",
    "Data API statements by kind (refresh, query, probe) and outcome (ok, failed).",
    ["kind", "outcome"],
    namespace="streamload",
)
RECORDS_FOUND = Counter(
    "records_found_total",
    "Distinct produced records the probe has seen in the materialized view.",
    namespace="streamload",
)
RECORDS_PENDING = Gauge(
    "records_pending",
    "Records the producer has had acknowledged that the probe has not yet seen in the view.",
    namespace="streamload",
)
RECORDS_LOST = Counter(
    "records_lost_total",
    "Produced records not found in the materialized view when the probe stopped looking.",
    namespace="streamload",
)
RECORDS_DUPLICATED = Counter(
    "records_duplicated_total",
    "Extra copies of produced records the probe saw in the materialized view.",
    namespace="streamload",
)
RLS_VIOLATIONS = Counter(
    "rls_violations_total",
    "Rows or columns a persona received that its row-level security should have hidden.",
    ["persona"],
    namespace="streamload",
)
RUN_INFO = Info("run", "The run this process belongs to.", namespace="streamload")


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on loopback; port 0 disables the endpoint."""
    if port:
        start_http_server(port, addr=host)
