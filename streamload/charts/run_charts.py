"""The run report's charts. Each takes what ``streamload.report_data`` read out of
``report.json`` and returns an inline ``<svg>``; the caller decides what to show when a
series is missing (these functions are only called with data)."""
from __future__ import annotations

from streamload.charts.render import (COLOURS, chart, count_axis, fmt_count, fmt_ms, latency_axis, legend_above, rate_axis,
                                      stacked_charts, to_svg)
from streamload.report_data import Band, Percentiles

__all__ = ["e2e_over_time", "percentile_distribution", "percentile_bars", "throughput_over_time",
           "locust_over_time", "problems_over_time", "statements_over_time", "totals_bars", "persona_rows_checked"]

NINES_TICKS = [(0.30103, "p50"), (1.0, "p90"), (2.0, "p99"), (3.0, "p99.9"), (4.0, "p99.99"),
               (5.0, "p99.999")]
MAX_DOTS = 3000  # above this the dots only add bytes; the bands carry the shape


def e2e_over_time(samples: list[list[float]], bands: list[Band]) -> str:
    """Probe samples as faint dots, and per-window p50 / p90 / p99 with the p50–p99 band."""
    values = [b.p99 for b in bands] + [b.p50 for b in bands] + [s[1] for s in samples[:MAX_DOTS]]
    with chart("record produced at (s since run start)", "e2e latency") as (fig, ax):
        if len(samples) <= MAX_DOTS:
            ax.scatter([s[0] for s in samples], [s[1] for s in samples], s=3, color=COLOURS["neutral"], alpha=0.35,
                       linewidths=0, label=f"each probed record ({len(samples):,})", rasterized=False)
        mids = [b.mid_s for b in bands]
        ax.fill_between(mids, [b.p50 for b in bands], [b.p99 for b in bands], color=COLOURS["band"], alpha=0.45,
                        linewidth=0, label="p50–p99 band")
        for q, key in (("p50", "p50"), ("p90", "p90"), ("p99", "p99")):
            ax.plot(mids, [getattr(b, key) for b in bands], color=COLOURS[key], linewidth=1.6 if q != "p90" else 1.1,
                    label=q, marker="o" if len(bands) < 8 else None, markersize=3)
        latency_axis(ax, "y", values)
        ax.set_xlim(left=0)
        legend_above(ax, ncols=5)
        window = bands[0].end_s - bands[0].start_s if bands else 0
        ax.annotate(f"{len(bands)} windows of {window:.3g} s", xy=(1, 0), xycoords="axes fraction", ha="right",
                    va="bottom", fontsize=7.5, color="#666666")
        return to_svg(fig, "e2e-time", "end-to-end latency over time with p50, p90, p99")


def percentile_distribution(curves: list[tuple[str, str, list[tuple[float, float]]]]) -> str:
    """HdrHistogram-style plot: latency against "number of nines" (p50, p90, p99, …)."""
    values = [ms for _, _, points in curves for _, ms in points]
    top = max(n for _, _, points in curves for n, _ in points) if curves else 1.0
    with chart("percentile (log scale of 1 / (1 - q): p90, p99, p99.9 equally spaced)", "latency") as (fig, ax):
        for label, colour, points in curves:
            ax.plot([n for n, _ in points], [ms for _, ms in points], label=label, color=colour, linewidth=1.8)
        ticks = [(n, name) for n, name in NINES_TICKS if 0 < n <= max(top, 1.0) + 1e-9]
        ax.set_xticks([n for n, _ in ticks], [name for _, name in ticks])
        ax.set_xlim(0, max(top, 1.0))
        latency_axis(ax, "y", values)
        legend_above(ax, ncols=min(len(curves), 4))
        return to_svg(fig, "e2e-curve", "latency percentile distribution")


