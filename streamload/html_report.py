"""``report.html``: the run at a glance, for the people who decide go-live from it.

One self-contained page (inline CSS and SVG drawn by matplotlib; no scripts, no network):
the verdict and what was tested against what; every threshold with its rule and value;
e2e latency over time with percentile bands, its percentile distribution and its stages;
statement latency per kind and persona; load, errors, throttles and late sends; lost
records by reason; row-level security per persona; the baseline comparison.

``report.json`` is the single source of every number on the page (the throughput chart
reads ``producer_acks_per_second``, from the producers' ledgers). A series the run did not
record is listed as "not measured in this run", never drawn from guesses.
"""
from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from streamload import charts
from streamload import report_data as data
from streamload.charts.units import COLOURS, fmt_count, fmt_ms
from streamload.report import RunReport, as_run_report
from streamload.report_header import headline, threshold_rows, verdict, what_was_tested
from streamload.report_page import Raw, banner, card, esc, facts, missing, page, section, table

log = logging.getLogger("streamload.html_report")

__all__ = ["write_html_report", "throughput_series", "render_run_report"]


def throughput_series(acked_at: list[float], started_at: float) -> list[tuple[int, int]]:
    counts = Counter(int(t - started_at) for t in acked_at if t >= started_at)
    if not counts:
        return []
    return [(s, counts.get(s, 0)) for s in range(0, max(counts) + 1)]


