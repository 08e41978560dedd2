"""A short demo run on the local stack, scraped by a real Prometheus, kept for querying.

``demo_with_prometheus()`` is what the dashboard test and the README image use:

    python -m dashboards.snapshot --out dashboards/e2e-latency.png

The exporters stop with the run, so queries afterwards ask for the moment all of them
were last scraped (``DemoSnapshot.last_live``) or a range over the run.
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from dashboards.prometheus_runner import PrometheusServer, prometheus_for_run

__all__ = ["DemoSnapshot", "demo_with_prometheus", "main"]

SCRAPE_START_TIMEOUT_S = 20.0
JOBS = ("streamload-producer", "streamload-loadtest")


@dataclass
class DemoSnapshot:
    prometheus: PrometheusServer
    run_id: str
    started_at: float
    finished_at: float
    exit_code: int
    report: dict

    def last_live(self) -> float | None:
        """The last time both the producer and Locust were up (scraped successfully)."""
        expr = "count(up{job=~\"" + "|".join(JOBS) + "\"} == 1)"
        result = self.prometheus.query_range(expr, self.started_at - 5, self.finished_at + 5, 1)
        live = [float(t) for r in result for t, v in r["values"] if int(float(v)) == len(JOBS)]
        return max(live) if live else None


@contextmanager
def demo_with_prometheus(out_dir: Path, rate: float = 100, duration_s: float = 8,
                         drain_timeout_s: float = 30) -> Iterator[DemoSnapshot]:
    """Run a demo while Prometheus scrapes it; yields after the run, Prometheus still up."""
    from emulator.stack import LocalStack
    from streamload.run_config import load_run_config
    from streamload.run import execute_run

    overrides = {"producer": {"rate": rate, "duration_s": duration_s, "metrics_port": 0},
                 "load": {"drain_timeout_s": drain_timeout_s, "metrics_port": 0}}
    cfg = load_run_config(None, overrides, environ={})
    with prometheus_for_run(cfg, out_dir / "prometheus") as prom:
        # Scraping starts a few seconds after Prometheus does; a run shorter than that
        # would leave nothing to see.
        if not prom.wait_until(lambda p: len(p.query("up")) == len(JOBS), SCRAPE_START_TIMEOUT_S, 0.2):
            raise RuntimeError(f"prometheus did not start scraping within {SCRAPE_START_TIMEOUT_S:g}s")
        started = time.time()
        with LocalStack(data_dir=None) as stack:
            stack.point_config_at_stack(cfg)
            outcome = execute_run(cfg, out_dir / "run")
        yield DemoSnapshot(prom, outcome.report["run_id"], started, time.time(), outcome.exit_code, outcome.report)


def main(argv: list[str] | None = None) -> int:
    import tempfile

    from dashboards.render import render_e2e_dashboard

    parser = argparse.ArgumentParser(prog="python -m dashboards.snapshot", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("e2e-latency.png"))
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=45)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="streamload-snapshot-") as tmp:
        with demo_with_prometheus(Path(tmp), args.rate, args.duration) as snap:
            render_e2e_dashboard(snap.prometheus, snap.run_id, snap.started_at, snap.finished_at, args.out)
    print(f"run {snap.run_id}: wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
