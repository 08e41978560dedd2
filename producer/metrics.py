"""Every Prometheus metric the producer exports, declared once.

Each one is read by a dashboard panel or a rule (tests/dashboards checks it), so counts
only the summary needs (shard-limited records, open shards) stay out of here.

Labels stay low-cardinality: ``outcome`` takes only the values in ``OUTCOMES``; which
stream or producer a series belongs to is the scrape target's business, not a label. The
run id is only on ``streamload_run_info``, which dashboards join on ``(job, instance)``.

``RUN_INFO`` lives in ``SERVED_REGISTRY`` (what the producer's endpoint serves: the
default registry plus it), not in the default registry, because the load test declares
the same family there and a test process imports both packages.
"""
from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from streamload.core.run_info import run_info_metric

__all__ = [
    "OUTCOMES",
    "RECORDS",
    "BYTES",
    "PUT_SECONDS",
    "RETRIES",
    "THROTTLED",
    "LATE_SENDS",
    "TARGET_RATE",
    "IN_FLIGHT_BATCHES",
    "RUN_INFO",
    "SERVED_REGISTRY",
    "export_run_info",
]

NAMESPACE = "streamload"
SUBSYSTEM = "producer"
# Every producer metric is named streamload_producer_<name>.
_PRODUCER_METRIC = {"namespace": NAMESPACE, "subsystem": SUBSYSTEM}

# Every generated record ends in exactly one of these, so the three series sum to the
# number of records generated.
OUTCOMES = ("sent", "expired", "rejected")

RECORDS = Counter(
    "records", "Records by final outcome: sent (acknowledged by Kinesis), expired (TTL or "
    "run end reached before acknowledgement), rejected (refused, never to be retried).",
    ["outcome"], **_PRODUCER_METRIC,
)
for _outcome in OUTCOMES:  # every series exists from the start: 0, not "no data"
    RECORDS.labels(_outcome)
BYTES = Counter(
    "bytes", "Payload bytes of records acknowledged by Kinesis (data only, no partition key).",
    **_PRODUCER_METRIC,
)
PUT_SECONDS = Histogram(
    "put_seconds", "Duration of one PutRecords call, successful or not.",
    **_PRODUCER_METRIC,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RETRIES = Counter(
    "retries", "Records sent again after a failed attempt (partial failure or whole-call error).",
    **_PRODUCER_METRIC,
)
THROTTLED = Counter(
    "throttled", "Records Kinesis refused for throughput (ProvisionedThroughputExceeded or a "
    "throttled call), counted per attempt.",
    **_PRODUCER_METRIC,
)
LATE_SENDS = Counter(
    "late_sends", "Records whose first PutRecords started later than intended time + tolerance.",
    **_PRODUCER_METRIC,
)
TARGET_RATE = Gauge(
    "target_rate", "Configured send rate in records per second.",
    **_PRODUCER_METRIC,
)
IN_FLIGHT_BATCHES = Gauge(
    "in_flight_batches", "PutRecords calls on the wire right now (batches backing off before a "
    "retry or waiting for a shard's quota hold no slot and are not counted).",
    **_PRODUCER_METRIC,
)
# Everything the default registry holds, plus the run info (see the module docstring).
SERVED_REGISTRY = CollectorRegistry(auto_describe=False)
SERVED_REGISTRY.register(REGISTRY)
RUN_INFO = run_info_metric(SERVED_REGISTRY)


def export_run_info(run_id: str, stream: str, producer_id: str) -> None:
    """Publish ``streamload_run_info`` for this producer's run."""
    RUN_INFO.info({"run_id": run_id, "stream": stream, "producer_id": producer_id})
