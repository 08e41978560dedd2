"""The run's verdict: ``report.json`` and the ``RESULT`` line.

The RESULT keys (produced, found, lost, duplicates, e2e_p50_ms, e2e_p99_ms) are a contract
with users' scripts: later versions add keys, never rename these.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

__all__ = ["RESULT_KEYS", "build_report", "result_line", "write_report"]

# rls_violations: rows or columns personas saw that RLS should hide; nan when personas are off.
RESULT_KEYS = ("produced", "found", "lost", "duplicates", "e2e_p50_ms", "e2e_p99_ms", "rls_violations")


def _fmt(value: Any) -> str:
    if value is None:
        return "nan"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def build_report(run_id: str, started_at: float, config: dict, audit: dict, probe: dict, locust_stats: dict | None = None) -> dict:
    report: dict[str, Any] = {
        "run_id": run_id,
        "started_at": started_at,
        "finished_at": time.time(),
        "produced": audit["produced"],
        "found": audit["found"],
        "lost": audit["lost"],
        "duplicates": audit["duplicates"],
        "e2e_p50_ms": probe.get("e2e_p50_ms"),
        "e2e_p99_ms": probe.get("e2e_p99_ms"),
        "audit": audit,
        "probe": probe,
        "config": config,
    }
    if locust_stats:
        report["statements"] = locust_stats
    return report


def result_line(report: dict) -> str:
    return "RESULT " + " ".join(f"{key}={_fmt(report.get(key))}" for key in RESULT_KEYS)


def write_report(report: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    return path
