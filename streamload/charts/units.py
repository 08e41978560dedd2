"""Colours and number formats every report page shares. No matplotlib here: the pages'
tables use these too, and they must render where matplotlib is not installed."""
from __future__ import annotations

import math
from typing import Iterable

__all__ = ["COLOURS", "fmt_ms", "fmt_count", "fmt_rate", "spans_decades"]

# One colour per meaning, the same on every page.
COLOURS = {
    "p50": "#1565c0", "p90": "#ef6c00", "p95": "#8e24aa", "p99": "#c62828", "max": "#6d4c41",
    "held": "#2e7d32", "failed": "#c62828", "target": "#ff6d00", "baseline": "#546e7a", "current": "#1565c0",
    "band": "#90caf9", "put": "#00897b", "arrival": "#1565c0", "refresh_lag": "#ef6c00", "visibility": "#8e24aa",
    "ingest": "#5d4037", "total": "#c62828", "users": "#455a64", "requests": "#2e7d32", "failures": "#c62828",
    "throttled": "#ef6c00", "late": "#8e24aa", "neutral": "#78909c",
}


def fmt_ms(value: float | None) -> str:
    """A duration given in ms, as a person reads it: 0.8 ms, 45 ms, 760 ms, 1.54 s, 79 s, 12.5 min."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value < 1:
        return f"{value:.2g} ms"
    if value < 1000:
        return f"{value:.3g} ms"
    if value < 120_000:
        return f"{value / 1000:.3g} s"
    return f"{value / 60_000:.3g} min"


def fmt_count(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2g}"


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}/s" if value >= 10 else f"{value:.3g}/s"


def spans_decades(values: Iterable[float | None], ratio: float = 20.0) -> bool:
    """Whether positive ``values`` span enough (max/min >= ``ratio``) for a log axis to help."""
    positive = [v for v in values if v is not None and v > 0]
    return bool(positive) and max(positive) / min(positive) >= ratio
