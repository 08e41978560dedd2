"""The Data API layer's one metric, declared once (exported by whichever process runs the
client: Locust processes serve it with the load test's metrics)."""
from __future__ import annotations

from prometheus_client import Histogram

__all__ = ["DATAAPI_PHASE_SECONDS", "STATEMENT_BUCKETS"]

STATEMENT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

DATAAPI_PHASE_SECONDS = Histogram(
    "dataapi_phase_seconds",
    "Duration of each Data API phase of a statement: submit, queue (until STARTED), execution "
    "(the server's Duration), fetch.",
    ["phase"],
    namespace="streamload",
    buckets=STATEMENT_BUCKETS,
)
