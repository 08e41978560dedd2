"""What the persona users saw, per process and merged for the run report.

Each Locust process keeps a ``PersonaRecorder`` (queries, rows checked, violations, sign-in
errors, and an HdrHistogram of query latency per persona) and writes it as JSON when Locust
quits. The orchestrator merges those files with ``read_persona_reports`` (histograms by
addition, never by averaging) and ``apply_persona_results`` puts the verdict into the run
report: ``rls_violations``, per-persona latency percentiles, and a problem for every persona
that never got a checked result or only empty ones (a run that checked nothing must not pass
as "0 violations").
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from loadtest.probe import HIST_LOWEST_US, new_latency_histogram
from streamload.core.histograms import decode_histogram, merge_encoded

__all__ = ["PersonaRecorder", "read_persona_reports", "persona_report_path", "persona_report_dir",
           "apply_persona_results", "persona_summary_lines", "PERSONA_REPORT_ENV"]

PERSONA_REPORT_ENV = "STREAMLOAD_PERSONA_REPORT"
_COUNTS = ("queries", "failed_queries", "rows_checked", "violations", "foreign_rows", "column_probes",
           "column_denials", "credential_renewals")
_PERCENTILES = (50, 95, 99)


@dataclass
class _PersonaTally:
    queries: int = 0
    failed_queries: int = 0
    rows_checked: int = 0
    violations: int = 0
    foreign_rows: int = 0
    foreign_regions: dict[str, int] = field(default_factory=dict)
    foreign_columns: list[str] = field(default_factory=list)
    column_probes: int = 0
    column_denials: int = 0
    auth_errors: list[str] = field(default_factory=list)
    credential_renewals: int = 0
    first_violation: str | None = None


class PersonaRecorder:
    """What every persona saw in this process; written as JSON for the run report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tallies: dict[str, _PersonaTally] = {}
        self.latency: dict[str, HdrHistogram] = {}

    def _tally(self, persona: str) -> _PersonaTally:
        return self.tallies.setdefault(persona, _PersonaTally())

    def query(self, persona: str, check, sql: str = "", seconds: float | None = None) -> None:
        """One query's outcome; ``check`` is a ``RowCheck`` or None (the query failed).
        ``seconds`` (submit to last page) goes into the persona's latency histogram."""
        with self._lock:
            tally = self._tally(persona)
            tally.queries += 1
            if check is None or check.problem:
                tally.failed_queries += 1
                return
            if seconds is not None:
                hist = self.latency.get(persona)
                if hist is None:
                    hist = self.latency[persona] = new_latency_histogram()
                hist.record_value(max(int(seconds * 1e6), HIST_LOWEST_US))
            tally.rows_checked += check.rows
            if check.violations:
                tally.violations += check.violations
                tally.foreign_rows += check.foreign_rows
                for region, n in check.foreign_regions.items():
                    tally.foreign_regions[region] = tally.foreign_regions.get(region, 0) + n
                tally.foreign_columns = sorted(set(tally.foreign_columns) | set(check.foreign_columns))
                tally.first_violation = tally.first_violation or f"{check.describe()} from: {sql}"

    def column_probe(self, persona: str, denied: bool) -> None:
        with self._lock:
            tally = self._tally(persona)
            tally.column_probes += 1
            tally.column_denials += denied

    def auth_error(self, persona: str, message: str) -> None:
        with self._lock:
            errors = self._tally(persona).auth_errors
            if message not in errors:
                errors.append(message)

    def renewals(self, persona: str, count: int) -> None:
        with self._lock:
            self._tally(persona).credential_renewals = count

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            personas = {name: vars(t).copy() for name, t in sorted(self.tallies.items())}
            for name, hist in self.latency.items():
                personas[name]["query_histogram"] = hist.encode().decode()
        return {"rls_violations": sum(t["violations"] for t in personas.values()), "personas": personas}

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2))
        tmp.replace(path)


