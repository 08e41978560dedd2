"""``streamload capacity``: the highest producer rate the pipeline holds, with the evidence.

The search runs short runs at stepped rates: it doubles the rate from ``start_rate`` until a
step fails (or ``max_rate`` holds), then bisects between the highest rate that held and the
lowest that failed until they are within ``resolution`` of each other. It is bounded by
``max_steps`` and by ``max_total_s`` (a step that would not finish inside the budget, judged
by the steps so far, is not started).

A step *holds* when every threshold of ``[verdict]`` is met **and** the producer achieved at
least ``min_achieved`` of the target rate (a pipeline that throttles the producer down has
not taken the rate, even if what it took arrived quickly). Each step is an ordinary run with
its own ``report.json`` under ``step-NN/``; the search writes the evidence table to
``report.json`` and ``report.html`` in its own folder.

The recommendation: shards = ceil(held rate × ``headroom`` ÷ what one shard takes, by records
(1,000/s) and by bytes (1 MiB/s at ``record_bytes`` per record)); the query concurrency is
the configured one, which every step ran with (this search steps the rate only).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from streamload.audit import read_ledgers
from streamload.core.config import StreamloadConfig
from streamload.core.kinesis_limits import SHARD_BYTES_PER_S, SHARD_RECORDS_PER_S
from streamload.core.producer_summary import SUMMARY_SUFFIX
from streamload.report import RunReport

__all__ = ["CapacityPlan", "RateSearch", "StepResult", "CapacityResult", "step_result", "run_capacity",
           "format_table", "recommend_shards", "write_capacity_report"]


@dataclass(frozen=True)
class CapacityPlan:
    start_rate: float
    max_rate: float
    step_duration_s: float
    max_steps: int = 8
    max_total_s: float = 1800.0
    resolution: float = 0.10
    min_achieved: float = 0.95
    headroom: float = 1.25
    record_bytes: int = 1100

    def __post_init__(self) -> None:
        if not 0 < self.start_rate <= self.max_rate:
            raise ValueError(f"need 0 < start rate ({self.start_rate:g}) <= max rate ({self.max_rate:g})")
        if self.max_steps < 1 or self.step_duration_s <= 0 or self.max_total_s <= 0:
            raise ValueError("max steps, step duration and the time budget must be positive")
        if not 0 < self.min_achieved <= 1 or self.resolution <= 0:
            raise ValueError("min achieved must be in (0, 1] and resolution > 0")


def _round_rate(rate: float) -> float:
    return float(round(rate)) if rate >= 10 else round(rate, 2)


class RateSearch:
    """Which rate to try next: doubling, then bisection. Pure, so it is tested on its own."""

    def __init__(self, plan: CapacityPlan) -> None:
        self.plan = plan
        self.held: float | None = None
        self.failed: float | None = None
        self.tried: list[float] = []

    def record(self, rate: float, held: bool) -> None:
        self.tried.append(rate)
        if held:
            self.held = rate if self.held is None else max(self.held, rate)
        else:
            self.failed = rate if self.failed is None else min(self.failed, rate)

    def next_rate(self) -> float | None:
        if len(self.tried) >= self.plan.max_steps:
            return None
        if not self.tried:
            return self.plan.start_rate
        if self.failed is None:  # still doubling
            if self.held is not None and self.held >= self.plan.max_rate:
                return None
            return min(_round_rate(self.held * 2), self.plan.max_rate)  # type: ignore[operator]
        low = self.held if self.held is not None else 0.0
        if self.held is None and self.failed <= self.plan.start_rate / 16:
            return None  # nothing holds even at a sixteenth of the start rate
        if self.held is not None and (self.failed - self.held) <= self.plan.resolution * self.held:
            return None
        rate = _round_rate((low + self.failed) / 2)
        return None if rate in self.tried else rate


@dataclass
class StepResult:
    step: int
    rate: float
    achieved: float | None
    e2e_p50_ms: float | None
    e2e_p99_ms: float | None
    lost: int
    throttled: int
    late: int
    held: bool
    why: list[str] = field(default_factory=list)
    report: str = ""
    wall_s: float = 0.0


@dataclass
class CapacityResult:
    steps: list[StepResult]
    held_rate: float | None
    failed_rate: float | None
    recommended_shards: int | None
    query_users: int
    stopped_because: str

    def knee(self) -> str:
        if self.held_rate is None:
            return f"below {self.failed_rate:g} records/s (no step held)"
        if self.failed_rate is None:
            return f"above {self.held_rate:g} records/s (every step held)"
        return f"between {self.held_rate:g} and {self.failed_rate:g} records/s"

    def to_json(self) -> dict:
        return {"steps": [asdict(s) for s in self.steps], "held_rate": self.held_rate, "failed_rate": self.failed_rate,
                "knee": self.knee(), "recommended_shards": self.recommended_shards,
                "query_users": self.query_users, "stopped_because": self.stopped_because}


def recommend_shards(rate: float, plan: CapacityPlan) -> int:
    per_shard = min(SHARD_RECORDS_PER_S, SHARD_BYTES_PER_S / plan.record_bytes)
    return max(1, math.ceil(rate * plan.headroom / per_shard))


def step_result(step: int, rate: float, report: RunReport | dict, exit_code: int, out_dir: Path,
                plan: CapacityPlan) -> StepResult:
    """Judge one step from its report (as the run built it, or read back) and its producers' summaries."""
    report = report if isinstance(report, RunReport) else RunReport.model_validate(report)
    # "ledger-*.json" also matches each ledger's summary file: keep the ledgers only.
    ledgers = sorted(p for p in out_dir.glob("ledger-*.json") if not p.name.endswith(SUMMARY_SUFFIX))
    summaries = read_ledgers(ledgers).summaries
    achieved = sum(s.achieved_rate for s in summaries) if summaries else None
    why = [f"threshold {t.threshold} (value {t.value})" for t in report.thresholds if not t.ok]
    why += report.problems
    if exit_code != 0 and not why:
        why.append(f"run exited {exit_code}")
    if achieved is None or achieved < plan.min_achieved * rate:
        shown = "unknown" if achieved is None else f"{achieved:.1f}/s"
        why.append(f"achieved {shown} < {plan.min_achieved:.0%} of {rate:g}/s")
    return StepResult(
        step=step, rate=rate, achieved=achieved, e2e_p50_ms=report.e2e_p50_ms, e2e_p99_ms=report.e2e_p99_ms,
        lost=int(report.lost or 0), throttled=sum(s.throttled for s in summaries),
        late=sum(s.late for s in summaries), held=not why, why=why,
        report=str(out_dir / "report.json"),
    )


