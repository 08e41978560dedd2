"""The top of the run report, for a reader who did not run the test: the verdict and why,
what was tested against what, and every threshold with its rule and measured value.

All of it is read from ``report.json``; what a run did not record is said, not guessed.
"""
from __future__ import annotations

import re
import time
from typing import Any

from streamload.charts.units import fmt_count, fmt_ms
from streamload.core.thresholds import ThresholdError, parse_threshold
from streamload.report import CostEstimate, RunReport, ThresholdOutcome

__all__ = ["verdict", "headline", "what_was_tested", "threshold_rows", "describe_metric", "target_description"]

_ROLE_ACCOUNT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(.+)$")
_PERCENTILE = re.compile(r"^(?P<base>[a-z0-9_]+?)_p(?P<q>\d+(?:\.\d+)?)$")
_LATENCY_BASES = {
    "e2e": "end-to-end latency: produced_at until a query first returns the record",
    "arrival": "arrival: produced_at until Kinesis stamps the record",
    "put": "put: produced_at until Kinesis acknowledged the PutRecords",
    "refresh_lag": "refresh lag: Kinesis arrival until a REFRESH brought the record into the view",
    "visibility": "visibility: in the view until a query first returned it",
    "refresh": "REFRESH MATERIALIZED VIEW statement, submit to finish",
    "query": "query statement, submit to last result page",
    "probe": "probe statement, submit to last result page",
}
_COUNTS = {
    "produced": "records the producer generated",
    "found": "records found in the view",
    "lost": "records produced but never found in the view",
    "duplicates": "records found more than once",
    "unexpected": "records in the view the producer never reported",
    "rls_violations": "rows or columns a persona saw that row-level security should hide",
    "error_rate": "failed Data API statements / all statements",
    "late_starts": "open-model query starts later than intended",
    "dropped_starts": "open-model query starts dropped (no free slot in time)",
}


def verdict(report: RunReport) -> tuple[bool, list[str]]:
    """Passed, and the reasons it did not: failed thresholds, problems, a baseline regression
    (what ``streamload run`` turns into exit code 1)."""
    reasons = [f"threshold {t.threshold} not met: measured {_value(t)}" for t in report.thresholds if not t.ok]
    reasons += [str(p) for p in report.problems]
    if report.baseline and report.baseline.regressed:
        reasons.append("worse than the baseline: " + ", ".join(report.baseline.regressed_metrics or ["see below"]))
    return not reasons, reasons


def headline(report: RunReport) -> str:
    parts = []
    if report.produced is not None:
        parts.append(f"{fmt_count(report.found)} of {fmt_count(report.produced)} records reached the view, "
                     f"{fmt_count(report.lost)} lost")
    if report.e2e_p99_ms is not None:
        parts.append(f"e2e p50 {fmt_ms(report.e2e_p50_ms)}, p99 {fmt_ms(report.e2e_p99_ms)}")
    thresholds = report.thresholds
    if thresholds:
        parts.append(f"{sum(t.ok for t in thresholds)} of {len(thresholds)} thresholds met")
    else:
        parts.append("no thresholds configured")
    return "; ".join(parts)


def _accounts(roles: list[str]) -> str:
    """The accounts of the role chain: the first role is the warehouse's, the last the stream's."""
    parsed = [m.groups() for r in roles if (m := _ROLE_ACCOUNT.match(str(r)))]
    if not parsed:
        return "account not recorded in report.json"
    warehouse, stream = parsed[0], parsed[-1]
    if warehouse[0] == stream[0]:
        return f"account {warehouse[0]}"
    return f"Redshift in account {warehouse[0]}, Kinesis in account {stream[0]} (cross-account role chain)"


def target_description(cfg: dict) -> str:
    """Local stack (with its endpoints) or AWS region, accounts and warehouse, from a run's config."""
    target, redshift = cfg.get("target") or {}, cfg.get("redshift") or {}
    warehouse = (f"serverless workgroup {redshift['workgroup_name']}" if redshift.get("workgroup_name")
                 else f"cluster {redshift['cluster_identifier']}" if redshift.get("cluster_identifier") else None)
    if target.get("kinesis_endpoint_url") and target.get("redshift_data_endpoint_url"):
        return (f"local stack (emulators): Kinesis {target['kinesis_endpoint_url']}, "
                f"Data API {target['redshift_data_endpoint_url']}")
    where = f"AWS region {target.get('region', 'not recorded')}, {_accounts(redshift.get('iam_roles') or [])}"
    return where + (f", {warehouse}" if warehouse else "")


