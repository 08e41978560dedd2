"""``streamload baseline --repeat N``: run the same run N times and keep what a later
``compare`` needs to tell a regression from noise: the median of every compared metric and
its run-to-run spread.

The spread of a metric is the largest distance of one run from the median of the N runs
(max |x_i − median|); ``compare`` allows ``noise_k`` × that on top of the baseline. With
N = 1 the spread is 0 and only the relative rise and ``min_delta_ms`` protect against noise,
so use N ≥ 3 for a CI gate.

Also home of the plumbing every series of runs shares (``capacity`` uses it too): one
local stack for the whole series, and a stream and view of its own for each run on the
local stack, so that no run sees (or has to scan) its predecessors' records.
"""
from __future__ import annotations

import json
import statistics
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from pydantic import ValidationError

from streamload.compare import COUNT_METRICS, LATENCY_METRICS, latency_ms
from streamload.core.config import ConfigError, StreamloadConfig
from streamload.report import Number, ReportFile, RunReport, read_report_json, report_from_json, validation_summary

__all__ = ["BASELINE_KIND", "BaselineFile", "isolated", "local_stack_for", "summarise_runs", "format_baseline",
           "read_baseline", "run_baseline", "targets_local_stack", "write_baseline"]

BASELINE_KIND = "streamload-baseline"
Announce = Callable[[str], None]


def _say(text: str) -> None:
    print(text, flush=True)


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


def targets_local_stack(cfg: StreamloadConfig) -> bool:
    """Endpoint URLs select the local stack (docs/conventions.md); without both, the run goes to AWS."""
    return bool(cfg.target.kinesis_endpoint_url and cfg.target.redshift_data_endpoint_url)


@contextmanager
def local_stack_for(cfg: StreamloadConfig, local: bool, announce: Announce = _say) -> Iterator[None]:
    """With ``local``, start one local stack for a whole series of runs and aim ``cfg`` at it."""
    if not local:
        yield
        return
    from emulator.stack import LocalStack

    with LocalStack(personas=cfg.personas.all_personas) as stack:
        announce(f"local stack: kinesis {stack.kinesis_url}  redshift-data {stack.redshift_data_url}  "
                 f"identity {stack.identity_url}")
        stack.point_config_at_stack(cfg)
        yield


def isolated(cfg: StreamloadConfig, tag: str) -> StreamloadConfig:
    """A copy of ``cfg`` for one run of a series.

    On the local stack the run gets its own stream and materialized view (``-<tag>``), so
    every run starts from an empty view, as the first did. Against AWS the configured
    ones are reused: a new stream per run would cost money and be unknown to teardown.
    """
    copy = cfg.model_copy(deep=True)
    if targets_local_stack(cfg):
        copy.stream.name = f"{cfg.stream.name}-{tag}"
        copy.redshift.materialized_view = f"{cfg.redshift.materialized_view}_{tag}"
    copy.verdict.baseline = None
    return copy


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


def run_baseline(cfg: StreamloadConfig, out_dir: Path, repeat: int, local: bool,
                 announce: Announce = _say) -> tuple[dict, list[int]]:
    """Run ``repeat`` times (one local stack for all when ``local``); the baseline and each
    run's exit code. Target errors propagate (the caller maps them to exit codes)."""
    from streamload.run import execute_run

    reports, codes = [], []
    with local_stack_for(cfg, local, announce):
        for i in range(1, repeat + 1):
            run_cfg = isolated(cfg, f"r{i}")
            outcome = execute_run(run_cfg, out_dir / f"run-{i}")
            reports.append(outcome.report)
            codes.append(outcome.exit_code)
            announce(f"run {i}/{repeat}: e2e_p50_ms={_fmt(outcome.report.get('e2e_p50_ms'))} "
                     f"e2e_p99_ms={_fmt(outcome.report.get('e2e_p99_ms'))} lost={outcome.report.get('lost')} "
                     f"{'ok' if outcome.exit_code == 0 else 'FAILED its thresholds'}")
    return summarise_runs(reports), codes


def _fmt(value: float | None) -> str:
    return "nan" if value is None else f"{value:.1f}"
