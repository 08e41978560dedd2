"""Every Prometheus metric the producer exports, declared once.

Labels stay low-cardinality: ``outcome`` takes only the values in ``OUTCOMES``; which
stream or producer a series belongs to is the scrape target's business, not a label.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
]

NAMESPACE = "streamload"
SUBSYSTEM = "producer"

# Every generated record ends in exactly one of these, so the three series sum to the
# number of records generated.
OUTCOMES = ("sent", "expired", "rejected")

RECORDS = Counter(
    "records", "Records by final outcome: sent (acknowledged by Kinesis), expired (TTL or "
    "run end reached before acknowledgement), rejected (refused, never to be retried).",
    ["outcome"], namespace=NAMESPACE, subsystem=SUBSYSTEM,
)
BYTES = Counter(
    "bytes", "Payload bytes of records acknowledged by Kinesis (data only, no partition key).",
    namespace=NAMESPACE, subsystem=SUBSYSTEM,
)
PUT_SECONDS = Histogram(
    "put_seconds", "Duration of one PutRecords call, successful or not.",
    namespace=NAMESPACE, subsystem=SUBSYSTEM,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RETRIES = Counter(
    "retries", "Records sent again after a failed attempt (partial failure or whole-call error).",
    namespace=NAMESPACE, subsystem=SUBSYSTEM,
)
THROTTLED = Counter(
    "throttled", "Records Kinesis refused for throughput (ProvisionedThroughputExceeded or a "
    "throttled call), counted per attempt.",
    namespace=NAMESPACE, subsystem=SUBSYSTEM,
)
LATE_SENDS = Counter(
    "late_sends", "Records whose first PutRecords started later than intended time + tolerance.",
    namespace=NAMESPACE, subsystem=SUBSYSTEM,
)
TARGET_RATE = Gauge(
    "target_rate", "Configured send rate in records per second.",
    namespace=NAMESPACE, subsystem=SUBSYSTEM,
)
IN_FLIGHT_BATCHES = Gauge(
    "in_flight_batches", "Batches holding a send slot (calling PutRecords or backing off).",
    namespace=NAMESPACE, subsystem=SUBSYSTEM,
)
