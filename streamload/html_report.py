"""``report.html``: one self-contained page (inline SVG, no scripts, no network) with the
plots a person would rather see than read: e2e latency over time, the percentile curve,
the stage decomposition, and achieved throughput against the target.
"""
from __future__ import annotations

import html
import math
from collections import Counter
from pathlib import Path

from hdrh.histogram import HdrHistogram

__all__ = ["write_html_report", "throughput_series"]

W, H, PAD = 640, 260, 48
CSS = """
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:20px}h2{font-size:16px;margin:8px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(660px,1fr));gap:16px}
.card{border:1px solid #ddd;border-radius:6px;padding:12px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3a}
svg text{font-size:11px;fill:#444}
"""


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _axes(x_label: str, y_label: str, x_max: float, y_max: float, x_min: float = 0.0) -> list[str]:
    parts = [
        f'<line x1="{PAD}" y1="{H-PAD}" x2="{W-10}" y2="{H-PAD}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{H-PAD}" stroke="#888"/>',
        f'<text x="{W/2}" y="{H-10}" text-anchor="middle">{html.escape(x_label)}</text>',
        f'<text x="12" y="{H/2}" transform="rotate(-90 12 {H/2})" text-anchor="middle">{html.escape(y_label)}</text>',
    ]
    sx, sy = _scale(x_min, x_max, PAD, W - 10), _scale(0, y_max, H - PAD, 10)
    for i in range(5):
        yv = y_max * i / 4
        xv = x_min + (x_max - x_min) * i / 4
        parts.append(f'<text x="{PAD-4}" y="{sy(yv)+4:.1f}" text-anchor="end">{yv:,.0f}</text>')
        parts.append(f'<line x1="{PAD}" y1="{sy(yv):.1f}" x2="{W-10}" y2="{sy(yv):.1f}" stroke="#f0f0f0"/>')
        parts.append(f'<text x="{sx(xv):.1f}" y="{H-PAD+14}" text-anchor="middle">{xv:,.0f}</text>' if x_max - x_min >= 20 else
                     f'<text x="{sx(xv):.1f}" y="{H-PAD+14}" text-anchor="middle">{xv:,.3g}</text>')
    return parts


def _svg(parts: list[str]) -> str:
    return f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'


def latency_over_time(samples: list[list[float]]) -> str:
    if not samples:
        return "<p>no latency samples</p>"
    x_max = max(s[0] for s in samples) or 1.0
    y_max = max(s[1] for s in samples) * 1.05 or 1.0
    sx, sy = _scale(0, x_max, PAD, W - 10), _scale(0, y_max, H - PAD, 10)
    parts = _axes("produced at (s since start)", "e2e latency (ms)", x_max, y_max)
    parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="1.6" fill="#2962ff" fill-opacity="0.5"/>' for x, y in samples]
    return _svg(parts)


def percentile_curve(encoded: str | None) -> str:
    if not encoded:
        return "<p>no latency histogram</p>"
    hist = HdrHistogram.decode(encoded)
    # x = "number of nines": 0 (p0) .. 4 (p99.99), the usual HdrHistogram plot
    qs = [100 * (1 - 10 ** (-k / 10)) for k in range(0, 41)]
    points = [(-math.log10(1 - q / 100) if q < 100 else 4.0, hist.get_value_at_percentile(q) / 1000.0) for q in qs]
    y_max = max(p[1] for p in points) * 1.05 or 1.0
    sx, sy = _scale(0, 4, PAD, W - 10), _scale(0, y_max, H - PAD, 10)
    parts = _axes("percentile (0=p0, 1=p90, 2=p99, 3=p99.9, 4=p99.99)", "e2e latency (ms)", 4, y_max)
    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="#d50000" stroke-width="2"/>')
    return _svg(parts)


