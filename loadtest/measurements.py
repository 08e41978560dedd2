"""What the load-test processes measured, merged into the run's report, and the audit's
final counts handed to Prometheus after the load test has quit.

Runs in the orchestrator (``streamload run``/``demo``), after Locust has exited: it reads
each process's ``loadtest-<i>.json`` (``loadtest/output.py``) and merges by HdrHistogram
addition, never averaging.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from loadtest import metrics
from loadtest.decomposition import CHAIN, merge_stage_json
from loadtest.open_model import merge_open_json
from loadtest.output import LoadTestOutput, read_outputs
from streamload.core.histograms import merge_encoded

__all__ = ["STAGE_RULE", "add_measurements", "measurement_summary_lines", "publish_final_counts"]

STAGE_RULE = (f"per record: {' + '.join(CHAIN)} = total (first seen by a query - produced_at); "
              "put (acked_at - produced_at) overlaps arrival")

log = logging.getLogger("streamload.measurements")


def _poll_summary(outputs: list[LoadTestOutput]) -> dict[str, Any]:
    encoded: list[str] = []
    rule = None
    for poll in (o.dataapi_poll for o in outputs if o.dataapi_poll is not None):
        rule = rule or poll.rule
        if poll.error_bound_histogram:
            encoded.append(poll.error_bound_histogram)
    merged = merge_encoded(encoded) if encoded else None
    out: dict[str, Any] = {"rule": rule}
    if merged is not None:
        out.update({f"error_bound_p{q:g}_ms": merged.get_value_at_percentile(q) / 1000.0 for q in (50, 99)})
        out["error_bound_max_ms"] = merged.get_max_value() / 1000.0
        out["statements"] = merged.get_total_count()
    return out


def add_measurements(report: dict[str, Any], out_dir: Path) -> None:
    """E2E stages, open-model arrivals and the Data API polling bound, into ``report``."""
    outputs = read_outputs(out_dir)
    report["e2e_stages"] = merge_stage_json(o.e2e_stages for o in outputs)
    report["e2e_stage_rule"] = STAGE_RULE
    open_model = merge_open_json(o.open_model for o in outputs)
    if open_model:
        report["open_model"] = open_model
    report["dataapi_poll"] = _poll_summary(outputs)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}ms"


def measurement_summary_lines(report: dict[str, Any]) -> list[str]:
    """The run summary's lines for e2e stages, open-model arrivals and the poll bound."""
    lines = []
    stages = report.get("e2e_stages") or {}
    if stages.get("total", {}).get("count"):
        lines.append("  e2e stages p50/p99 (canary sample): " + "  ".join(
            f"{name}={_ms(s.get('p50_ms'))}/{_ms(s.get('p99_ms'))}" for name, s in stages.items() if s.get("count")))
    population = (report.get("e2e_population") or {}).get("stages") or {}
    if population:
        lines.append("  e2e stages p50/p99 (every record, counted in SQL): " + "  ".join(
            f"{name}={_ms(s.get('p50_ms'))}/{_ms(s.get('p99_ms'))}" for name, s in sorted(population.items())))
    for name, s in (report.get("open_model") or {}).items():
        lines.append(f"  open model {name}: intended={s['intended']} started={s['started']} late={s['late']} "
                     f"dropped={s['dropped']} failed={s['failed']} from intended start p50={_ms(s['latency_p50_ms'])} "
                     f"p99={_ms(s['latency_p99_ms'])}")
    poll = report.get("dataapi_poll") or {}
    if poll.get("statements"):
        lines.append(f"  Data API poll error bound p99={_ms(poll['error_bound_p99_ms'])} "
                     f"max={_ms(poll['error_bound_max_ms'])} ({poll['statements']} statements)")
    return lines


def publish_final_counts(report: dict[str, Any], port: int, timeout_s: float, out_dir: Path,
                         stream: str) -> dict[str, Any]:
    """Serve the audit's found/lost/duplicated on the load test's metrics port until scraped.

    Only when something scraped the load test during the run: without a Prometheus there
    is nobody to wait for. Returns what happened, for the report.
    """
    scrapes = sum(o.metrics_scrapes for o in read_outputs(out_dir))
    if not port or not scrapes or timeout_s <= 0:
        return {"served": False, "reason": "no scrape seen during the run" if port else "metrics disabled"}
    registry = metrics.final_counts_registry(report["run_id"], stream, found=int(report["found"]),
                                             lost=int(report["lost"]), duplicated=int(report["duplicates"]))
    scraped = metrics.serve_final_counts(registry, port, timeout_s)
    if not scraped:
        log.warning("final audit counts on :%d were not scraped within %gs", port, timeout_s)
    return {"served": True, "port": port, "scraped": bool(scraped)}
