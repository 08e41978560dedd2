"""Baseline against current, per latency metric: the baseline, its run-to-run noise band,
the highest value the rule allows, and the current value (red when it regressed)."""
from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from streamload.charts.render import COLOURS, chart, fmt_ms, latency_axis, legend_above, to_svg

__all__ = ["comparison_chart"]


def comparison_chart(rows: list[dict], noise_band: dict[str, tuple[float, float]]) -> str:
    """``rows``: comparisons with both values (metric, baseline, current, allowed, regressed);
    ``noise_band``: metric -> (low, high) ms, the baseline ± k × spread, where measured."""
    values = [v for r in rows for v in (r["baseline"], r["current"], r.get("allowed"))]
    values += [v for band in noise_band.values() for v in band]
    with chart("latency", "", size=(9.0, max(2.4, 1.2 + 0.42 * len(rows)))) as (fig, ax):
        for y, r in enumerate(rows):
            if r["metric"] in noise_band:
                low, high = noise_band[r["metric"]]
                ax.barh(y, high - low, left=low, height=0.5, color="#cfd8dc", linewidth=0)
            if r.get("allowed") is not None:
                ax.plot([r["allowed"]] * 2, [y - 0.32, y + 0.32], color=COLOURS["target"], linewidth=1.6, linestyle="--")
            colour = COLOURS["failed"] if r.get("regressed") else COLOURS["held"]
            ax.annotate("", xy=(r["current"], y), xytext=(r["baseline"], y),
                        arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.0, "shrinkA": 4, "shrinkB": 5})
            ax.plot(r["baseline"], y, marker="D", color=COLOURS["baseline"], markersize=6, linestyle="none")
            ax.plot(r["current"], y, marker="o", color=colour, markersize=7, linestyle="none")
            label = f"{fmt_ms(r['current'])}" + (" REGRESSED" if r.get("regressed") else "")
            ax.annotate(label, xy=(max(r["current"], r.get("allowed") or 0, r["baseline"]), y), xytext=(8, 0),
                        textcoords="offset points", va="center", fontsize=7.5,
                        color=colour, fontweight="bold" if r.get("regressed") else "normal")
        ax.set_yticks(range(len(rows)), [r["metric"] for r in rows])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        log = latency_axis(ax, "x", values)
        positive = [v for v in values if v and v > 0]
        if positive:
            ax.set_xlim(min(positive) / 1.6 if log else 0, max(positive) * (3.0 if log else 1.35))
        ax.set_ylim(len(rows) - 0.5, -0.5)
        legend = [Line2D([], [], marker="D", color=COLOURS["baseline"], linestyle="none", label="baseline"),
                  Line2D([], [], marker="o", color=COLOURS["held"], linestyle="none", label="current, ok"),
                  Line2D([], [], marker="o", color=COLOURS["failed"], linestyle="none", label="current, regressed"),
                  Line2D([], [], color=COLOURS["target"], linestyle="--", label="allowed (rule)")]
        if noise_band:
            legend.append(Patch(color="#cfd8dc", label="noise band: baseline ± k × spread"))
        legend_above(ax, ncols=3, handles=legend, labels=[h.get_label() for h in legend])
        return to_svg(fig, "compare", "baseline against current per latency metric")
