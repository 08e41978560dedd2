"""Every Prometheus metric the load-test process exports, declared once.

Names follow docs/conventions.md: namespace ``streamload``, base units, counters ending
``_total``, histograms (not summaries), low-cardinality labels; the run id appears only
on ``streamload_run_info``.
"""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Callable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import MetricsHandler

from streamload.core.run_info import run_info_metric
from streamload.dataapi.metrics import DATAAPI_PHASE_SECONDS, STATEMENT_BUCKETS

__all__ = [
    "E2E_LATENCY",
    "REFRESH_SECONDS",
    "QUERY_SECONDS",
    "DATAAPI_PHASE_SECONDS",
    "E2E_STAGE_SECONDS",
    "E2E_STAGES",
    "OPEN_MODEL_STARTS",
    "STATEMENTS",
    "RECORDS_FOUND",
    "RECORDS_PENDING",
    "RECORDS_LOST",
    "RECORDS_DUPLICATED",
    "RLS_VIOLATIONS",
    "RUN_INFO",
    "serve_metrics",
    "scrape_count",
    "final_counts_registry",
    "serve_final_counts",
]

# From 10 ms to 10 min: end-to-end latency through a refresh cycle can reach minutes.
E2E_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)

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
# Per-record stages of end-to-end latency (loadtest/decomposition.py). arrival + refresh_lag
# + visibility = end-to-end for every record; put overlaps arrival (the ack follows arrival).
E2E_STAGES = ("put", "arrival", "refresh_lag", "visibility")
E2E_STAGE_SECONDS = Histogram(
    "e2e_stage_seconds",
    "Per-record stages of end-to-end latency: put (acked_at - produced_at), arrival "
    "(approximate_arrival_timestamp - produced_at), refresh_lag (refresh_time - arrival), "
    "visibility (first seen by a query - refresh_time).",
    ["stage"],
    namespace="streamload",
    buckets=E2E_BUCKETS,
)
for _stage in E2E_STAGES:  # every stage exported from the start: "none yet" is 0, not no data
    E2E_STAGE_SECONDS.labels(stage=_stage)
OPEN_MODEL_STARTS = Counter(
    "open_model_starts_total",
    "Open-model query arrivals by outcome: on_time, late (started after the tolerance) or "
    "dropped (no concurrency slot free within the bound). Zero in closed-model runs.",
    ["outcome"],
    namespace="streamload",
)
for _outcome in ("on_time", "late", "dropped"):
    OPEN_MODEL_STARTS.labels(outcome=_outcome)
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
RUN_INFO = run_info_metric()


def _help(metric) -> str:
    """A metric's help text through prometheus-client's public describe()."""
    return metric.describe()[0].documentation


_DOCS = {
    "records_lost": _help(RECORDS_LOST),
    "records_duplicated": _help(RECORDS_DUPLICATED),
    "records_found": _help(RECORDS_FOUND),
}


class _ScrapeCounter:
    """How many times this process's /metrics endpoint answered."""

    count = 0
    _lock = threading.Lock()

    @classmethod
    def add(cls) -> None:
        with cls._lock:
            cls.count += 1


def scrape_count() -> int:
    """Scrapes this process's endpoint has answered (0: nobody scrapes this run)."""
    return _ScrapeCounter.count


def _handler(registry: CollectorRegistry, on_scrape: Callable[[], None]):
    base = MetricsHandler.factory(registry)

    class CountingHandler(base):  # type: ignore[misc, valid-type]
        def do_GET(self) -> None:
            super().do_GET()
            on_scrape()

        def log_message(self, *args) -> None:  # no access log on stderr
            return None

    return CountingHandler


def _start_server(port: int, host: str, registry: CollectorRegistry, on_scrape: Callable[[], None]):
    server = ThreadingHTTPServer((host, port), _handler(registry, on_scrape))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="streamload-metrics", daemon=True)
    thread.start()
    return server, thread


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics on loopback, counting scrapes; port 0 disables the endpoint."""
    if port:
        _start_server(port, host, REGISTRY, _ScrapeCounter.add)


def final_counts_registry(run_id: str, stream: str, found: int, lost: int, duplicated: int) -> CollectorRegistry:
    """The audit's verdict as the load-test job's series (same names and help as above)."""
    registry = CollectorRegistry()
    run_info_metric(registry).info({"run_id": run_id, "stream": stream})
    for name, value in (("records_found", found), ("records_lost", lost), ("records_duplicated", duplicated)):
        Counter(name, _DOCS[name], namespace="streamload", registry=registry).inc(max(value, 0))
    return registry


def serve_final_counts(registry: CollectorRegistry, port: int, timeout_s: float, host: str = "127.0.0.1") -> int:
    """Serve ``registry`` on ``port`` until it has been scraped once, or ``timeout_s`` passes.

    The load test's processes have quit by the time the audit is known; the orchestrator
    takes over their port so Prometheus's next scrape records the final lost/duplicated
    counts. Returns the number of scrapes answered (0: timed out, or the port was taken).
    """
    scraped = threading.Event()
    try:
        server, thread = _start_server(port, host, registry, scraped.set)
    except OSError:
        return 0
    try:
        scraped.wait(timeout_s)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    return int(scraped.is_set())
