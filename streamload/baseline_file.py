"""The baseline file (``streamload baseline`` writes it, ``compare`` and ``run --baseline`` read
it): one model, ``BaselineFile``, with what builds it from N run reports (``summarise_runs``),
its table (``format_baseline``), its writer and its reader. ``read_baseline`` also takes a
single run's ``report.json``, which ``compare`` reads the same way.

The spread of a metric is the largest distance of one run from the median of the N runs
(max |x_i - median|); ``compare`` allows ``noise_k`` x that on top of the baseline.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from streamload.compare import COUNT_METRICS, LATENCY_METRICS, latency_ms
from streamload.core.errors import ConfigError
from streamload.report import Number, ReportFile, RunReport, read_report_json, report_from_json, validation_summary

__all__ = ["BASELINE_KIND", "BaselineFile", "summarise_runs", "format_baseline", "read_baseline", "write_baseline"]

BASELINE_KIND = "streamload-baseline"


class BaselineFile(ReportFile):
    """``baseline.json`` (``summarise_runs``): the medians at the top level, where ``compare``
    reads a report's values, and each metric's run-to-run spread in ``noise``."""
    kind: Literal["streamload-baseline"]
    version: int | None = None
    created_at: Number | None = None
    repeat: int | None = None
    spread_rule: str | None = None
    noise: dict[str, Number] = {}
    runs: list[dict[str, Any]] = []  # per run: run_id and each compared metric
    config: dict[str, Any] = {}  # the first run's config, secrets masked
    e2e_p50_ms: Number | None = None
    e2e_p90_ms: Number | None = None
    e2e_p99_ms: Number | None = None
    refresh_p99_ms: Number | None = None
    query_p99_ms: Number | None = None
    lost: Number | None = None
    duplicates: Number | None = None


def _metric(report: dict, metric: str) -> float | None:
    if metric in COUNT_METRICS:
        return float(report.get(metric, 0) or 0)
    return latency_ms(report, metric)


def summarise_runs(reports: list[dict]) -> dict:
    """The baseline file's content: medians at the top level (so ``compare`` reads it like a
    report), ``noise`` with each metric's spread, and every run's values for the record."""
    if not reports:
        raise ValueError("a baseline needs at least one run")
    out: dict = {
        "kind": BASELINE_KIND,
        "version": 1,
        "created_at": time.time(),
        "repeat": len(reports),
        "spread_rule": "spread = max |run - median| over the runs",
        "noise": {},
        "runs": [],
        "config": reports[0].get("config", {}),
    }
    for report in reports:
        row = {"run_id": report.get("run_id")}
        row.update({m: _metric(report, m) for m in LATENCY_METRICS + COUNT_METRICS})
        out["runs"].append(row)
    for metric in LATENCY_METRICS + COUNT_METRICS:
        values = [r[metric] for r in out["runs"] if r[metric] is not None]
        if not values:
            out[metric] = None
            continue
        median = statistics.median(values)
        out[metric] = median
        out["noise"][metric] = max(abs(v - median) for v in values)
    return out


def format_baseline(baseline: dict) -> str:
    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:,.1f}"

    lines = [f"{'metric':<16} {'median':>12} {'spread':>10}  runs"]
    for metric in LATENCY_METRICS + COUNT_METRICS:
        runs = ", ".join(fmt(r[metric]) for r in baseline["runs"])
        lines.append(f"{metric:<16} {fmt(baseline.get(metric)):>12} {fmt(baseline['noise'].get(metric)):>10}  {runs}")
    return "\n".join(lines)


def read_baseline(path: Path, what: str = "baseline") -> RunReport | BaselineFile:
    """A baseline file or a single run's report.json, typed; ConfigError (one line) otherwise:
    missing, not JSON, not a streamload report or baseline, or no latency to compare with."""
    data = read_report_json(path, what)
    if data.get("kind") == BASELINE_KIND:
        try:
            read: RunReport | BaselineFile = BaselineFile.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{what} {path} is not a streamload baseline file: {validation_summary(exc)}") from None
    else:
        read = report_from_json(data, path, what)
    values = read.to_json()
    if not any(latency_ms(values, m) is not None for m in LATENCY_METRICS):
        raise ConfigError(f"{what} {path} holds no latency to compare with (not a report.json or baseline file)")
    return read


def write_baseline(baseline: BaselineFile | dict, path: Path) -> Path:
    """``baseline.json``, checked against ``BaselineFile`` first; ``read_baseline`` reads it back."""
    if isinstance(baseline, BaselineFile):
        data = baseline.to_json()
    else:
        BaselineFile.model_validate(baseline)  # a wrong field is a bug here: raise before writing
        data = baseline
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path
