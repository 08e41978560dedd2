"""``streamload compare baseline.json current.json``: has this run got worse?

The rule, printed with every comparison: a latency metric regresses when the current value
is more than ``max_increase`` above the baseline **and** the difference is larger than the
run-to-run noise — ``noise_k`` × the spread the baseline measured over repeated runs
(``noise`` in a baseline file written by ``streamload baseline``), and never less than
``min_delta_ms``. Any increase in lost or duplicated records is a regression.

The baseline may be a single run's ``report.json`` (no noise measured: only the relative
rise and ``min_delta_ms`` apply) or a baseline file (medians of N runs plus their spread).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from streamload.core.histograms import decode_histogram, percentile_ms
from streamload.report import ReportFile, as_report_json

# What compare reads: a report or baseline file as read (``read_baseline``), or the report a
# run is building (a dict).
Compared = ReportFile | Mapping[str, Any]

__all__ = ["CompareRule", "Comparison", "LATENCY_METRICS", "COUNT_METRICS", "compare_reports", "format_table",
           "latency_ms", "regressed_metrics"]

LATENCY_METRICS = ("e2e_p50_ms", "e2e_p90_ms", "e2e_p99_ms", "refresh_p99_ms", "query_p99_ms")
COUNT_METRICS = ("lost", "duplicates")
_KEY = re.compile(r"^(?P<base>[a-z0-9]+)_p(?P<q>\d+(?:\.\d+)?)_ms$")


@dataclass(frozen=True)
class CompareRule:
    max_increase: float = 0.10
    noise_k: float = 3.0
    min_delta_ms: float = 50.0

    def describe(self) -> str:
        return (
            f"regression rule: a latency is worse when current > baseline * {1 + self.max_increase:g} "
            f"and current - baseline > max({self.noise_k:g} x baseline run-to-run spread, {self.min_delta_ms:g} ms); "
            f"any increase in lost or duplicates is worse"
        )


@dataclass
class Comparison:
    metric: str
    baseline: float | None
    current: float | None
    allowed: float | None
    regressed: bool


def _decoded_ms(encoded: str | None, q: float) -> float | None:
    return percentile_ms(decode_histogram(encoded), q)


def latency_ms(report: Compared, key: str) -> float | None:
    """``<base>_p<q>_ms`` of a report or baseline file.

    A value stored under the key wins (baseline medians, the RESULT fields); otherwise it
    comes from the encoded HdrHistogram (any percentile, 3 significant digits): the probe's
    for ``e2e``, the merged statement histogram for ``refresh``/``query``/``probe``; Locust's
    own 2-digit percentiles are the last resort.
    """
    report = as_report_json(report)
    if report.get(key) is not None:
        return float(report[key])
    match = _KEY.match(key)
    if not match:
        raise ValueError(f"not a latency metric: {key!r}")
    base, q = match["base"], float(match["q"])
    if base in ("e2e", "arrival"):
        return _decoded_ms(report.get("probe", {}).get(f"{base}_histogram"), q)
    value = _decoded_ms(report.get("latency_histograms", {}).get(base), q)
    if value is not None:
        return value
    stats = report.get("statements", {}).get(f"statement {base}")
    if stats and q == int(q) and f"p{int(q)}_ms" in stats:
        return float(stats[f"p{int(q)}_ms"])
    return None


def _count(report: dict, metric: str) -> float:
    value = report.get(metric, (report.get("audit") or {}).get(metric, 0))
    return float(value or 0)


def compare_reports(baseline: Compared, current: Compared, rule: CompareRule = CompareRule()) -> list[Comparison]:
    baseline, current = as_report_json(baseline), as_report_json(current)
    noise = baseline.get("noise") or {}
    out: list[Comparison] = []
    for metric in LATENCY_METRICS:
        b, c = latency_ms(baseline, metric), latency_ms(current, metric)
        if b is None or c is None:
            out.append(Comparison(metric, b, c, None, False))
            continue
        delta_floor = max(rule.noise_k * float(noise.get(metric, 0.0)), rule.min_delta_ms)
        allowed = max(b * (1 + rule.max_increase), b + delta_floor)
        out.append(Comparison(metric, b, c, allowed, c > allowed))
    for metric in COUNT_METRICS:
        b, c = _count(baseline, metric), _count(current, metric)
        out.append(Comparison(metric, b, c, b, c > b))
    return out


def regressed_metrics(rows: list[Comparison]) -> list[str]:
    return [r.metric for r in rows if r.regressed]


def format_table(rows: list[Comparison]) -> str:
    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:,.1f}"

    lines = [f"{'metric':<16} {'baseline':>12} {'current':>12} {'allowed':>12}  verdict"]
    for r in rows:
        verdict = "REGRESSED" if r.regressed else ("no data" if r.current is None or r.baseline is None else "ok")
        lines.append(f"{r.metric:<16} {fmt(r.baseline):>12} {fmt(r.current):>12} {fmt(r.allowed):>12}  {verdict}")
    return "\n".join(lines)
