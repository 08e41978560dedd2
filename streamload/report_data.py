"""What the HTML reports show, read out of ``report.json`` (never measured here).

Every reader is defensive: a section a run did not record (an older report, a run without
personas, the probe turned off, a field a newer version adds) gives ``None`` or an empty
list, and the page says "not measured in this run" instead of failing. Percentiles come
from the stored HdrHistograms (exact to 3 significant digits) or the stored ``pNN_ms``
fields; nothing is averaged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from hdrh.histogram import HdrHistogram

from streamload.report import RunReport

__all__ = ["Percentiles", "find_histogram", "decode_histogram", "percentiles_of", "curve_points", "time_bands",
           "Band", "CapacityStep", "STAGES", "statement_latencies", "e2e_stage_rows", "population_stages", "stages_of_population", "population_rows", "error_totals", "persona_rows",
           "lost_by_reason", "nearest_rank"]

QS = (50.0, 90.0, 95.0, 99.0)


@dataclass
class Percentiles:
    label: str
    values_ms: dict[float, float | None]  # percentile -> ms
    count: int | None = None

    def get(self, q: float) -> float | None:
        return self.values_ms.get(q)


def find_histogram(entry: Any) -> str | None:
    """An encoded HdrHistogram in ``entry``: the string itself, its ``histogram`` field, or
    the first string field that is one (encodings start with ``HISTF``)."""
    if isinstance(entry, str):
        return entry if entry.startswith("HISTF") else None
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("histogram"), str):
        return entry["histogram"]
    return next((v for v in entry.values() if isinstance(v, str) and v.startswith("HISTF")), None)


def decode_histogram(encoded: str | None) -> HdrHistogram | None:
    if not encoded:
        return None
    try:
        hist = HdrHistogram.decode(encoded)
    except Exception:  # noqa: BLE001 - a damaged field must not stop the page; it shows as missing
        return None
    return hist if hist.get_total_count() else None


def _unit_divisor(entry: Any, hist: HdrHistogram) -> float:
    """Histograms here record microseconds; if the entry's own p50_ms says otherwise, trust it."""
    if isinstance(entry, dict) and entry.get("p50_ms"):
        raw = hist.get_value_at_percentile(50)
        ratio = raw / float(entry["p50_ms"]) if raw else 1000.0
        return 1.0 if ratio < 30 else 1000.0
    return 1000.0


def percentiles_of(entry: Any, label: str, qs: Iterable[float] = QS) -> Percentiles | None:
    """Percentiles (ms) of one stored measurement: its ``pNN_ms`` fields where present, the
    histogram for the others; ``None`` when it holds neither."""
    qs = tuple(qs)
    hist = decode_histogram(find_histogram(entry))
    divisor = _unit_divisor(entry, hist) if hist else 1000.0
    # one pass over the histogram for every percentile (one call per percentile rescans it)
    decoded = hist.get_percentile_to_value_dict(list(qs)) if hist is not None else {}
    values: dict[float, float | None] = {}
    for q in qs:
        stored = entry.get(f"p{q:g}_ms") if isinstance(entry, dict) else None
        if stored is not None:
            values[q] = float(stored)
        else:
            values[q] = decoded[q] / divisor if q in decoded else None
    if all(v is None for v in values.values()):
        return None
    count = hist.get_total_count() if hist else (entry.get("count") if isinstance(entry, dict) else None)
    return Percentiles(label, values, count)


def curve_points(entry: Any) -> list[tuple[float, float]]:
    """(nines, ms) for the percentile-distribution plot: nines = -log10(1 - q), so p90 = 1,
    p99 = 2, p99.9 = 3. Stops where the histogram runs out of records (beyond 1/count the
    "percentile" is only the maximum again)."""
    hist = decode_histogram(find_histogram(entry))
    if hist is None:
        return []
    divisor = _unit_divisor(entry, hist)
    limit = min(5.0, math.log10(max(hist.get_total_count(), 1)))
    steps = [k / 20 for k in range(0, int(limit * 20) + 1)] or [0.0]
    qs = {n: 100 * (1 - 10 ** -n) for n in steps}
    values = hist.get_percentile_to_value_dict(list(qs.values()))
    return [(n, values[q] / divisor) for n, q in qs.items() if q in values]


def nearest_rank(sorted_values: list[float], q: float) -> float:
    index = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)
    return sorted_values[min(index, len(sorted_values) - 1)]


@dataclass
class Band:
    start_s: float
    end_s: float
    count: int
    p50: float
    p90: float
    p99: float

    @property
    def mid_s(self) -> float:
        return (self.start_s + self.end_s) / 2