def read_persona_reports(paths: list[Path]) -> dict[str, Any]:
    """Merge per-process persona reports (Locust workers) into the run report's section."""
    merged: dict[str, dict[str, Any]] = {}
    histograms: dict[str, list[str]] = {}
    for path in paths:
        for name, t in json.loads(Path(path).read_text()).get("personas", {}).items():
            into = merged.setdefault(name, vars(_PersonaTally()).copy())
            for key in _COUNTS:
                into[key] += t.get(key, 0)
            for region, n in t.get("foreign_regions", {}).items():
                into["foreign_regions"][region] = into["foreign_regions"].get(region, 0) + n
            into["foreign_columns"] = sorted(set(into["foreign_columns"]) | set(t.get("foreign_columns", [])))
            into["auth_errors"] += [e for e in t.get("auth_errors", []) if e not in into["auth_errors"]]
            into["first_violation"] = into["first_violation"] or t.get("first_violation")
            if t.get("query_histogram"):
                histograms.setdefault(name, []).append(t["query_histogram"])
    for name, encoded in histograms.items():
        merged[name]["query_histogram"] = merge_encoded(encoded).encode().decode()
    return {"rls_violations": sum(t["violations"] for t in merged.values()), "personas": merged}


def persona_report_dir(out_dir: Path) -> Path:
    """The run's folder of per-process persona reports."""
    return Path(out_dir) / "personas"


def persona_report_path(plan) -> Path | None:
    """Where this process writes its persona report: ``$STREAMLOAD_PERSONA_REPORT`` (a
    directory), else ``personas/`` beside the probe report; one file per process."""
    base = os.environ.get(PERSONA_REPORT_ENV) or (
        str(persona_report_dir(Path(plan.probe_out).parent)) if plan.probe_out else "")
    return Path(base) / f"personas-{os.getpid()}.json" if base else None


def _latency_summary(tally: dict[str, Any]) -> dict[str, Any]:
    encoded = tally.get("query_histogram")
    hist = decode_histogram(encoded)
    summary: dict[str, Any] = {f"p{q}_ms": (hist.get_value_at_percentile(q) / 1000.0 if hist else None)
                               for q in _PERCENTILES}
    summary["count"] = hist.get_total_count() if hist else 0
    summary["errors"] = tally["failed_queries"]
    return summary


def apply_persona_results(report: dict[str, Any], persona_names: list[str], out_dir: Path) -> list[str]:
    """Merge the run's persona reports into ``report`` and return its problems.

    Sets ``rls_violations`` (None when no persona report exists: nothing was checked),
    ``personas`` (per persona: counts, foreign rows, sign-in errors, ``query_latency_ms``
    with p50/p95/p99, count and errors) and the ``query:<persona>`` latency histograms
    that thresholds such as ``query_p95{persona=frank} < 2s`` read.
    """
    paths = sorted(persona_report_dir(out_dir).glob("personas-*.json"))
    merged = read_persona_reports(paths) if paths else {"rls_violations": None, "personas": {}}
    report["rls_violations"] = merged["rls_violations"]
    problems = []
    personas: dict[str, Any] = {}
    for name in persona_names:
        tally = merged["personas"].get(name) or vars(_PersonaTally()).copy()
        encoded = tally.pop("query_histogram", None)
        tally["query_latency_ms"] = _latency_summary({**tally, "query_histogram": encoded})
        if encoded:
            report.setdefault("latency_histograms", {})[f"query:{name}"] = encoded
        personas[name] = tally
        checked = tally["queries"] - tally["failed_queries"]
        if checked <= 0:
            why = "; ".join(tally["auth_errors"]) or "no query finished"
            problems.append(f"persona {name} got no checked result ({why})")
        elif tally["rows_checked"] == 0:
            # RLS hides everything from a user with no attached policy: an empty answer
            # proves nothing about leaks, so it must not pass as "0 violations".
            problems.append(f"persona {name} received no rows in {checked} queries "
                            f"(no RLS policy attached to its roles, or an empty table?)")
    report["personas"] = personas
    return problems


def persona_summary_lines(report: dict[str, Any]) -> list[str]:
    """The personas' part of the printed run summary (empty when personas were off)."""
    lines = []
    for name, t in report.get("personas", {}).items():
        lat = t["query_latency_ms"]
        p95 = "n/a" if lat["p95_ms"] is None else f"{lat['p95_ms']:.0f}ms"
        lines.append(f"  persona {name:<8} queries={t['queries']:<5} rows_checked={t['rows_checked']:<7} "
                     f"violations={t['violations']:<4} errors={lat['errors']:<3} p95={p95}")
        if t.get("first_violation"):
            lines.append(f"    first violation: {t['first_violation']}")
    lines += [f"  PROBLEM {p}" for p in report.get("problems", []) if p.startswith("persona ")]
    return lines