def stage_bars(stages: dict[str, tuple[float | None, float | None]]) -> str:
    rows = [(k, v) for k, v in stages.items() if v[0] is not None]
    if not rows:
        return "<p>no stage data</p>"
    y_max = max(max(p50 or 0, p99 or 0) for _, (p50, p99) in rows) * 1.1 or 1.0
    sy = _scale(0, y_max, H - PAD, 10)
    parts = _axes("stage", "ms (p50 solid, p99 light)", len(rows), y_max)[:4]
    slot = (W - PAD - 10) / len(rows)
    for i, (name, (p50, p99)) in enumerate(rows):
        x = PAD + i * slot + slot * 0.2
        for value, colour, offset in ((p99, "#90caf9", 0.3), (p50, "#1565c0", 0.0)):
            if value is not None:
                parts.append(f'<rect x="{x + offset * slot:.1f}" y="{sy(value):.1f}" width="{slot*0.3:.1f}" '
                             f'height="{H-PAD-sy(value):.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + slot*0.3:.1f}" y="{H-PAD+14}" text-anchor="middle">{html.escape(name)}</text>')
    return _svg(parts)


def throughput_series(acked_at: list[float], started_at: float) -> list[tuple[int, int]]:
    counts = Counter(int(t - started_at) for t in acked_at if t >= started_at)
    if not counts:
        return []
    return [(s, counts.get(s, 0)) for s in range(0, max(counts) + 1)]


def throughput_chart(series: list[tuple[int, int]], target: float) -> str:
    if not series:
        return "<p>no throughput data</p>"
    x_max = max(s for s, _ in series) or 1
    y_max = max(max(c for _, c in series), target) * 1.15
    sx, sy = _scale(0, x_max, PAD, W - 10), _scale(0, y_max, H - PAD, 10)
    parts = _axes("seconds since start", "records acknowledged / s", x_max, y_max)
    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(s):.1f},{sy(c):.1f}" for i, (s, c) in enumerate(series))
    parts.append(f'<path d="{path}" fill="none" stroke="#2e7d32" stroke-width="2"/>')
    parts.append(f'<line x1="{PAD}" y1="{sy(target):.1f}" x2="{W-10}" y2="{sy(target):.1f}" stroke="#ff6d00" stroke-dasharray="6 4"/>')
    parts.append(f'<text x="{W-12}" y="{sy(target)-4:.1f}" text-anchor="end">target {target:g}/s</text>')
    return _svg(parts)


def stage_table(stages: dict[str, dict], rule: str) -> str:
    """Per-record stage percentiles (ms) from the merged HdrHistograms, with the sum rule."""
    if not stages:
        return ""
    head = "<tr><th>stage</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>records</th></tr>"
    cell = lambda v: "" if v is None else f"{v:,.1f}"  # noqa: E731
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{cell(s.get('p50_ms'))}</td><td>{cell(s.get('p95_ms'))}</td>"
                   f"<td>{cell(s.get('p99_ms'))}</td><td>{s.get('count', 0)}</td></tr>" for name, s in stages.items())
    return f"<table>{head}{rows}</table><p>{html.escape(rule)}</p>"


def _summary_table(report: dict) -> str:
    keys = ("produced", "found", "lost", "duplicates", "e2e_p50_ms", "e2e_p99_ms")
    cells = "".join(f"<tr><td>{k}</td><td>{html.escape(str(report.get(k)))}</td></tr>" for k in keys)
    for t in report.get("thresholds", []):
        cls = "ok" if t["ok"] else "bad"
        cells += f'<tr><td>{html.escape(t["threshold"])}</td><td class="{cls}">{t["value"]} {"ok" if t["ok"] else "FAILED"}</td></tr>'
    return f"<table>{cells}</table>"


