"""``compare.html``: what ``streamload compare`` prints, as a page: baseline against current
per metric, the run-to-run noise band, the rule that judged them, regressions highlighted.

The same body shows in ``report.html`` when a run was compared with a baseline
(``run --baseline``). Every number comes from the two JSON files compared.
"""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Iterable

from streamload import charts
from streamload.charts.units import fmt_count, fmt_ms
from streamload.compare import COUNT_METRICS, CompareRule, Compared
from streamload.report import as_report_json
from streamload.report_page import Raw, banner, esc, facts, page, section, table

__all__ = ["noise_bands", "comparison_body", "render_compare_page", "write_compare_html", "write_compare_beside"]


def _as_dict(row: Any) -> dict:
    return asdict(row) if is_dataclass(row) else dict(row)


def noise_bands(baseline: Compared, rule: CompareRule) -> dict[str, tuple[float, float]]:
    """metric -> (baseline - k × spread, baseline + k × spread), for metrics whose spread a
    baseline file measured (a single report.json has none)."""
    baseline = as_report_json(baseline)
    bands = {}
    for metric, spread in (baseline.get("noise") or {}).items():
        centre = baseline.get(metric)
        if metric in COUNT_METRICS or centre is None or not spread:
            continue
        bands[metric] = (max(float(centre) - rule.noise_k * float(spread), 0.0), float(centre) + rule.noise_k * float(spread))
    return bands


def _fmt(metric: str, value: float | None) -> str:
    return fmt_count(value) if metric in COUNT_METRICS else fmt_ms(value)


def _verdict(r: dict) -> Raw:
    if r.get("regressed"):
        return Raw("<span class='bad'>REGRESSED</span>")
    if r.get("baseline") is None or r.get("current") is None:
        return Raw("<span class='muted'>no data</span>")
    return Raw("<span class='ok'>ok</span>")


def _change(r: dict) -> str:
    b, c = r.get("baseline"), r.get("current")
    if b is None or c is None:
        return "-"
    if not b:
        return "-" if not c else f"+{fmt_count(c)}"
    return f"{(c - b) / b:+.1%}"


def comparison_body(rows: Iterable[Any], rule_text: str, bands: dict[str, tuple[float, float]]) -> str:
    """The rule, the chart of latency metrics with both values, and the full table."""
    rows = [_as_dict(r) for r in rows]
    plotted = [r for r in rows if r["metric"] not in COUNT_METRICS and r.get("baseline") is not None
               and r.get("current") is not None]
    chart = charts.load("compare_charts").comparison_chart(plotted, {m: b for m, b in bands.items() if any(r["metric"] == m for r in plotted)}) \
        if plotted else "<p class='missing'>No latency metric has a value in both files.</p>"
    band_cell = lambda m: (f"{fmt_ms(bands[m][0])} – {fmt_ms(bands[m][1])}" if m in bands  # noqa: E731
                           else "-" if m in COUNT_METRICS else "not measured")
    body = table(["metric", "baseline", "noise band", "allowed", "current", "change", "verdict"],
                 [[r["metric"], _fmt(r["metric"], r.get("baseline")), band_cell(r["metric"]),
                   _fmt(r["metric"], r.get("allowed")), _fmt(r["metric"], r.get("current")), _change(r), _verdict(r)]
                  for r in rows], classes=["regressed" if r.get("regressed") else "" for r in rows])
    return (f"<p><b>Rule.</b> {esc(rule_text)}</p>"
            f"<div class='card wide'>{chart}</div><div class='card wide'>{body}"
            "<p class='muted'>noise band: the baseline ± k × its run-to-run spread (a baseline file of N runs); "
            "allowed: the highest current value the rule accepts.</p></div>")


def _describe(report: dict, path: str) -> str:
    if report.get("kind") == "streamload-baseline":
        return f"{path}: baseline of {report.get('repeat', '?')} run(s) (medians and run-to-run spread)"
    return f"{path}: single run {report.get('run_id', '?')} (no run-to-run spread measured)"


def render_compare_page(baseline: Compared, current: Compared, rows: Iterable[Any], rule: CompareRule,
                        baseline_path: str, current_path: str) -> str:
    baseline, current = as_report_json(baseline), as_report_json(current)
    rows = [_as_dict(r) for r in rows]
    regressed = [r["metric"] for r in rows if r.get("regressed")]
    headline = ("regressed: " + ", ".join(regressed)) if regressed else "no regression against the baseline"
    return page("streamload compare", [
        "<h1>streamload compare</h1>",
        banner(not regressed, headline),
        facts([("Baseline", _describe(baseline, baseline_path)), ("Current", _describe(current, current_path))]),
        section("Baseline against current", comparison_body(rows, rule.describe(), noise_bands(baseline, rule))),
    ])


def write_compare_html(baseline: Compared, current: Compared, rows: Iterable[Any], rule: CompareRule, path: Path,
                       baseline_path: str = "baseline", current_path: str = "current") -> Path:
    path.write_text(render_compare_page(baseline, current, rows, rule, baseline_path, current_path))
    return path


def write_compare_beside(baseline: Compared, current: Compared, rows: Iterable[Any], rule: CompareRule, baseline_path: Path,
                         current_path: Path) -> str:
    """``compare.html`` in the current report's folder; returns the line to print. A folder it
    cannot write to is said in that line: the verdict, not the page, decides the exit code."""
    path = Path(current_path).parent / "compare.html"
    try:
        write_compare_html(baseline, current, rows, rule, path, str(baseline_path), str(current_path))
    except OSError as exc:
        return f"compare.html not written ({path}: {exc.strerror or exc})"
    return f"compare.html: {path}"