def time_bands(samples: list[list[float]], min_per_window: int = 20, max_windows: int = 40) -> list[Band]:
    """Percentiles of ``[[seconds since start, latency ms], …]`` per time window: as many
    windows as keep ``min_per_window`` samples in each on average, at most ``max_windows``."""
    points = sorted((float(t), float(v)) for t, v, *_ in samples if v is not None)
    if not points:
        return []
    windows = max(1, min(max_windows, len(points) // min_per_window))
    t0, t1 = points[0][0], points[-1][0]
    width = (t1 - t0) / windows or 1.0
    buckets: list[list[float]] = [[] for _ in range(windows)]
    for t, v in points:
        buckets[min(windows - 1, int((t - t0) / width))].append(v)
    bands = []
    for i, values in enumerate(buckets):
        if values:
            values.sort()
            bands.append(Band(t0 + i * width, t0 + (i + 1) * width, len(values),
                              nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank(values, 99)))
    return bands


def statement_latencies(report: RunReport) -> list[Percentiles]:
    """Statement latency per kind and per persona (``query:ethan`` → "query · ethan").

    The merged HdrHistograms first; kinds only in ``statement_latency_ms`` or in Locust's
    own table (2-digit percentiles, p50/p99 only) after them."""
    rows: dict[str, Percentiles] = {}
    for key, encoded in sorted(report.latency_histograms.items()):
        found = percentiles_of(encoded, key.replace(":", " · ").replace("_", " "))
        if found:
            rows[key] = found
    for key, entry in sorted(report.statement_latency_ms.items()):
        if key not in rows and (found := percentiles_of(entry, key.replace("_", " "))):
            rows[key] = found
    for name, entry in sorted(report.statements.items()):
        if not name.startswith("statement "):
            continue
        kind = name.removeprefix("statement ")
        key = kind.replace("persona ", "query:").replace("-", "_") if kind.startswith("persona ") else kind.replace("-", "_")
        if key not in rows and (found := percentiles_of(entry, kind.replace("persona ", "query · "), (50.0, 99.0))):
            found.count = entry.get("requests")
            rows[key] = found
    return list(rows.values())


def e2e_stage_rows(report: RunReport) -> list[Percentiles]:
    """The probe's per-record stages (``e2e_stages``), in the order the report holds them."""
    labels = {"total": "total e2e"}
    return [p for name, entry in report.e2e_stages.items()
            if (p := percentiles_of(entry, labels.get(name, name.replace("_", " ")), (50.0, 95.0, 99.0)))]


def population_stages(report: RunReport) -> dict[str, Any]:
    """Stage name -> measurement over every record of the run (``e2e_population``, counted in
    SQL), when the run recorded it."""
    return stages_of_population(report.e2e_population)


def stages_of_population(population: Any) -> dict[str, Any]:
    """The stages of an ``e2e_population`` section: ``{"stages": {...}, "rule": ...}`` or the
    stages directly (older reports); ``{}`` for anything else."""
    population = population or {}
    if not isinstance(population, dict):
        return {}
    stages = population.get("stages") if isinstance(population.get("stages"), dict) else population
    return {name: entry for name, entry in stages.items() if find_histogram(entry) or
            (isinstance(entry, dict) and any(k.endswith("_ms") for k in entry))}


def population_rows(report: RunReport) -> list[Percentiles]:
    """Percentiles of ``population_stages``, one row per stage."""
    return [p for name, entry in population_stages(report).items()
            if (p := percentiles_of(entry, name.replace("_", " "), (50.0, 95.0, 99.0)))]


def _num(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def error_totals(report: RunReport) -> list[tuple[str, float]]:
    """(what, how many) for every error, throttle and late send the run counted."""
    observed = (report.faults or {}).get("observed") or {}
    errors = observed.get("errors") or {}
    producer = report.audit.producer if report.audit else {}
    rows: list[tuple[str, float]] = []
    if observed:
        rows.append(("producer records throttled", _num((observed.get("throttles") or {}).get("producer_records"))))
        rows.append(("producer records retried", _num((observed.get("retries") or {}).get("producer_records"))))
        server = (observed.get("throttles") or {}).get("kinesis_server")
        if isinstance(server, dict):
            rows += [(f"Kinesis calls throttled: {k}", _num(v)) for k, v in sorted(server.items())]
    for key in ("late", "expired", "rejected"):
        if key in producer:
            rows.append((f"producer sends {key}", _num(producer[key])))
    for kind, count in (errors.get("statements") or {}).items():
        rows.append((f"statement failed: {kind}", _num(count)))
    refresh = errors.get("refresh") or {}
    if "failed" in refresh:
        rows.append(("refreshes failed (SYS_MV_REFRESH_HISTORY)", _num(refresh["failed"])))
    for name, stats in report.open_model.items():
        rows += [(f"open-model {name} starts {key}", _num(stats.get(key))) for key in ("late", "dropped", "failed")]
    connection = (observed.get("reconnects") or {}).get("statement_connection_errors")
    if connection is not None:
        rows.append(("Data API connection errors", _num(connection)))
    return rows


def persona_rows(report: RunReport) -> list[dict[str, Any]]:
    out = []
    for name, p in report.personas.items():
        if not isinstance(p, dict):
            continue
        latency = p.get("query_latency_ms") or {}
        out.append({"persona": name, "queries": p.get("queries"), "failed": p.get("failed_queries"),
                    "rows_checked": p.get("rows_checked"), "violations": p.get("violations"),
                    "foreign_rows": p.get("foreign_rows"),
                    "foreign": ", ".join(sorted((p.get("foreign_regions") or {}).keys()) + list(p.get("foreign_columns") or [])),
                    "column_probes": p.get("column_probes"), "column_denials": p.get("column_denials"),
                    "auth_errors": len(p.get("auth_errors") or []), "p50_ms": latency.get("p50_ms"),
                    "p95_ms": latency.get("p95_ms")})
    return out


def lost_by_reason(report: RunReport) -> list[tuple[str, int]]:
    reasons = (report.audit.lost_reasons.get("lost_by_reason") if report.audit else None) or {}
    return sorted(((str(k), int(_num(v))) for k, v in reasons.items()), key=lambda kv: -kv[1])


STAGES = ("put", "arrival", "refresh_lag", "visibility")  # the e2e stages a capacity step shows


@dataclass
class CapacityStep:
    """One step as the charts need it (rates in records/s, latencies in ms; None = not recorded)."""
    step: int
    rate: float
    achieved: float | None
    held: bool
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    stages_p99: dict[str, float | None] = field(default_factory=dict)
    throttled: float = 0
    late: float = 0
    lost: float = 0
