"""The capacity report's charts: latency against rate with the knee, achieved against
target, the stages per step, throttles and late sends per step. Rates go on log axes: the
search doubles the rate, so its steps sit evenly there, and a failed step's latency (often
ten times the others) no longer squeezes the held ones into the bottom pixels."""
from __future__ import annotations

from matplotlib.lines import Line2D

from streamload.charts.render import (COLOURS, chart, count_axis, fmt_count, fmt_rate, latency_axis, legend_above,
                                      rate_axis, to_svg)
from streamload.report_data import STAGES, CapacityStep

__all__ = ["latency_against_rate", "achieved_against_target", "stages_against_rate",
           "pushback_per_step"]

def _mark_knee(ax, held: float | None, failed: float | None, operating: float | None) -> None:
    if held and failed:
        ax.axvspan(min(held, failed), max(held, failed), color="#ffcdd2", alpha=0.55, linewidth=0,
                   label=f"knee: {fmt_rate(held)} held, {fmt_rate(failed)} failed")
    if operating:
        ax.axvline(operating, color=COLOURS["held"], linestyle="--", linewidth=1.3,
                   label=f"operating point {fmt_rate(operating)}")


def _rate_limits(ax, steps: list[CapacityStep]) -> None:
    rates = [s.rate for s in steps]
    ax.set_xlim(min(rates) / 1.35, max(rates) * 1.35)


def latency_against_rate(steps: list[CapacityStep], held: float | None, failed: float | None,
                         operating: float | None) -> str:
    values = [v for s in steps for v in (s.p50, s.p90, s.p99)]
    with chart("target rate (records/s)", "e2e latency") as (fig, ax):
        _mark_knee(ax, held, failed, operating)
        rates = [s.rate for s in steps]
        for key in ("p50", "p90", "p99"):
            ys = [getattr(s, key) for s in steps]
            if any(y is not None for y in ys):
                ax.plot(rates, [y if y is not None else float("nan") for y in ys], color=COLOURS[key], linewidth=1.6,
                        marker="o", markersize=4, label=key)
        bad = [s for s in steps if not s.held and s.p99 is not None]
        ax.scatter([s.rate for s in bad], [s.p99 for s in bad], s=110, facecolors="none", edgecolors=COLOURS["failed"],
                   linewidths=1.6, zorder=5, label="step failed")
        rate_axis(ax, "x", rates + [held, failed], log=len(rates) > 1)
        latency_axis(ax, "y", values)
        _rate_limits(ax, steps)
        legend_above(ax, ncols=3)
        return to_svg(fig, "cap-latency", "e2e latency percentiles against rate, knee and operating point marked")


def achieved_against_target(steps: list[CapacityStep], min_achieved: float) -> str:
    rates = [s.rate for s in steps]
    measured = [s for s in steps if s.achieved is not None]
    with chart("target rate (records/s)", "achieved (records/s)") as (fig, ax):
        lo, hi = min(rates) / 1.35, max(rates) * 1.35
        ax.plot([lo, hi], [lo, hi], color="#9e9e9e", linestyle=":", linewidth=1.2, label="achieved = target")
        ax.plot([lo, hi], [lo * min_achieved, hi * min_achieved], color=COLOURS["target"], linestyle="--",
                linewidth=1.1, label=f"{min_achieved:.0%} of target (a step must reach it)")
        for s in measured:
            ax.plot(s.rate, s.achieved, marker="o" if s.held else "X", markersize=7, linestyle="none",
                    color=COLOURS["held"] if s.held else COLOURS["failed"])
            if s.achieved < min_achieved * s.rate:
                ax.annotate(f"{s.achieved / s.rate:.0%}", xy=(s.rate, s.achieved), xytext=(6, -10),
                            textcoords="offset points", fontsize=7.5, color=COLOURS["failed"])
        log = len(rates) > 1
        rate_axis(ax, "x", rates, log=log)
        rate_axis(ax, "y", rates, log=log)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo * min_achieved / 1.2, hi)
        handles, labels = ax.get_legend_handles_labels()
        handles += [Line2D([], [], marker="o", color=COLOURS["held"], linestyle="none"),
                    Line2D([], [], marker="X", color=COLOURS["failed"], linestyle="none")]
        legend_above(ax, ncols=2, handles=handles, labels=labels + ["step held", "step failed"])
        return to_svg(fig, "cap-achieved", "achieved rate against target rate per step")


def stages_against_rate(steps: list[CapacityStep]) -> str:
    """p99 of each e2e stage per step: the stage whose line turns up at the failed step broke."""
    rates = [s.rate for s in steps]
    values = [v for s in steps for v in s.stages_p99.values()]
    with chart("target rate (records/s)", "stage latency, p99") as (fig, ax):
        for s in steps:
            if not s.held:
                ax.axvline(s.rate, color="#ffcdd2", linewidth=6, alpha=0.7, zorder=0)
        for stage in STAGES:
            ys = [s.stages_p99.get(stage) for s in steps]
            if any(y is not None for y in ys):
                ax.plot(rates, [y if y is not None else float("nan") for y in ys], color=COLOURS[stage],
                        linewidth=1.6, marker="o", markersize=4, label=stage.replace("_", " "))
        rate_axis(ax, "x", rates, log=len(rates) > 1)
        latency_axis(ax, "y", values)
        _rate_limits(ax, steps)
        handles, labels = ax.get_legend_handles_labels()
        if any(not s.held for s in steps):
            handles.append(Line2D([], [], color="#ffcdd2", linewidth=6))
            labels.append("failed step")
        legend_above(ax, ncols=5, handles=handles, labels=labels)
        return to_svg(fig, "cap-stages", "p99 of each e2e stage against rate")


def pushback_per_step(steps: list[CapacityStep]) -> str:
    """Throttled records, late sends and lost records per step, every count printed."""
    series = (("throttled", "throttled records"), ("late", "late sends"), ("lost", "lost records"))
    values = [getattr(s, key) for s in steps for key, _ in series]
    width = 0.8 / len(series)
    with chart("step (target rate)", "count") as (fig, ax):
        log = count_axis(ax, "y", values)
        floor = 0.7 if log else 0.0
        for i, (key, label) in enumerate(series):
            xs = [n + (i - 1) * width for n in range(len(steps))]
            counts = [float(getattr(s, key) or 0) for s in steps]
            colour = COLOURS["failed"] if key == "lost" else COLOURS[key]
            bars = ax.bar(xs, [c - floor if c else 0 for c in counts], bottom=floor, width=width * 0.92, color=colour,
                          label=label)
            ax.bar_label(bars, labels=[fmt_count(c) for c in counts], padding=2, fontsize=6.5)
        ax.set_xticks(range(len(steps)), [f"{fmt_rate(s.rate)}\n{'held' if s.held else 'FAILED'}" for s in steps])
        for tick, s in zip(ax.get_xticklabels(), steps):
            tick.set_color(COLOURS["held"] if s.held else COLOURS["failed"])
        ax.grid(axis="x", visible=False)
        ax.set_ylim(floor, max(values + [1]) * (6 if log else 1.3))
        legend_above(ax, ncols=3)
        return to_svg(fig, "cap-pushback", "throttled records, late sends and lost records per step")
