"""``streamload_run_info``: the one series that carries a process's run id. Every other series
stays free of it (low cardinality); dashboards join them to this one on ``(job, instance)``.
The producer and the Locust processes export it, the dashboards select runs by it, and the
metric lint allows exactly these labels on it."""
from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Info

__all__ = ["RUN_INFO_NAME", "RUN_INFO_LABELS", "run_info_metric"]

RUN_INFO_NAME = "streamload_run_info"
RUN_INFO_LABELS = frozenset({"run_id", "stream", "producer_id", "version"})


def run_info_metric(registry: CollectorRegistry = REGISTRY) -> Info:
    """Declare ``streamload_run_info`` in ``registry`` (set it with ``.info({...})``)."""
    return Info("run", "The run this process belongs to.", namespace="streamload", registry=registry)