RunStep = Callable[[StreamloadConfig, Path], tuple["RunReport | dict", int]]


def run_capacity(cfg: StreamloadConfig, out_dir: Path, plan: CapacityPlan, run_step: RunStep,
                 announce: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic) -> CapacityResult:
    """Step the rate as ``RateSearch`` says; ``run_step(cfg, dir)`` runs one step and returns
    (report, exit code). Every loop here is bounded by ``max_steps`` and ``max_total_s``."""
    from streamload.baseline import isolated

    search = RateSearch(plan)
    steps: list[StepResult] = []
    started = clock()
    stopped = "search converged"
    while (rate := search.next_rate()) is not None:
        elapsed = clock() - started
        if steps:
            expected = max(s.wall_s for s in steps)
            if elapsed + expected > plan.max_total_s:
                stopped = f"time budget: another step (~{expected:.0f}s) would pass {plan.max_total_s:g}s"
                break
        index = len(steps) + 1
        step_cfg = isolated(cfg, f"s{index:02d}")
        step_cfg.producer.rate = rate
        step_cfg.producer.duration_s = plan.step_duration_s
        step_cfg.producer.total = None
        step_dir = out_dir / f"step-{index:02d}"
        t0 = clock()
        report, code = run_step(step_cfg, step_dir)
        result = step_result(index, rate, report, code, step_dir, plan)
        result.wall_s = clock() - t0
        steps.append(result)
        search.record(rate, result.held)
        announce(_step_line(result))
    else:
        if len(steps) >= plan.max_steps:
            stopped = f"step limit ({plan.max_steps}) reached"
        elif search.failed is None:
            stopped = f"max rate {plan.max_rate:g}/s held"
    held = search.held
    return CapacityResult(steps, held, search.failed, recommend_shards(held, plan) if held else None,
                          cfg.load.query_users, stopped)


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _step_line(s: StepResult) -> str:
    verdict = "held" if s.held else "FAILED: " + "; ".join(s.why)
    return (f"step {s.step}: {s.rate:g} records/s achieved={_fmt(s.achieved, ',.1f')} "
            f"e2e_p99_ms={_fmt(s.e2e_p99_ms)} lost={s.lost} throttled={s.throttled} {verdict}")


def format_table(result: CapacityResult) -> str:
    head = f"{'step':>4} {'rate/s':>9} {'achieved/s':>11} {'e2e p50 ms':>11} {'e2e p99 ms':>11} {'lost':>6} {'throttled':>9}  verdict"
    lines = [head]
    for s in result.steps:
        lines.append(f"{s.step:>4} {s.rate:>9,g} {_fmt(s.achieved, ',.1f'):>11} {_fmt(s.e2e_p50_ms):>11} "
                     f"{_fmt(s.e2e_p99_ms):>11} {s.lost:>6} {s.throttled:>9}  {'held' if s.held else 'FAILED'}")
    held = "none" if result.held_rate is None else f"{result.held_rate:g} records/s"
    lines.append(f"highest rate that held: {held}; knee {result.knee()}; stopped: {result.stopped_because}")
    if result.recommended_shards:
        lines.append(f"recommended: {result.recommended_shards} shard(s) for {result.held_rate:g} records/s "
                     f"(with headroom), query concurrency {result.query_users} user(s) as tested")
    return "\n".join(lines)


def write_capacity_report(result: CapacityResult, plan: CapacityPlan, out_dir: Path, thresholds: list[str]) -> Path:
    """``report.json`` (the evidence table) and ``report.html`` (charts, shard arithmetic, table)."""
    from streamload.capacity_report import write_capacity_html

    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"kind": "capacity", "plan": asdict(plan), "thresholds": thresholds, **result.to_json()}
    path = out_dir / "report.json"
    path.write_text(json.dumps(data, indent=2))
    write_capacity_html(data, out_dir)
    return path