class _Missing:
    """What the page could not show, collected while it is built, listed at its end."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def note(self, what: str, needs: str) -> str:
        self.items.append((what, needs))
        return missing(what)


def _thresholds(report: RunReport) -> str:
    rows = threshold_rows(report)
    if not rows:
        return section("Thresholds", missing("Thresholds", "none configured: this run cannot fail on latency or loss "
                                                           "(set [verdict] thresholds)"))
    body = table(["threshold", "what it measures", "rule", "measured", "verdict"],
                 [[r["threshold"], r["measures"], r["rule"], r["value"], Raw(
                     f"<span class='{'ok' if r['ok'] else 'bad'}'>{'met' if r['ok'] else 'NOT MET'}</span>")]
                  for r in rows], text_columns=(0, 1, 2))
    return section("Thresholds", body + "<p class='muted'>A threshold without a measured value fails.</p>")


def _e2e_cards(report: RunReport, gaps: _Missing) -> list[str]:
    run_charts = charts.load("run_charts")
    probe = report.probe
    samples = probe.get("latency_samples") or []
    bands = data.time_bands(samples)
    over_time = (run_charts.e2e_over_time(samples, bands) if bands else
                 gaps.note("E2E latency over time", "the probe's latency_samples"))
    population = data.population_stages(report)
    rule, error = report.e2e_population.get("rule"), report.e2e_population.get("error")
    note = ("Probe: the records the probe found (a canary). "
            + (f"All records: {rule or 'stages computed in SQL over every record'}." if population else
               f"Stage latency over every record could not be counted: {error}." if error else
               "Stage latency over every record (e2e_population) was not recorded in this run."))
    curves = []
    if points := data.curve_points(probe.get("e2e_histogram")):
        curves.append(("e2e (probe)", COLOURS["total"], points))
    for name, entry in population.items():
        if points := data.curve_points(entry):
            curves.append((f"{name.replace('_', ' ')} (all records)", COLOURS.get(name, COLOURS["neutral"]), points))
    curve = (run_charts.percentile_distribution(curves) if curves else
             gaps.note("Latency percentile distribution", "an e2e HdrHistogram (probe.e2e_histogram)"))
    canary = (f" The probe is a canary: {probe['sampled']:,} records sampled, at most {probe['sample_per_tick']} a tick."
              if probe.get("sampled") is not None and probe.get("sample_per_tick") else "")
    return [card("End-to-end latency over time", over_time,
                 "Each window's p50, p90 and p99 of the probed records, by when the record was produced." + canary),
            card("Latency percentile distribution", curve, note)]


def _stage_card(report: RunReport, gaps: _Missing) -> str:
    run_charts = charts.load("run_charts")
    rows = data.e2e_stage_rows(report) + [
        data.Percentiles(r.label + " (all records)", r.values_ms, r.count) for r in data.population_rows(report)]
    if not rows:
        return card("Where the time goes: e2e stages", gaps.note("E2E stage decomposition", "e2e_stages"))
    chart = run_charts.percentile_bars("stages", "Where the time goes: e2e stages", rows, (50.0, 99.0))
    stage_table = table(["stage", "p50", "p95", "p99", "records"],
                        [[r.label, fmt_ms(r.get(50.0)), fmt_ms(r.get(95.0)), fmt_ms(r.get(99.0)), fmt_count(r.count)]
                         for r in rows])
    return card("Where the time goes: e2e stages", chart + stage_table, report.e2e_stage_rule or "")


def _statement_card(report: RunReport, gaps: _Missing) -> str:
    run_charts = charts.load("run_charts")
    rows = data.statement_latencies(report)
    if not rows:
        return card("Statement latency per kind and persona", gaps.note("Statement latency", "latency_histograms"))
    qs = (50.0, 90.0, 99.0) if any(r.get(90.0) is not None for r in rows) else (50.0, 99.0)
    chart = run_charts.percentile_bars("statements", "Statement latency per kind and persona", rows, qs)
    history = report.statement_history
    over_time = (run_charts.statements_over_time(history) if any(history.values()) else
                 gaps.note("Statement latency over time per kind and persona",
                           "statement_history (Locust's per-kind history); \"Load over time\" has the aggregate"))
    return card("Statement latency per kind and persona", chart + over_time,
                "Data API statements, submit to last result page, from the merged HdrHistograms.")


def _load_cards(report: RunReport, acked_at: list[float] | None, gaps: _Missing) -> list[str]:
    run_charts = charts.load("run_charts")
    producer = report.config.get("producer") or {}
    target = None if producer.get("profile") else float(producer.get("rate") or 0) or None
    # Acknowledgements per second come from the producers' compact ledgers, in report.json.
    recorded = [(int(s), float(n)) for s, n in report.producer_acks_per_second]
    series = recorded or throughput_series(acked_at or [], report.started_at or 0)
    throughput = (run_charts.throughput_over_time(series, target) if series else
                  gaps.note("Throughput over time", "producer_acks_per_second"))
    history = report.locust_history
    locust = (run_charts.locust_over_time(history) if history else
              gaps.note("Locust users, requests and failures over time", "locust_history (Locust's stats history CSV)"))
    totals = data.error_totals(report)
    if not totals:
        errors = gaps.note("Errors, throttles and late sends", "the faults section")
    elif not any(count for _, count in totals):
        errors = ("<p class='ok'>No error, throttle or late send: every counter was 0.</p><p class='muted'>"
                  + esc(", ".join(label for label, _ in totals)) + ".</p>")
    else:
        errors = run_charts.totals_bars("errors", "Errors, throttles and late sends (whole run)", totals)
    over_time = {kind: [(float(s), float(n)) for s, n in points]
                 for kind, points in report.producer_events_per_second.items() if points}
    if history:
        over_time["statement failures"] = [(float(h.get("t_s", 0)), float(h.get("failures_per_s") or 0))
                                           for h in history]
    errors += (run_charts.problems_over_time(over_time) if over_time else
               gaps.note("Errors, throttles and late sends over time",
                         "producer_events_per_second (the producers' ledgers) and locust_history"))
    source = ("Records Kinesis acknowledged in each second of the run, over every producer." if recorded else
              "From acknowledgement times the caller passed in (acked_at), not from report.json." if series else "")
    if series and producer.get("profile"):
        source += f" The target follows the rate profile {producer['profile']} and is not drawn."
    return [card("Throughput against target", throughput, source),
            card("Load over time", locust), card("Errors, throttles and late sends", errors)]


def _audited(report: RunReport, count: str, fallback: int | None) -> int | None:
    """The audit's ``count`` where the audit holds one, else ``fallback``."""
    if report.audit is not None and count in report.audit.model_fields_set:
        return getattr(report.audit, count)
    return fallback


