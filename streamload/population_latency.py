"""End-to-end stages of every record of a run, counted in the warehouse.

One aggregate statement buckets each record's ``arrival`` (approximate_arrival_timestamp -
produced_at) and, where the view holds ``refresh_time``, its ``refresh_lag`` (refresh_time -
arrival) and ``ingest`` (refresh_time - produced_at) into log-linear buckets; the client
turns the bucket counts into HdrHistograms (``streamload.core.histograms``: each value within
0.5 % of the truth). The result has a few thousand rows at most, at 100 or 100 million
records. A view without ``refresh_time`` (e.g. the AWS tutorial's verbatim) gets ``arrival``.
"""
from __future__ import annotations

from hdrh.histogram import HdrHistogram

from streamload.core.audit_sql import population_latency_sql
from streamload.core.histograms import (
    BUCKET_ERROR_BOUND,
    add_buckets,
    encode_histogram,
    new_latency_histogram,
    percentile_ms,
)
from streamload.dataapi.client import DataApiClient, StatementError

__all__ = ["population_latency", "PERCENTILES"]

PERCENTILES = (50, 90, 95, 99, 99.9)


def population_latency(client: DataApiClient, mv: str, run_id: str) -> dict:
    """``{"stages": {stage: {count, histogram, pNN_ms…}}, "bucket_error_bound", "result_bytes"}``;
    ``{"error": …}`` if the warehouse could not count them."""
    try:
        result = client.execute(population_latency_sql(mv, run_id), "audit-latency")
        with_refresh = True
    except StatementError as exc:
        if "refresh_time" not in str(exc):
            return {"error": str(exc).splitlines()[0]}
        result = client.execute(population_latency_sql(mv, run_id, with_refresh_time=False), "audit-latency")
        with_refresh = False
    buckets: dict[str, list[tuple[int, int]]] = {}
    for stage, bucket, records in result.rows:
        buckets.setdefault(str(stage), []).append((int(bucket), int(records)))
    stages = {}
    for stage, pairs in sorted(buckets.items()):
        hist: HdrHistogram = new_latency_histogram()
        floor = add_buckets(hist, pairs)
        entry = {"count": hist.get_total_count(), "at_or_below_100us": floor, "histogram": encode_histogram(hist)}
        entry.update({f"p{q:g}_ms": percentile_ms(hist, q) for q in PERCENTILES})
        stages[stage] = entry
    return {
        "stages": stages,
        "view_has_refresh_time": with_refresh,
        "bucket_error_bound": round(BUCKET_ERROR_BOUND, 5),
        "rule": "every record of the run, bucketed in SQL (log-linear, base 1.01): each value within "
                f"{BUCKET_ERROR_BOUND:.2%} of the truth",
        "result_bytes": result.result_bytes,
    }
