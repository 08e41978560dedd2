"""HdrHistogram helpers shared by every layer: one latency range, one text encoding, merging
by addition (never averaging), and the log-linear buckets the warehouse counts in SQL.

Latency histograms hold whole microseconds from 1 us to one hour at 3 significant digits.

Log-linear buckets (``log_bucket_sql`` / ``add_buckets``): the warehouse groups a latency of
``x`` seconds into bucket ``b = FLOOR(LN(x / BUCKET_FLOOR_S) / LN(BUCKET_BASE))``, i.e.
``[FLOOR*BASE^b, FLOOR*BASE^(b+1))``; the client records each bucket's count at its geometric
middle. With ``BUCKET_BASE = 1.01`` a value is off by at most ``sqrt(1.01) - 1 < 0.5 %``
(the bound stated in reports), plus HdrHistogram's own 0.1 %. Values at or below
``BUCKET_FLOOR_S`` (100 us, and negatives from clock skew) fall in bucket ``-1``, recorded as
0 and counted as ``at_or_below_floor``.
"""
from __future__ import annotations

import math
from typing import Iterable

from hdrh.histogram import HdrHistogram

__all__ = ["LOWEST_US", "HIGHEST_US", "DIGITS", "BUCKET_BASE", "BUCKET_FLOOR_S", "BUCKET_ERROR_BOUND",
           "new_latency_histogram", "encode_histogram", "decode_histogram", "merge_encoded", "percentile_ms",
           "log_bucket_sql", "bucket_value_us", "add_buckets"]

LOWEST_US, HIGHEST_US, DIGITS = 1, 3_600_000_000, 3
BUCKET_BASE = 1.01
BUCKET_FLOOR_S = 0.0001
BUCKET_ERROR_BOUND = math.sqrt(BUCKET_BASE) - 1.0


def new_latency_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def encode_histogram(hist: HdrHistogram | None) -> str | None:
    """Base64 text, or None for an empty histogram (reports say "not measured")."""
    return hist.encode().decode() if hist is not None and hist.get_total_count() else None


def decode_histogram(encoded: str | None) -> HdrHistogram | None:
    return HdrHistogram.decode(encoded) if encoded else None


def merge_encoded(encoded: Iterable[str | None]) -> HdrHistogram:
    merged = new_latency_histogram()
    for text in encoded:
        if text:
            merged.add(HdrHistogram.decode(text))
    return merged


def percentile_ms(hist: HdrHistogram | None, q: float) -> float | None:
    if hist is None or not hist.get_total_count():
        return None
    return hist.get_value_at_percentile(q) / 1000.0


def log_bucket_sql(seconds_expr: str) -> str:
    """SQL (Redshift and PostgreSQL alike) for the bucket number of a latency in seconds."""
    return (f"CASE WHEN ({seconds_expr}) > {BUCKET_FLOOR_S} "
            f"THEN FLOOR(LN(({seconds_expr}) / {BUCKET_FLOOR_S}) / LN({BUCKET_BASE}))::INT ELSE -1 END")


def bucket_value_us(bucket: int) -> int:
    """The value a bucket is recorded at: its geometric middle, in microseconds (0 for -1)."""
    if bucket < 0:
        return 0
    return round(BUCKET_FLOOR_S * BUCKET_BASE ** (bucket + 0.5) * 1e6)


def add_buckets(hist: HdrHistogram, buckets: Iterable[tuple[int, int]]) -> int:
    """Record ``(bucket, count)`` pairs into ``hist``; returns the count at or below the floor."""
    floor = 0
    for bucket, count in buckets:
        if count <= 0:
            continue
        value = min(max(bucket_value_us(int(bucket)), LOWEST_US), HIGHEST_US)
        hist.record_value(value, int(count))
        if bucket < 0:
            floor += int(count)
    return floor
