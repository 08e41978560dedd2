"""``streamload compare baseline.json current.json``: has this run got worse?

The rule, printed with every comparison: a latency metric regresses when the current value
is more than ``max_increase`` above the baseline **and** the difference is larger than the
run-to-run noise — ``noise_k`` × the spread the baseline measured over repeated runs
(``noise`` in the baseline report, written by ``streamload baseline``), and never less
than ``min_delta_ms``. Any increase in lost or duplicated records is a regression.
"""
from __future__ import annotations

from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

__all__ = ["CompareRule", "Comparison", "compare_reports", "format_table"]

LATENCY_METRICS = ("e2e_p50_ms", "e2e_p90_ms", "e2e_p99_ms", "refresh_p99_ms", "query_p99_ms")
COUNT_METRICS = ("lost", "duplicates")


@dataclass(frozen=True)
class CompareRule:
    max_increase: float = 0.10
    noise_k: float = 3.0
    min_delta_ms: float = 50.0

    def describe(self) -> str:
        return (
            f"regression rule: a latency is worse when current > baseline * {1 + self.max_increase:g} "
            f"and current - baseline > max({self.noise_k:g} x baseline run-to-run spread, {self.min_delta_ms:g} ms); "
            f"any increase in lost or duplicates is worse"
        )


@dataclass
class Comparison:
    metric: str
    baseline: float | None
    current: float | None
    allowed: float | None
    regressed: bool


def _percentile_ms(report: dict, key: str) -> float | None:
    """e2e_pNN_ms from the encoded histogram when present (any percentile), else the field."""
    if key in report and report[key] is not None and not key.startswith("e2e_p90"):
        return float(report[key])
    base, _, rest = key.partition("_p")
    q = float(rest.removesuffix("_ms"))
    if base == "e2e":
        encoded = report.get("probe", {}).get("e2e_histogram")
        if encoded:
            return HdrHistogram.decode(encoded).get_value_at_percentile(q) / 1000.0
        return None
    stats = report.get("statements", {}).get(f"statement {base}")
    if stats and f"p{int(q)}_ms" in stats:
        return float(stats[f"p{int(q)}_ms"])
    return None


def compare_reports(baseline: dict, current: dict, rule: CompareRule = CompareRule()) -> list[Comparison]:
    noise = baseline.get("noise", {})
    out: list[Comparison] = []
    for metric in LATENCY_METRICS:
        b, c = _percentile_ms(baseline, metric), _percentile_ms(current, metric)
        if b is None or c is None:
            out.append(Comparison(metric, b, c, None, False))
            continue
        delta_floor = max(rule.noise_k * float(noise.get(metric, 0.0)), rule.min_delta_ms)
        allowed = max(b * (1 + rule.max_increase), b + delta_floor)
        out.append(Comparison(metric, b, c, allowed, c > allowed))
    for metric in COUNT_METRICS:
        b = float(baseline.get(metric, 0) or 0)
        c = float(current.get(metric, 0) or 0)
        out.append(Comparison(metric, b, c, b, c > b))
    return out


def format_table(rows: list[Comparison]) -> str:
    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:,.1f}"

    lines = [f"{'metric':<16} {'baseline':>12} {'current':>12} {'allowed':>12}  verdict"]
    for r in rows:
        verdict = "REGRESSED" if r.regressed else ("no data" if r.current is None else "ok")
        lines.append(f"{r.metric:<16} {fmt(r.baseline):>12} {fmt(r.current):>12} {fmt(r.allowed):>12}  {verdict}")
    return "\n".join(lines)