def _correctness_cards(report: RunReport, gaps: _Missing) -> list[str]:
    run_charts = charts.load("run_charts")
    audit = report.audit
    reasons = data.lost_by_reason(report)
    lost = _audited(report, "lost", report.lost)
    if lost is None:
        loss = gaps.note("Lost records", "the audit")
    elif not lost:
        loss = (f"<p class='ok'>No record lost: {fmt_count(_audited(report, 'found', report.found))} of "
                f"{fmt_count(_audited(report, 'produced', report.produced))} found, "
                f"{fmt_count(_audited(report, 'duplicates', 0))} duplicates.</p>")
    else:
        explained = sum(c for _, c in reasons)
        rows = reasons + ([("no reason found", lost - explained)] if lost > explained else [])
        loss = (run_charts.totals_bars("lost", "Lost records by reason", rows)
                + table(["reason", "records"], [[r, fmt_count(c)] for r, c in rows])
                + f"<p class='muted'>first lost: {', '.join(map(str, (audit.lost_first_20 if audit else [])[:5]))}</p>")
    cards = [card("Lost records by reason", loss)]
    personas = data.persona_rows(report)
    if personas:
        rls = run_charts.persona_rows_checked(personas) + table(
            ["persona", "queries", "failed", "rows checked", "violations", "hidden columns denied", "auth errors"],
            [[p["persona"], fmt_count(p["queries"]), fmt_count(p["failed"]), fmt_count(p["rows_checked"]),
              Raw(f"<span class='{'bad' if p['violations'] else 'ok'}'>{fmt_count(p['violations'])}"
                  f"{' (' + esc(p['foreign']) + ')' if p['foreign'] else ''}</span>"),
              f"{fmt_count(p['column_denials'])} of {fmt_count(p['column_probes'])}", fmt_count(p["auth_errors"])]
             for p in personas])
        cards.append(card("Row-level security per persona", rls))
    elif (report.config.get("personas") or {}).get("enabled"):
        cards.append(card("Row-level security per persona", gaps.note("RLS results", "the personas section")))
    return cards


def _baseline(report: RunReport) -> str:
    baseline = report.baseline
    if not baseline:
        return ""
    from streamload.compare_report import comparison_body

    return section(f"Compared with {baseline.path}", comparison_body([r.to_json() for r in baseline.rows],
                                                                     baseline.rule or "", {}))


def _gaps_list(gaps: _Missing) -> str:
    if not gaps.items:
        return ""
    rows = [[what, needs] for what, needs in gaps.items]
    return section("Not measured in this run", "<p class='muted'>What this page would show, and the series "
                   "report.json would need to hold for it:</p>" + table(["chart", "needs"], rows, text_columns=(0, 1)))


def render_run_report(report: RunReport | dict, acked_at: list[float] | None = None) -> str:
    """The page of one run: a report being written (the orchestrator's dict) or one read back."""
    report = as_run_report(report)
    gaps = _Missing()
    passed, reasons = verdict(report)
    run_id = report.run_id or "?"
    body = [
        f"<h1>streamload run {run_id}</h1>",
        banner(passed, headline(report), reasons),
        facts(what_was_tested(report)),
        _thresholds(report),
        section("Latency", "<div class='grid'>" + "".join(
            _e2e_cards(report, gaps) + [_stage_card(report, gaps), _statement_card(report, gaps)]) + "</div>"),
        section("Load, errors and throttling", "<div class='grid'>" + "".join(_load_cards(report, acked_at, gaps))
                + "</div>"),
        section("Correctness", "<div class='grid'>" + "".join(_correctness_cards(report, gaps)) + "</div>"),
        _baseline(report),
        _gaps_list(gaps),
    ]
    return page(f"streamload run {run_id}", body)


def write_html_report(report: RunReport | dict, path: Path, acked_at: list[float] | None = None) -> Path:
    """The run page; a report that does not match ``RunReport`` (a bug, already logged when
    report.json was written) leaves the page out rather than ending the run in a traceback."""
    try:
        html = render_run_report(report, acked_at)
    except ValueError as exc:
        log.error("report.html not written: %s", exc)
        return path
    path.write_text(html)
    return path
