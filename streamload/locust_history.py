"""Locust's load over time, read from its stats history CSV (``<prefix>_stats_history.csv``,
one row a second) into the shape the run report's "Load over time" chart reads from
``report["locust_history"]``: ``[{t_s, users, requests_per_s, failures_per_s, p50_ms,
p95_ms, p99_ms}, …]``, seconds counted from the run's start.

``streamload run`` starts Locust with ``--csv-full-history``, so the file also has a row a
second per request name: ``read_statement_history`` keeps the ``statement <kind>`` rows as
``report["statement_history"]``: ``{kind: [{t_s, p50_ms, p95_ms, p99_ms, requests_per_s}, …]}``.
Both are thinned to a bounded number of points, so an hours-long run's report stays small.
"""
from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["read_locust_history", "read_statement_history"]


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None


def read_locust_history(csv_prefix: Path, started_at: float, max_points: int = 720) -> list[dict]:
    """The aggregated rows of the history CSV (one a second), thinned to at most ``max_points``
    evenly spaced rows so an hours-long run's report stays small; ``[]`` when Locust wrote none."""
    rows: list[dict] = []
    try:
        with Path(f"{csv_prefix}_stats_history.csv").open(newline="") as fh:
            for raw in csv.DictReader(fh):
                at = _number(raw.get("Timestamp"))
                if at is None or raw.get("Name") != "Aggregated":
                    continue
                rows.append({"t_s": round(at - started_at, 3), "users": int(_number(raw.get("User Count")) or 0),
                             "requests_per_s": _number(raw.get("Requests/s")) or 0.0,
                             "failures_per_s": _number(raw.get("Failures/s")) or 0.0,
                             "p50_ms": _number(raw.get("50%")), "p95_ms": _number(raw.get("95%")),
                             "p99_ms": _number(raw.get("99%"))})
    except OSError:
        return []
    step = -(-len(rows) // max_points) if max_points > 0 else 1
    return rows[::max(step, 1)]


def read_statement_history(csv_prefix: Path, started_at: float, max_points: int = 360) -> dict[str, list[dict]]:
    """Per statement kind (Locust's ``statement <kind>`` names), its rolling latency percentiles
    and rate each second, thinned to at most ``max_points`` rows per kind; ``{}`` without them."""
    series: dict[str, list[dict]] = {}
    try:
        with Path(f"{csv_prefix}_stats_history.csv").open(newline="") as fh:
            for raw in csv.DictReader(fh):
                name, at = raw.get("Name") or "", _number(raw.get("Timestamp"))
                if at is None or not name.startswith("statement "):
                    continue
                series.setdefault(name.removeprefix("statement "), []).append({
                    "t_s": round(at - started_at, 3), "p50_ms": _number(raw.get("50%")),
                    "p95_ms": _number(raw.get("95%")), "p99_ms": _number(raw.get("99%")),
                    "requests_per_s": _number(raw.get("Requests/s")) or 0.0})
    except OSError:
        return {}
    return {kind: rows[::max(-(-len(rows) // max_points), 1)] for kind, rows in sorted(series.items())}
