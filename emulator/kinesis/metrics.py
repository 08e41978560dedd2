"""Prometheus metrics of the local Kinesis server, declared once (docs/conventions.md).

Only refusals are counted: they are rare enough that counting costs nothing on the put
path, and they are what a capacity test wants to correlate with its own retries."""
from __future__ import annotations

from prometheus_client import Counter

__all__ = ["throttled_requests_total", "injected_faults_total"]

throttled_requests_total = Counter(
    "throttled_requests",
    "Records or calls the local Kinesis refused for exceeding a shard or control-plane rate.",
    ["operation"],
    namespace="streamload",
    subsystem="kinesis_emulator",
)
injected_faults_total = Counter(
    "injected_faults",
    "Faults the local Kinesis injected on request (see emulator/kinesis/faults.py).",
    ["kind"],
    namespace="streamload",
    subsystem="kinesis_emulator",
)