def percentile_bars(chart_id: str, title: str, rows: list[Percentiles], qs: tuple[float, ...],
                    value_label: str = "latency") -> str:
    """Horizontal grouped bars: one group per row, one bar per percentile, values printed."""
    labels = [r.label + (f" (n={r.count:,})" if r.count else "") for r in rows]
    height = max(2.0, 0.8 + len(rows) * (0.16 * len(qs) + 0.12))
    values = [r.get(q) for r in rows for q in qs]
    bar = 0.8 / len(qs)
    with chart(value_label, "", size=(6.4, height)) as (fig, ax):
        for i, q in enumerate(qs):
            ys = [n + (i - (len(qs) - 1) / 2) * bar for n in range(len(rows))]
            xs = [r.get(q) or 0 for r in rows]
            key = f"p{q:g}"
            bars = ax.barh(ys, xs, height=bar * 0.92, color=COLOURS.get(key, COLOURS["neutral"]), label=key)
            ax.bar_label(bars, labels=[fmt_ms(r.get(q)) if r.get(q) is not None else "" for r in rows],
                         padding=2, fontsize=6.5, color="#333333")
        ax.set_yticks(range(len(rows)), labels)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        log = latency_axis(ax, "x", values)
        positive = [v for v in values if v]
        if positive:  # room on the right for the printed values
            ax.set_xlim(min(positive) / 2 if log else 0, max(positive) * (3.0 if log else 1.25))
        legend_above(ax, ncols=len(qs))
        return to_svg(fig, chart_id, title)


def throughput_over_time(series: list[tuple[int, int]], target: float | None) -> str:
    with chart("seconds since run start", "records acknowledged / s") as (fig, ax):
        ax.plot([s for s, _ in series], [c for _, c in series], color=COLOURS["held"], linewidth=1.8,
                label="acknowledged by Kinesis", drawstyle="steps-mid")
        if target:
            ax.axhline(target, color=COLOURS["target"], linestyle="--", linewidth=1.2, label=f"target {target:,g}/s")
        rate_axis(ax, "y", [c for _, c in series] + [target or 0], log=False)
        ax.set_ylim(bottom=0, top=max([c for _, c in series] + [target or 0]) * 1.2 or 1)
        legend_above(ax, ncols=2)
        return to_svg(fig, "throughput", "records acknowledged per second against the target rate")


def locust_over_time(history: list[dict]) -> str:
    """Locust's users (top), requests/s and failures/s (middle) and its rolling statement
    latency p50 / p95 (bottom), one panel each so no line squeezes another; one legend above."""
    t = [float(h.get("t_s", 0)) for h in history]
    with stacked_charts(3, "seconds since run start", size=(6.4, 4.6), heights=(1, 1.3, 1.5)) as (fig, axes):
        users, rates, latency = axes
        users.step(t, [h.get("users") or 0 for h in history], where="post", color=COLOURS["users"], linewidth=1.8,
                   label="Locust users")
        users.set_ylabel("users")
        count_axis(users, "y", [], log=False)
        users.set_ylim(bottom=0, top=max([h.get("users") or 0 for h in history] + [1]) * 1.25)
        for key, colour, label in (("requests_per_s", COLOURS["requests"], "requests/s"),
                                   ("failures_per_s", COLOURS["failures"], "failures/s")):
            rates.plot(t, [h.get(key) or 0 for h in history], color=colour, linewidth=1.5, label=label)
        rates.set_ylabel("per second")
        count_axis(rates, "y", [], log=False)
        top = max([h.get("requests_per_s") or 0 for h in history] + [h.get("failures_per_s") or 0 for h in history])
        rates.set_ylim(0, max(top, 1) * 1.15)
        values = []
        for key, colour in (("p50_ms", COLOURS["p50"]), ("p95_ms", COLOURS["p95"])):
            ys = [h.get(key) for h in history]
            values += [y for y in ys if y]
            latency.plot(t, [y if y else float("nan") for y in ys], color=colour, linewidth=1.5,
                         label=f"statement {key[:3]} (Locust, rolling)")
        latency.set_ylabel("latency")
        latency_axis(latency, "y", values)
        for ax in axes:
            ax.set_xlim(left=0)
        handles, labels = [], []
        for ax in axes:
            more = ax.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
        fig.legend(handles, labels, loc="outside upper center", ncols=3, fontsize=7.5)
        return to_svg(fig, "locust-time", "Locust users, requests, failures and statement latency over time")


def _severity_colour(label: str, value: float) -> str:
    if not value:
        return COLOURS["neutral"]
    # throttles, retries and late starts are the pipeline pushing back; failures and losses are harm
    return COLOURS["throttled"] if any(w in label for w in ("throttled", "retried", "late")) else COLOURS["failed"]