def _load(cfg: dict) -> str:
    load, personas = cfg.get("load") or {}, cfg.get("personas") or {}
    parts = []
    if load.get("refresh_mode") == "auto":
        parts.append("AUTO REFRESH (no refresh users)")
    elif load.get("refresh_users") is not None:
        parts.append(f"{load['refresh_users']} refresh user(s) every {load.get('refresh_interval_s', '?')} s")
    if load.get("query_model") == "open":
        parts.append(f"open-model queries at {load.get('query_rate_per_s')}/s")
    elif load.get("query_users") is not None:
        parts.append(f"{load['query_users']} query user(s)")
    if load.get("probe"):
        parts.append("1 probe user")
    if personas.get("enabled"):
        names = [p.get("name") for p in personas.get("personas") or [] if isinstance(p, dict)]
        parts.append(f"{personas.get('users_per_persona', 1)} user(s) for each of {len(names)} personas "
                     f"({', '.join(filter(None, names))})")
    if load.get("workers"):
        parts.append(f"Locust master + {load['workers']} workers")
    return ", ".join(parts) or "not recorded in report.json"


def _cost(cost: CostEstimate | None, local: bool) -> str:
    if cost is not None and cost.total_usd is not None:
        parts = [f"${float(cost.total_usd):.4f}"]
        parts += [f"{k.removesuffix('_usd')} ${float(v):.4f}" for k, v in cost.to_json().items()
                  if k.endswith("_usd") and k != "total_usd" and isinstance(v, (int, float))]
        note = cost.note or (cost.model_extra or {}).get("basis")
        return " · ".join(parts) + (f" ({note})" if note else "")
    return "none (local stack)" if local else "not recorded in report.json (see `streamload aws cost`)"


def what_was_tested(report: RunReport) -> list[tuple[str, str]]:
    cfg: dict[str, Any] = report.config
    stream, producer = cfg.get("stream") or {}, cfg.get("producer") or {}
    local = bool((cfg.get("target") or {}).get("kinesis_endpoint_url"))
    profile = producer.get("profile") or (f"constant {producer['rate']:,g} records/s" if producer.get("rate") else None)
    processes = producer.get("processes") or 1
    started, finished = report.started_at, report.finished_at
    wall = f"; whole run {finished - started:,.0f} s with drain and audit" if started and finished else ""
    return [
        ("Target", target_description(cfg)),
        ("Stream", f"{stream.get('name', '?')}, {stream.get('shards', '?')} shard(s)"),
        ("Rate profile", f"{profile or 'not recorded'}" + (f", {processes} producer processes" if processes > 1 else "")),
        ("Duration", f"{producer.get('duration_s', '?')} s of producing{wall}"),
        ("Started", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started)) if started else "not recorded"),
        ("Query load", _load(cfg)),
        ("Cost estimate", _cost(report.cost_estimate, local)),
    ]


def describe_metric(metric: str) -> str:
    match = _PERCENTILE.match(metric)
    if match and match["base"] in _LATENCY_BASES:
        return f"p{match['q']} of {_LATENCY_BASES[match['base']]}"
    return _COUNTS.get(metric, metric)


def _is_latency(metric: str) -> bool:
    return bool(_PERCENTILE.match(metric))


def _format(metric: str, value: float | None) -> str:
    if value is None:
        return "no data"
    if _is_latency(metric):
        return fmt_ms(float(value) * 1000)  # thresholds compare latencies in seconds
    if metric == "error_rate":
        return f"{float(value):.3%}"
    return fmt_count(value)


def _value(t: ThresholdOutcome) -> str:
    try:
        metric = parse_threshold(t.threshold).metric
    except ThresholdError:
        metric = ""
    return _format(metric, t.value)


def threshold_rows(report: RunReport) -> list[dict[str, Any]]:
    """Each threshold: as configured, what it measures, the rule, the measured value, met."""
    rows = []
    for t in report.thresholds:
        text = t.threshold
        try:
            parsed = parse_threshold(text)
            metric, labels = parsed.metric, dict(parsed.labels)
            limit = t.limit if "limit" in t.model_fields_set else parsed.limit
            op = t.op if "op" in t.model_fields_set else parsed.op
        except ThresholdError:
            metric, labels, limit, op = text, {}, t.limit, t.op if "op" in t.model_fields_set else "?"
        what = describe_metric(metric) + "".join(f" ({k} {v})" for k, v in labels.items())
        rows.append({"threshold": text, "measures": what, "rule": f"must be {op} {_format(metric, limit)}",
                     "value": _format(metric, t.value), "ok": t.ok})
    return rows
