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
        parts.append(f'<text x="{sx(xv):.1f}" y="{H-PAD+14}" text-anchor="middle">{xv:,.3g}</text>')
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


def _summary_table(report: dict) -> str:
    keys = ("produced", "found", "lost", "duplicates", "e2e_p50_ms", "e2e_p99_ms")
    cells = "".join(f"<tr><td>{k}</td><td>{html.escape(str(report.get(k)))}</td></tr>" for k in keys)
    for t in report.get("thresholds", []):
        cls = "ok" if t["ok"] else "bad"
        cells += f'<tr><td>{html.escape(t["threshold"])}</td><td class="{cls}">{t["value"]} {"ok" if t["ok"] else "FAILED"}</td></tr>'
    return f"<table>{cells}</table>"


def write_html_report(report: dict, path: Path, acked_at: list[float] | None = None) -> Path:
    probe = report.get("probe", {})
    target = float(report.get("config", {}).get("producer", {}).get("rate", 0) or 0)
    stages = {
        "arrival": (probe.get("arrival_p50_ms"), probe.get("arrival_p99_ms")),
        "refresh+query": (
            None if probe.get("e2e_p50_ms") is None or probe.get("arrival_p50_ms") is None
            else max(probe["e2e_p50_ms"] - probe["arrival_p50_ms"], 0.0),
            None,
        ),
        "total e2e": (probe.get("e2e_p50_ms"), probe.get("e2e_p99_ms")),
    }
    cards = [
        ("End-to-end latency over time", latency_over_time(probe.get("latency_samples") or [])),
        ("Latency percentile curve", percentile_curve(probe.get("e2e_histogram"))),
        ("Stage decomposition", stage_bars(stages)),
        ("Throughput vs target", throughput_chart(throughput_series(acked_at or [], report.get("started_at", 0)), target)),
    ]
    body = "".join(f'<div class="card"><h2>{html.escape(t)}</h2>{svg}</div>' for t, svg in cards)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>streamload run {html.escape(str(report.get('run_id')))}</title>"
        f"<style>{CSS}</style></head><body><h1>streamload run {html.escape(str(report.get('run_id')))}</h1>"
        f"{_summary_table(report)}<div class='grid'>{body}</div></body></html>"
    )
    path.write_text(page)
    return path
