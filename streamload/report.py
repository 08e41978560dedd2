"""The run's verdict: ``report.json`` (one typed model, its writer and its reader) and the
``RESULT`` line.

The RESULT keys (produced, found, lost, duplicates, e2e_p50_ms, e2e_p99_ms) are a contract
with users' scripts: later versions add keys, never rename these.

``RunReport`` declares every field a run writes (every one the docs name is tested to be here). Every field is
optional and unknown fields are kept (``extra="allow"``): a report written by an older or a
newer version reads, and writes back with the same keys and meanings. Sections that are
stable and read by the verdict get their own model (audit counts, thresholds, the baseline
comparison, the cost estimate, the Locust processes); big or free-form sections stay JSON
objects (``dict[str, Any]``): the encoded HdrHistograms, the probe's samples, the config
(typed in ``streamload.core.config``; a report keeps its masked dump, which older reports
wrote with fewer fields), per-persona tallies, faults, the open model.

``write_report`` writes what the orchestrator built, then validates it (a mismatch is logged,
the file is kept);
``read_report`` is the one way to read a report file: a missing file, a file that is not
JSON, or JSON that is not a streamload run report is a one-line ``ConfigError`` (exit 2).
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Mapping, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from streamload.core.errors import ConfigError

__all__ = ["RESULT_KEYS", "AuditCounts", "BaselineComparison", "ComparisonRow", "CostEstimate", "LoadProcesses",
           "Number", "ReportFile", "RunReport", "ThresholdOutcome", "as_report_json", "as_run_report", "build_report",
           "read_report", "read_report_json", "report_from_json", "result_line", "validation_summary", "write_report"]

# rls_violations: rows or columns personas saw that RLS should hide; nan when personas are off.
log = logging.getLogger("streamload.report")

RESULT_KEYS = ("produced", "found", "lost", "duplicates", "e2e_p50_ms", "e2e_p99_ms", "rls_violations")

Number = Union[int, float]  # kept as written: an int stays an int on the way back to JSON
Series = list[list[Number]]  # [[seconds since start, value], ...]

# What other streamload files called report.json (or handed to compare) say they are.
_OTHER_KINDS = {"capacity": "a capacity search report (its steps' run reports are under step-NN/)",
                "streamload-baseline": "a baseline file (read it with `streamload compare`)"}


class _Section(BaseModel):
    """A JSON object typed where declared, every other key kept as it was."""

    model_config = ConfigDict(extra="allow")

    def to_json(self) -> dict[str, Any]:
        """The object as on disk: the keys that were set, none invented (no ``null`` defaults)."""
        return self.model_dump(mode="json", exclude_unset=True)


class ReportFile(_Section):
    """A whole JSON file streamload writes (a run report, a baseline file)."""


class AuditCounts(_Section):
    """The end-of-run audit (``streamload.audit.AuditResult.to_json``) plus ``lost_reasons``."""
    produced: int | None = None
    sent: int | None = None
    found: int | None = None
    lost: int | None = None
    duplicates: int | None = None
    unexpected: int | None = None
    lost_first_20: list[Any] = []
    duplicated_first_20: list[Any] = []
    lost_by_outcome: dict[str, Any] = {}
    lost_ranges: list[dict[str, Any]] = []
    lost_ranges_total: int | None = None
    duplicate_examples: list[dict[str, Any]] = []
    producer: dict[str, Any] = {}  # generated, sent, expired, rejected, late, ...
    per_producer: dict[str, Any] = {}
    result_bytes: int | None = None
    lost_reasons: dict[str, Any] = {}  # lost_by_reason, lost_examples, poison_records, scan_errors


class ThresholdOutcome(_Section):
    """One ``[verdict]`` threshold as judged (``ThresholdResult.to_json``): value in the limit's unit."""
    threshold: str
    value: Number | None = None
    limit: Number | None = None
    op: str | None = None
    ok: bool


class ComparisonRow(_Section):
    """One metric against the baseline (``streamload.compare.Comparison``)."""
    metric: str
    baseline: Number | None = None
    current: Number | None = None
    allowed: Number | None = None
    regressed: bool = False


class BaselineComparison(_Section):
    """``run --baseline``: the file compared with, the rule printed, every row, the verdict."""
    path: str | None = None
    rule: str | None = None
    rows: list[ComparisonRow] = []
    regressed: bool = False
    regressed_metrics: list[str] = []  # older reports do not have it: derive from rows


class CostEstimate(_Section):
    """What an AWS run was estimated to cost before it started (``streamload aws cost``)."""
    total_usd: Number | None = None
    kinesis_usd: Number | None = None
    redshift_usd: Number | None = None
    note: str | None = None


class LoadProcesses(_Section):
    """Which Locust processes reported: 0 is the master (or the single process), workers 1..N."""
    expected: list[int] = []
    reported: list[int] = []
    lost: list[int] = []
    not_measured: list[str] = []