def baseline_table(report: dict) -> str:
    """The comparison with a baseline (``run --baseline``): the rule, then each metric."""
    baseline = report.get("baseline")
    if not baseline:
        return ""
    cell = lambda v: "-" if v is None else f"{v:,.1f}"  # noqa: E731
    rows = "".join(
        f"<tr><td>{html.escape(r['metric'])}</td><td>{cell(r['baseline'])}</td><td>{cell(r['current'])}</td>"
        f"<td>{cell(r['allowed'])}</td><td class='{'bad' if r['regressed'] else 'ok'}'>"
        f"{'REGRESSED' if r['regressed'] else 'ok'}</td></tr>" for r in baseline.get("rows", []))
    return (f"<h2>Compared with {html.escape(str(baseline.get('path')))}</h2><p>{html.escape(baseline.get('rule', ''))}</p>"
            f"<table><tr><th>metric</th><th>baseline</th><th>current</th><th>allowed</th><th>verdict</th></tr>{rows}</table>")


def write_html_report(report: dict, path: Path, acked_at: list[float] | None = None) -> Path:
    probe = report.get("probe", {})
    target = float(report.get("config", {}).get("producer", {}).get("rate", 0) or 0)
    per_stage = report.get("e2e_stages") or {}
    stages = {name: (s.get("p50_ms"), s.get("p99_ms")) for name, s in per_stage.items()} or {
        "arrival": (probe.get("arrival_p50_ms"), probe.get("arrival_p99_ms")),
        "total": (probe.get("e2e_p50_ms"), probe.get("e2e_p99_ms")),
    }
    cards = [
        ("End-to-end latency over time", latency_over_time(probe.get("latency_samples") or [])),
        ("Latency percentile curve", percentile_curve(probe.get("e2e_histogram"))),
        ("Stage decomposition", stage_bars(stages) + stage_table(per_stage, report.get("e2e_stage_rule", ""))),
        ("Throughput vs target", throughput_chart(throughput_series(acked_at or [], report.get("started_at", 0)), target)),
    ]
    body = "".join(f'<div class="card"><h2>{html.escape(t)}</h2>{svg}</div>' for t, svg in cards)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>streamload run {html.escape(str(report.get('run_id')))}</title>"
        f"<style>{CSS}</style></head><body><h1>streamload run {html.escape(str(report.get('run_id')))}</h1>"
        f"{_summary_table(report)}{baseline_table(report)}<div class='grid'>{body}</div></body></html>"
    )
    path.write_text(page)
    return path


def capacity_chart(steps: list[dict]) -> str:
    """``streamload capacity``: e2e p99 against the target rate, and the achieved rate against
    it (the dashed diagonal is a producer that achieved every target). Green held, red failed."""
    points = sorted((s for s in steps if s.get("rate")), key=lambda s: s["rate"])
    if not points:
        return "<p>no capacity steps</p>"
    x_max = max(s["rate"] for s in points) * 1.05
    sx = _scale(0, x_max, PAD, W - 10)
    colour = lambda s: "#1b7f3a" if s.get("held") else "#b00020"  # noqa: E731
    y_max = max([s.get("e2e_p99_ms") or 0 for s in points] + [1.0]) * 1.1
    sy = _scale(0, y_max, H - PAD, 10)
    latency = _axes("target rate (records/s)", "e2e p99 (ms)", x_max, y_max)
    latency += [f'<circle cx="{sx(s["rate"]):.1f}" cy="{sy(s["e2e_p99_ms"]):.1f}" r="5" fill="{colour(s)}"/>'
                for s in points if s.get("e2e_p99_ms") is not None]
    sa = _scale(0, x_max, H - PAD, 10)
    achieved = _axes("target rate (records/s)", "achieved (records/s)", x_max, x_max)
    achieved.append(f'<line x1="{sx(0):.1f}" y1="{sa(0):.1f}" x2="{sx(x_max):.1f}" y2="{sa(x_max):.1f}" '
                    f'stroke="#bbb" stroke-dasharray="4 4"/>')
    achieved += [f'<rect x="{sx(s["rate"]) - 5:.1f}" y="{sa(s["achieved"]) - 5:.1f}" width="10" height="10" fill="{colour(s)}"/>'
                 for s in points if s.get("achieved") is not None]
    return _svg(latency) + _svg(achieved)
