"""The capacity search's ``report.html``: where the knee is, why the failed step failed, and
how many shards to provision, with the arithmetic.

The page reads the search's own ``report.json`` (the evidence table) and each step's
``report.json`` it points to (e2e p90, the stage decomposition, the stream's shard count);
a step report that cannot be read leaves its cells "-", it never stops the page.
"""
from __future__ import annotations

import math
from pathlib import Path

from streamload.core.kinesis_limits import SHARD_BYTES_PER_S, SHARD_RECORDS_PER_S
from streamload import charts as chart_modules
from streamload.charts.units import fmt_count, fmt_ms, fmt_rate
from streamload.core.errors import ConfigError
from streamload.report import RunReport, read_report
from streamload.report_data import STAGES, CapacityStep, percentiles_of, stages_of_population
from streamload.report_header import target_description
from streamload.report_page import Raw, banner, card, esc, facts, missing, page, section, table

__all__ = ["write_capacity_html", "render_capacity_page", "read_step_reports", "capacity_steps", "shard_arithmetic"]



def read_step_reports(data: dict, capacity_dir: Path) -> dict[int, RunReport]:
    """step number -> that step's report.json (read by ``read_report``), where it can be read."""
    out = {}
    for s in data.get("steps") or []:
        if "step" not in s:
            continue
        candidates = [Path(s["report"])] if s.get("report") else []
        candidates.append(capacity_dir / f"step-{int(s['step']):02d}" / "report.json")
        for path in candidates:
            try:
                out[int(s["step"])] = read_report(path, f"step {s['step']} report")
                break
            except ConfigError:  # missing, damaged or not a run report: that step's cells stay "-"
                continue
    return out


def _stage_p99(report: RunReport) -> dict[str, float | None]:
    """p99 of each stage: over every record (``e2e_population``) where the run counted it,
    else from the probe's records (``e2e_stages``; visibility only exists there)."""
    sources = (stages_of_population(report.e2e_population), report.e2e_stages)
    out: dict[str, float | None] = {}
    for name in STAGES:
        found = (percentiles_of(source.get(name), name, (99.0,)) for source in sources if source.get(name))
        out[name] = next((p.get(99.0) for p in found if p and p.get(99.0) is not None), None)
    return out


def capacity_steps(data: dict, reports: dict[int, RunReport]) -> list[CapacityStep]:
    """The steps in rate order, with what their own reports add."""
    steps = []
    for s in data.get("steps") or []:
        report = reports.get(int(s.get("step", 0))) or RunReport()
        e2e = (percentiles_of(report.probe.get("e2e_histogram"), "e2e", (90.0,))
               or percentiles_of(report.e2e_stages.get("total"), "e2e", (90.0,)))
        steps.append(CapacityStep(
            step=int(s.get("step", 0)), rate=float(s["rate"]), achieved=s.get("achieved"), held=bool(s.get("held")),
            p50=s.get("e2e_p50_ms"), p90=e2e.get(90.0) if e2e else None, p99=s.get("e2e_p99_ms"),
            stages_p99=_stage_p99(report), throttled=float(s.get("throttled") or 0), late=float(s.get("late") or 0),
            lost=float(s.get("lost") or 0)))
    return sorted(steps, key=lambda st: st.rate)


def _tested_shards(reports: dict[int, RunReport]) -> int | None:
    shards = {(r.config.get("stream") or {}).get("shards") for r in reports.values()}
    shards.discard(None)
    return shards.pop() if len(shards) == 1 else None


def shard_arithmetic(data: dict, tested_shards: int | None) -> list[tuple[str, str]]:
    """How the recommendation follows from the held rate, the headroom and the shard limits."""
    plan = data.get("plan") or {}
    held = data.get("held_rate")
    if held is None:
        return [("Shards", "no recommendation: no step held")]
    headroom, record_bytes = float(plan.get("headroom", 1.25)), float(plan.get("record_bytes", 1100))
    sized = held * headroom
    mib = sized * record_bytes / SHARD_BYTES_PER_S
    by_records, by_bytes = math.ceil(sized / SHARD_RECORDS_PER_S), math.ceil(mib)
    rows = [
        ("Sized for", f"{fmt_count(held)} records/s held × {headroom:g} headroom = {fmt_count(sized)} records/s "
                      f"of ~{record_bytes:,.0f} B = {mib:,.2f} MiB/s"),
        ("By records", f"{fmt_count(sized)} records/s ÷ 1,000 records/s per shard = {sized / SHARD_RECORDS_PER_S:,.2f}"
                       f" → {by_records} shard(s)"),
        ("By bytes", f"{mib:,.2f} MiB/s ÷ 1 MiB/s per shard = {mib:,.2f} → {by_bytes} shard(s)"),
        ("Recommended", f"{data.get('recommended_shards')} shard(s) (the larger; Kinesis write limits per shard: "
                        "1,000 records/s and 1 MiB/s)"),
    ]
    if tested_shards:
        limit = tested_shards * min(SHARD_RECORDS_PER_S, SHARD_BYTES_PER_S / record_bytes)
        rows.append(("Tested stream", f"{tested_shards} shard(s): write limit ~{fmt_count(limit)} records/s at "
                                      f"{record_bytes:,.0f} B; the held rate is {held / limit:.0%} of it"))
    rows.append(("Query concurrency", f"{data.get('query_users', '?')} query user(s), as every step ran "
                                      "(this search steps the producer rate only)"))
    return rows


