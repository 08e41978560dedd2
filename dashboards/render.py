"""A PNG of the end-to-end latency dashboard, drawn from a Prometheus's real data.

It queries the same recorded series the Grafana dashboard ``streamload-e2e`` reads, so the
image is what the dashboard would show for that run (a screenshot without Grafana).

    python -m dashboards.render --url http://127.0.0.1:9090 --run-id <id> --out e2e-latency.png
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from dashboards.prometheus_runner import PrometheusClient
from dashboards.promql import E2E_P99_SLO_SECONDS, bucket_rate, quantile

__all__ = ["render_e2e_dashboard", "main"]

E2E = "streamload_e2e_latency_seconds"
STAGE_HISTOGRAM = "streamload_e2e_stage_seconds"
STAGES = ("put", "arrival", "refresh_lag", "visibility")


def _series(result: list[dict]) -> list[tuple[dict, list[float], list[float]]]:
    out = []
    for item in result:
        points = [(float(t), float(v)) for t, v in item["values"] if not math.isnan(float(v))]
        if points:
            out.append((item["metric"], [p[0] for p in points], [p[1] for p in points]))
    return out


def _heatmap(client: PrometheusClient, run_id: str, start: float, end: float, step: float):
    """Per-bucket (non-cumulative) record rates: rows = bucket upper bounds, columns = time."""
    result = client.query_range(f'sum by (le) ({bucket_rate(E2E)}{{run_id="{run_id}"}})', start, end, step)
    by_le = {}
    for metric, ts, vs in _series(result):
        by_le[float(metric["le"])] = dict(zip(ts, vs))
    bounds = sorted(by_le)
    times = sorted({t for values in by_le.values() for t in values})
    grid, previous = [], [0.0] * len(times)
    for le in bounds:
        cumulative = [by_le[le].get(t, 0.0) for t in times]
        grid.append([max(0.0, c - p) for c, p in zip(cumulative, previous)])
        previous = cumulative
    return bounds, times, grid


def render_e2e_dashboard(client: PrometheusClient, run_id: str, start: float, end: float, out: Path,
                         step: float = 1.0) -> Path:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("rendering the dashboard needs matplotlib: pip install 'streamload[dashboards]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 8), constrained_layout=True)
    fig.suptitle(f"streamload / end-to-end latency — run {run_id}", fontsize=14)
    origin = start

    ax = axes[0][0]
    ax.set_title("End-to-end latency percentiles")
    for metric, ts, vs in _series(client.query_range(f'{quantile(E2E)}{{run_id="{run_id}"}}', start, end, step)):
        ax.plot([t - origin for t in ts], vs, label=f"p{float(metric.get('quantile', 'nan')) * 100:g}")
    ax.axhline(E2E_P99_SLO_SECONDS, color="red", linestyle="--", linewidth=1, label="p99 SLO")
    ax.set_ylim(bottom=0)

    ax = axes[0][1]
    ax.set_title("End-to-end latency heatmap (records/s per bucket)")
    bounds, times, grid = _heatmap(client, run_id, start, end, step)
    if grid and times:
        finite = [b for b in bounds if math.isfinite(b)]
        rows = grid[: len(finite)]
        ax.pcolormesh([t - origin for t in times], range(len(finite)), rows, shading="nearest", cmap="inferno")
        ax.set_yticks(range(len(finite)), [f"≤{b:g}s" for b in finite], fontsize=7)

    for ax, q in ((axes[1][0], "0.5"), (axes[1][1], "0.99")):
        ax.set_title(f"Stage decomposition (p{float(q) * 100:g})")
        exprs = [(stage, f'max({quantile(STAGE_HISTOGRAM)}{{run_id="{run_id}", stage="{stage}", quantile="{q}"}})')
                 for stage in STAGES]
        exprs.append(("end-to-end", f'max({quantile(E2E)}{{run_id="{run_id}", quantile="{q}"}})'))
        for label, expr in exprs:
            for _metric, ts, vs in _series(client.query_range(expr, start, end, step)):
                ax.plot([t - origin for t in ts], vs, label=label)
        ax.set_yscale("log")

    for ax in (axes[0][0], axes[1][0], axes[1][1]):
        ax.set_ylabel("seconds")
        if ax.get_legend_handles_labels()[0]:  # a stage without data draws no line
            ax.legend(loc="upper left", fontsize=8)
    for ax in axes.flat:
        ax.set_xlabel("seconds since start")
        ax.grid(alpha=0.3)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.render", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Prometheus base URL")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--minutes", type=float, default=10.0, help="how far back to draw")
    parser.add_argument("--out", type=Path, default=Path("e2e-latency.png"))
    args = parser.parse_args(argv)
    end = time.time()
    path = render_e2e_dashboard(PrometheusClient(args.url), args.run_id, end - args.minutes * 60, end, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
