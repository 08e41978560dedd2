"""Pass/fail thresholds, k6-style, evaluated against a run's report.

A threshold is one line: ``<metric>[{label=value}] <op> <number>[unit]``, e.g.
``e2e_p99 < 30s``, ``lost == 0``, ``query_p95{persona=frank} < 2s``, ``error_rate < 0.1%``.
Units: ``ms``, ``s``, ``m`` (latencies compare in seconds), ``%`` (a fraction).

Metrics:
- ``e2e_pNN`` (any percentile, from the probe's HdrHistogram), ``arrival_pNN``;
- ``produced``, ``found``, ``lost``, ``duplicates``, ``unexpected``, ``rls_violations``;
- ``error_rate``: failed Data API statements / all statements;
- ``refresh_pNN``, ``query_pNN{persona=…}``: statement latency (submit to last page);
- ``put_pNN``, ``refresh_lag_pNN``, ``visibility_pNN``: the e2e stages (``e2e_stages``);
- ``late_starts``, ``dropped_starts`` (``{class=…}`` for one class): open-model query starts.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

from streamload.core.errors import ConfigError
from streamload.core.histograms import decode_histogram

__all__ = ["ThresholdError", "Threshold", "ThresholdResult", "parse_threshold", "evaluate", "summary_line"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}
_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "%": 0.01}
_LINE = re.compile(
    r"^\s*(?P<metric>[a-z_][a-z0-9_.]*)(?:\{(?P<labels>[^}]*)\})?\s*"
    r"(?P<op><=|>=|==|!=|<|>)\s*(?P<number>-?\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|%)?\s*$"
)
_STAGE_METRICS = ("put", "refresh_lag", "visibility")  # arrival and e2e come from the probe
_PERCENTILE = re.compile(r"^(?P<base>[a-z0-9_]+?)_p(?P<q>\d+(?:\.\d+)?)$")


class ThresholdError(ConfigError, ValueError):
    """A threshold that cannot be parsed or names a metric the report does not have. Also a
    ``ValueError``, so pydantic reports it as a validation error of ``verdict.thresholds``."""


@dataclass(frozen=True)
class Threshold:
    text: str
    metric: str
    labels: tuple[tuple[str, str], ...]
    op: str
    limit: float

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.limit)


@dataclass
class ThresholdResult:
    threshold: Threshold
    value: float | None
    ok: bool

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold.text, "value": self.value, "limit": self.threshold.limit,
                "op": self.threshold.op, "ok": self.ok}


def parse_threshold(text: str) -> Threshold:
    match = _LINE.match(text)
    if not match:
        raise ThresholdError(f"threshold {text!r} is not '<metric> <op> <number>[ms|s|m|%]'")
    labels: list[tuple[str, str]] = []
    for part in filter(None, (p.strip() for p in (match["labels"] or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ThresholdError(f"threshold {text!r}: label {part!r} is not key=value")
        labels.append((key.strip(), value.strip().strip("\"'")))
    limit = float(match["number"]) * _UNITS[match["unit"] or ""]
    return Threshold(text=text.strip(), metric=match["metric"], labels=tuple(labels), op=match["op"], limit=limit)


def _histogram_percentile(encoded: str | None, q: float) -> float | None:
    hist = decode_histogram(encoded)
    return hist.get_value_at_percentile(q) / 1e6 if hist is not None else None  # microseconds -> s


def _statement_percentile(report: dict, kind: str, q: float, labels: dict[str, str]) -> float | None:
    hists = report.get("latency_histograms", {})
    persona = labels.get("persona")
    key = f"{kind}:{persona}" if persona else kind
    if key in hists:
        return _histogram_percentile(hists[key], q)
    stats = report.get("statements", {}).get(f"statement {kind}" + (f" {persona}" if persona else ""))
    if stats and q in (50, 99):
        return stats[f"p{int(q)}_ms"] / 1000.0
    return None


def metric_value(report: dict, metric: str, labels: dict[str, str]) -> float | None:
    if metric in ("produced", "found", "lost", "duplicates", "unexpected"):
        return report.get("audit", report).get(metric, report.get(metric))
    if metric == "rls_violations":
        return report.get("rls_violations", 0)
    if metric == "error_rate":
        stats = [s for name, s in report.get("statements", {}).items() if name.startswith("statement ")]
        total = sum(s["requests"] for s in stats)
        return sum(s["failures"] for s in stats) / total if total else 0.0
    if metric in ("late_starts", "dropped_starts"):
        classes = report.get("open_model") or {}
        wanted = labels.get("class")
        if wanted is not None and wanted not in classes:
            return None
        return sum(stats.get(metric.removesuffix("_starts"), 0) for name, stats in classes.items()
                   if wanted in (None, name))
    match = _PERCENTILE.match(metric)
    if match:
        base, q = match["base"], float(match["q"])
        if base in _STAGE_METRICS:
            # Every record's stage (counted in SQL, put from the ledgers) where the run has it,
            # else the canary sample's (visibility is only ever sampled).
            population = ((report.get("e2e_population") or {}).get("stages") or {}).get(base) or {}
            sampled = (report.get("e2e_stages") or {}).get(base) or {}
            return _histogram_percentile(population.get("histogram") or sampled.get("histogram"), q)
        if base in ("e2e", "arrival"):
            return _histogram_percentile(report.get("probe", {}).get(f"{base}_histogram"), q)
        if base in ("refresh", "query", "probe"):
            return _statement_percentile(report, base, q, labels)
    raise ThresholdError(f"unknown metric {metric!r} in thresholds")


def evaluate(report: dict, thresholds: list[str]) -> list[ThresholdResult]:
    """Each threshold with its value and verdict; a missing value fails the threshold."""
    results = []
    for text in thresholds:
        t = parse_threshold(text)
        value = metric_value(report, t.metric, dict(t.labels))
        results.append(ThresholdResult(t, value, value is not None and t.holds(value)))
    return results


def summary_line(result: dict) -> str:
    """One ``ThresholdResult.to_json()`` as the run summary prints it."""
    value = "no data" if result["value"] is None else f"{result['value']:g}"
    return f"  threshold {result['threshold']:<28} value={value:<12} {'ok' if result['ok'] else 'FAILED'}"