def _step_table(data: dict, steps: list[CapacityStep]) -> str:
    by_step = {int(s.get("step", 0)): s for s in data.get("steps") or []}
    rows = []
    for st in sorted(steps, key=lambda x: x.step):
        raw = by_step.get(st.step, {})
        share = f"{st.achieved / st.rate:.0%}" if st.achieved is not None and st.rate else "-"
        verdict = Raw("<span class='ok'>held</span>") if st.held else Raw(
            "<span class='bad'>FAILED</span>: " + esc("; ".join(map(str, raw.get("why") or []))))
        rows.append([st.step, fmt_rate(st.rate), fmt_rate(st.achieved), share, fmt_ms(st.p50), fmt_ms(st.p90),
                     fmt_ms(st.p99)] + [fmt_ms(st.stages_p99.get(s)) for s in STAGES]
                    + [fmt_count(st.throttled), fmt_count(st.late), fmt_count(st.lost), verdict])
    head = ["step", "target", "achieved", "of target", "e2e p50", "e2e p90", "e2e p99", "put p99", "arrival p99",
            "refresh lag p99", "visibility p99", "throttled", "late", "lost", "verdict"]
    return table(head, rows, text_columns=(14,))


def render_capacity_page(data: dict, capacity_dir: Path) -> str:
    reports = read_step_reports(data, capacity_dir)
    steps = capacity_steps(data, reports)
    plan = data.get("plan") or {}
    held, failed = data.get("held_rate"), data.get("failed_rate")
    headroom = float(plan.get("headroom", 1.25))
    operating = held / headroom if held else None
    headline = (f"highest rate that held: {fmt_rate(held)}; knee {data.get('knee', '?')}; "
                + (f"recommended {data.get('recommended_shards')} shard(s)" if held else "no recommendation"))
    first = reports[min(reports)] if reports else None
    thresholds = ", ".join(data.get("thresholds") or []) or "none"
    tested = [
        ("Target", target_description(first.config) if first else "not recorded (no step report)"),
        ("Search", f"{fmt_rate(plan.get('start_rate'))} up to {fmt_rate(plan.get('max_rate'))}, "
                   f"{plan.get('step_duration_s', '?')} s per step, {len(steps)} step(s) run; "
                   f"stopped: {data.get('stopped_because', '?')}"),
        ("A step holds when", f"every threshold is met ({thresholds}) and the producer achieved at least "
                              f"{float(plan.get('min_achieved', 0.95)):.0%} of the target rate"),
        ("Operating point", f"≤ {fmt_rate(operating)} on the tested set-up (the held rate ÷ {headroom:g} headroom)"
         if operating else "none: no step held"),
    ]
    charts = chart_modules.load("capacity_charts")
    cards = [card("E2E latency against rate", charts.latency_against_rate(steps, held, failed, operating),
                  "p50 / p90 / p99 per step; the shaded band is the knee, between the highest rate that held and "
                  "the lowest that failed."),
             card("Achieved against target", charts.achieved_against_target(steps, float(plan.get("min_achieved", 0.95)))),
             card("Which stage broke: p99 of each stage per step", charts.stages_against_rate(steps),
                  "put: produced → acknowledged; arrival: produced → Kinesis arrival; refresh lag: arrival → in the "
                  "view; visibility: in the view → first returned by a query."),
             card("Throttles, late sends and lost records per step", charts.pushback_per_step(steps))] if steps else []
    body = [
        "<h1>streamload capacity</h1>",
        banner(held is not None, headline),
        facts(tested),
        section("Shard recommendation", facts(shard_arithmetic(data, _tested_shards(reports)))),
        section("Evidence", "<div class='grid'>" + "".join(cards) + "</div>" if cards else
                missing("Charts", "no step ran")),
        section("Steps (in the order run)", _step_table(data, steps)),
    ]
    return page("streamload capacity", body)


def write_capacity_html(data: dict, out_dir: Path) -> Path:
    """``report.html`` beside the search's ``report.json`` (``data`` is that JSON's content)."""
    path = out_dir / "report.html"
    path.write_text(render_capacity_page(data, out_dir))
    return path