class RunReport(ReportFile):
    """``report.json`` of one run (``streamload run`` / ``demo``, each capacity or baseline step)."""
    run_id: str | None = None
    started_at: Number | None = None  # epoch seconds
    finished_at: Number | None = None
    # the RESULT line's counts and latencies
    produced: int | None = None
    found: int | None = None
    lost: int | None = None
    duplicates: int | None = None
    e2e_p50_ms: Number | None = None
    e2e_p99_ms: Number | None = None
    rls_violations: int | None = None
    config: dict[str, Any] = {}  # the run's StreamloadConfig, secrets masked
    audit: AuditCounts | None = None
    probe: dict[str, Any] = {}  # the canary: found, expected, e2e/arrival histograms, latency_samples, ...
    thresholds: list[ThresholdOutcome] = []
    baseline: BaselineComparison | None = None
    problems: list[str] = []
    load_processes: LoadProcesses | None = None
    cost_estimate: CostEstimate | None = None
    # latency: encoded HdrHistograms and the percentiles derived from them
    statements: dict[str, dict[str, Any]] = {}  # Locust's own table, per name
    latency_histograms: dict[str, str] = {}  # statement kind (query:<persona>, ...) -> encoded HdrHistogram
    statement_latency_ms: dict[str, dict[str, Any]] = {}
    e2e_population: dict[str, Any] = {}  # every record's stages, counted in SQL: stages, rule, error
    e2e_stages: dict[str, dict[str, Any]] = {}  # the canary's stages, plus put from the ledgers
    e2e_stage_rule: str | None = None
    # load over time
    producer_acks_per_second: Series = []
    producer_events_per_second: dict[str, Series] = {}  # throttled, retried, late
    locust_history: list[dict[str, Any]] = []
    statement_history: dict[str, Any] = {}
    open_model: dict[str, dict[str, Any]] = {}
    dataapi_poll: dict[str, Any] = {}
    # what else the run met
    personas: dict[str, Any] = {}
    faults: dict[str, Any] | None = None
    final_metrics: dict[str, Any] = {}


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


def as_report_json(report: ReportFile | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON object of a report, whether read (a model) or being built (the orchestrator's dict)."""
    if isinstance(report, ReportFile):
        return report.to_json()
    return report if isinstance(report, dict) else dict(report)


def as_run_report(report: RunReport | Mapping[str, Any]) -> RunReport:
    """A ``RunReport`` of the report a run is building (its dict) or of one already read.
    A field of the wrong type is a bug in the code that built it: ``ValueError``."""
    if isinstance(report, RunReport):
        return report
    try:
        return RunReport.model_validate(report)
    except ValidationError as exc:
        raise ValueError(f"the run report does not match RunReport: {validation_summary(exc)}") from None


def result_line(report: RunReport | Mapping[str, Any]) -> str:
    data = as_report_json(report)
    return "RESULT " + " ".join(f"{key}={_fmt(data.get(key))}" for key in RESULT_KEYS)


def validation_summary(exc: ValidationError) -> str:
    """A pydantic error in one line: where the first wrong field is, what is wrong, how many more."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the top level"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def write_report(report: RunReport | Mapping[str, Any], out_dir: Path) -> Path:
    """``<out_dir>/report.json``. A dict is written as built (same keys, same order as before
    the model existed), then checked against ``RunReport``: a field of the wrong type is a bug
    in the code that built it, logged as an error naming the field -- never a reason to lose a
    long run's measurements."""
    data = report.to_json() if isinstance(report, RunReport) else report
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    if not isinstance(report, RunReport):
        try:
            as_run_report(report)
        except ValueError as exc:
            log.error("%s (written anyway: %s)", exc, path)
    return path


def read_report_json(path: Path, what: str = "report") -> dict[str, Any]:
    """The JSON object in ``path``; ConfigError (one line naming the file and the cause) when
    it cannot be read, is not JSON or is not a JSON object."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not JSON: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} is not a streamload report: a JSON {type(data).__name__}, not an object")
    return data


def read_report(path: Path, what: str = "report") -> RunReport:
    """A run's ``report.json``, typed. ConfigError (one line) when the file is missing, not
    JSON, another kind of streamload file, or holds a declared field of the wrong type."""
    data = read_report_json(path, what)
    return report_from_json(data, path, what)


def report_from_json(data: dict[str, Any], path: Path | str, what: str = "report") -> RunReport:
    """``data`` (the JSON object read from ``path``) as a ``RunReport``, or ConfigError."""
    kind = data.get("kind")
    if kind in _OTHER_KINDS:
        raise ConfigError(f"{what} {path} is not a run report: it is {_OTHER_KINDS[kind]}")
    try:
        report = RunReport.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{what} {path} is not a streamload run report: {validation_summary(exc)}") from None
    if not report.model_fields_set & RunReport.model_fields.keys():  # extras count as set too
        raise ConfigError(f"{what} {path} is not a streamload run report: it has none of its fields "
                          "(run_id, produced, e2e_p99_ms, ...)")
    return report