KIND_COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#8e24aa", "#c62828", "#00897b", "#6d4c41", "#546e7a")


def problems_over_time(series: dict[str, list[tuple[float, float]]]) -> str:
    """Per second: producer records throttled, retried and sent late, and Locust's statement
    failures, one line each (a count axis, log when they span decades)."""
    colours = {"throttled": COLOURS["throttled"], "retried": COLOURS["neutral"], "late": COLOURS["late"],
               "statement failures": COLOURS["failures"]}
    values: list[float] = []
    with chart("seconds since run start", "per second") as (fig, ax):
        for label, points in series.items():
            values += [y for _, y in points if y]
            ax.plot([x for x, _ in points], [y for _, y in points], color=colours.get(label, COLOURS["neutral"]),
                    linewidth=1.4, label=label, drawstyle="steps-post")
        count_axis(ax, "y", values)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0) if not ax.get_yscale() == "log" else None
        legend_above(ax, ncols=4)
        return to_svg(fig, "problems-time", "throttled, retried and late records and statement failures over time")


def statements_over_time(history: dict[str, list[dict]]) -> str:
    """Per statement kind (refresh, query, probe, each persona), Locust's rolling p95 over time:
    one line each, on one latency axis (log when the kinds span decades)."""
    values: list[float] = []
    with chart("seconds since run start", "statement latency (Locust, rolling p95)") as (fig, ax):
        for index, (kind, rows) in enumerate(sorted(history.items())):
            ys = [r.get("p95_ms") for r in rows]
            values += [y for y in ys if y]
            ax.plot([float(r.get("t_s", 0)) for r in rows], [y if y else float("nan") for y in ys],
                    color=KIND_COLOURS[index % len(KIND_COLOURS)], linewidth=1.4, label=kind)
        latency_axis(ax, "y", values)
        ax.set_xlim(left=0)
        legend_above(ax, ncols=min(4, max(len(history), 1)))
        return to_svg(fig, "statements-time", "statement latency p95 per kind and persona over time")


def totals_bars(chart_id: str, title: str, rows: list[tuple[str, float]]) -> str:
    """Counts as horizontal bars, every count printed (a zero shows as "0", not as nothing)."""
    values = [v for _, v in rows]
    height = max(1.4, 0.7 + 0.26 * len(rows))
    with chart("count", "", size=(6.4, height)) as (fig, ax):
        log = count_axis(ax, "x", values)
        floor = 0.7 if log else 0.0
        bars = ax.barh(range(len(rows)), [v - floor if v else 0 for v in values], left=floor, height=0.66,
                       color=[_severity_colour(label, v) for label, v in rows])
        ax.bar_label(bars, labels=[fmt_count(v) if v else "" for v in values], padding=3, fontsize=7)
        for y, v in enumerate(values):
            if not v:  # a zero-length bar has no end to label
                ax.annotate("0", xy=(floor, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7,
                            color="#333333")
        ax.set_yticks(range(len(rows)), [label for label, _ in rows])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlim(floor, max(values + [1]) * (4 if log else 1.2))
        return to_svg(fig, chart_id, title)


def persona_rows_checked(rows: list[dict]) -> str:
    """Rows each persona's queries returned and checked against its RLS policy; violations red."""
    with chart("rows returned and checked against the persona's policy", "",
               size=(6.4, max(1.6, 0.8 + 0.32 * len(rows)))) as (fig, ax):
        checked = [float(r.get("rows_checked") or 0) for r in rows]
        colours = [COLOURS["failed"] if r.get("violations") else COLOURS["held"] for r in rows]
        bars = ax.barh(range(len(rows)), checked, color=colours, height=0.6)
        ax.bar_label(bars, labels=[f"{fmt_count(c)} rows, {fmt_count(r.get('violations') or 0)} violations"
                                   for c, r in zip(checked, rows)], padding=3, fontsize=7)
        ax.set_yticks(range(len(rows)), [r["persona"] for r in rows])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        count_axis(ax, "x", checked, log=False)
        ax.set_xlim(0, max(checked + [1]) * 1.6)
        return to_svg(fig, "rls", "rows checked and RLS violations per persona")
