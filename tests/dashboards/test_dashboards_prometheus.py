"""The committed dashboards and rules against a real Prometheus scraping live exporters.

The exporters are the real metric modules fed by stand-in processes
(``synthetic_exporters.py``); ``test_dashboards_demo.py`` does the same against a real demo.
"""
from __future__ import annotations

import time

import pytest

from dashboards.inventory import all_expressions, for_instant_query, panel_expressions
from dashboards.promql import quantile
from dashboards.render import render_e2e_dashboard

pytestmark = pytest.mark.slow

# Prometheus refreshes its targets every 5 s, then needs two scrapes for a rate and one
# more rule evaluation for the recorded percentiles.
DATA_TIMEOUT_S = 45


def _empty_expressions(prom, run_id: str) -> list[str]:
    empty = []
    for e in all_expressions():
        if not prom.query(for_instant_query(e.expr, run_id)):
            empty.append(f"{e.where}: {e.expr}")
    return empty


@pytest.fixture(scope="module")
def scraped(synthetic_run):
    """The synthetic run once every expression has had time to return data."""
    prom = synthetic_run.prometheus
    prom.wait_until(lambda p: not _empty_expressions(p, synthetic_run.run_id), DATA_TIMEOUT_S, poll_s=1.0)
    return synthetic_run


def test_every_panel_and_rule_query_returns_data_when_exporters_are_scraped(scraped):
    empty = _empty_expressions(scraped.prometheus, scraped.run_id)
    assert not empty, "queries without data:\n" + "\n".join(empty)


def test_panel_queries_return_nothing_when_another_run_is_selected(scraped):
    with_data = [e for e in panel_expressions() if scraped.prometheus.query(for_instant_query(e.expr, "no-such-run"))]
    assert not with_data, "panels ignoring the run selector:\n" + "\n".join(e.where for e in with_data)


def test_recorded_e2e_percentiles_match_observed_latencies_when_run_is_live(scraped):
    # The stand-in observes lognormal(0.3, 0.5) seconds: median 1.35 s, p99 4.3 s.
    result = scraped.prometheus.query(f'{quantile("streamload_e2e_latency_seconds")}{{run_id="{scraped.run_id}"}}')
    by_q = {r["metric"]["quantile"]: float(r["value"][1]) for r in result}
    assert set(by_q) == {"0.5", "0.9", "0.99"}
    assert 0.8 <= by_q["0.5"] <= 2.5
    assert by_q["0.5"] <= by_q["0.9"] <= by_q["0.99"] <= 10


def test_loss_and_rls_alerts_fire_when_exporters_report_them(scraped):
    def firing(p):
        alerts = p.api("alerts")["alerts"]
        return {(a["labels"]["alertname"], a["labels"].get("persona", "")) for a in alerts if a["state"] == "firing"}

    prom = scraped.prometheus
    wanted = {("StreamloadRecordsLost", ""), ("StreamloadRLSViolation", "frank")}
    prom.wait_until(lambda p: wanted <= firing(p), 15)
    now_firing = firing(prom)
    assert wanted <= now_firing
    # p99 ~4 s is inside the 30 s SLO and ~1 % throttling is under 5 %: these stay quiet.
    assert not {name for name, _ in now_firing} & {"StreamloadE2ELatencyP99OverSLO", "StreamloadThrottlingHigh"}


def test_render_draws_main_dashboard_png_when_prometheus_has_the_run(scraped, tmp_path):
    out = render_e2e_dashboard(scraped.prometheus, scraped.run_id, scraped.started_at - 5, time.time(),
                               tmp_path / "e2e.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # four drawn panels, not an empty canvas
