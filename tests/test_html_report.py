"""report.html: one self-contained page a manager can decide from, every number from report.json."""
import re

import pytest
from report_browser import assert_charts_have_content, charts_in, not_white_share, pixels_of_colour, screenshot
from report_fixtures import run_report

from streamload.charts.units import COLOURS
from streamload.html_report import render_run_report, throughput_series, write_html_report

@pytest.fixture(scope="module")
def page() -> str:
    """The synthetic run (3 records lost, personas, population stages), rendered once."""
    return render_run_report(run_report(lost=3))


def test_run_report_is_self_contained_and_identical_when_written_twice(tmp_path):
    first = write_html_report(run_report(), tmp_path / "a.html").read_text()
    second = write_html_report(run_report(), tmp_path / "b.html").read_text()
    assert first == second  # deterministic: no dates, no random ids
    assert "<script" not in first and not re.search(r"(src|href)=[\"']https?://", first)
    ids = re.findall(r'\bid="([^"]+)"', first)
    assert len(ids) == len(set(ids)), "two charts share an element id"


def test_run_report_header_gives_verdict_target_and_failed_threshold_when_a_threshold_fails(page):
    assert "<b>FAILED</b>" in page and "threshold lost == 0 not met: measured 3" in page
    assert "local stack (emulators)" in page and "my-data-stream, 2 shard(s)" in page
    assert "constant 60 records/s" in page and "none (local stack)" in page
    # every threshold: as configured, what it measures, its rule, the value, the verdict
    assert re.search(r"e2e_p99 &lt; 2s</td><td class='text'>p99 of end-to-end latency.*?must be &lt; 2 s</td><td>1\.\d+ s",
                     page)
    assert "NOT MET" in page and page.count(">met<") == 2


def test_run_report_names_accounts_and_cost_when_target_is_aws():
    report = run_report()
    report["config"]["target"] = {"region": "eu-west-1"}
    report["cost_estimate"] = {"total_usd": 0.4123, "kinesis_usd": 0.01, "redshift_usd": 0.4023}
    page = render_run_report(report)
    assert "AWS region eu-west-1" in page
    assert "Redshift in account 222222222222, Kinesis in account 111111111111" in page
    assert "$0.4123" in page and "redshift $0.4023" in page


def test_run_report_says_not_measured_when_report_lacks_sections():
    page = render_run_report({"run_id": "bare"})
    assert "streamload run bare" in page and "<b>PASSED</b>" in page  # nothing failed: no thresholds set
    assert "none configured" in page
    assert "E2E latency over time: not measured in this run" in page
    assert "Not measured in this run" in page and "latency_samples" in page


def test_run_report_draws_population_stages_when_e2e_population_recorded(page):
    with_population = page
    without = render_run_report(run_report(population=False))
    assert "refresh lag (all records)" in with_population and "each value within 0.50% of the truth" in with_population
    assert "(all records)" not in without and "e2e_population) was not recorded" in without


def test_run_report_shows_statement_latency_per_kind_and_persona(page):
    chart = next(svg for svg in charts_in(page) if 'data-chart="statements"' in svg)
    for label in ("refresh (n=40)", "query (n=80)", "query · ethan (n=20)", "query · frank (n=20)"):
        assert label in chart


def test_run_report_lists_rls_per_persona_and_lost_by_reason(page):
    assert "expired before send (record_ttl_s)</td><td>2" in page
    assert "<td class='text'>ethan</td><td>20</td><td>0</td><td>6,000</td>" in page
    assert render_run_report(run_report(lost=0)).count("No record lost") == 1


def test_run_report_draws_throughput_from_report_json_when_acks_per_second_recorded(page):
    assert 'data-chart="throughput"' in page and "target 60/s" in page
    assert "Records Kinesis acknowledged in each second of the run" in page
    assert "The probe is a canary: 1,200 records sampled, at most 50 a tick." in page


def test_throughput_series_counts_acks_per_second():
    assert throughput_series([10.1, 10.2, 11.5, 13.0], started_at=10.0) == [(0, 2), (1, 1), (2, 0), (3, 1)]


def test_run_report_shows_baseline_comparison_when_run_was_compared(tmp_path):
    report = run_report()
    report["baseline"] = {
        "path": "base.json", "rule": "regression rule: a latency is worse when ...", "regressed": True,
        "regressed_metrics": ["e2e_p99_ms"],
        "rows": [{"metric": "e2e_p99_ms", "baseline": 1000.0, "current": 7000.0, "allowed": 3000.0, "regressed": True},
                 {"metric": "lost", "baseline": 0.0, "current": 0.0, "allowed": 0.0, "regressed": False}],
    }
    page = write_html_report(report, tmp_path / "report.html").read_text()
    assert "Compared with base.json" in page and "regression rule:" in page
    assert "worse than the baseline: e2e_p99_ms" in page
    assert re.search(r"<tr class='regressed'><td class='text'>e2e_p99_ms</td><td>1 s</td>.*?<td>3 s</td><td>7 s</td>"
                     r"<td>\+600\.0%</td><td><span class='bad'>REGRESSED", page)


def test_run_report_has_no_baseline_section_when_run_was_not_compared(page):
    assert "Compared with" not in page


def test_run_report_prints_numbers_without_charts_when_matplotlib_is_missing(monkeypatch):
    import importlib

    real = importlib.import_module

    def no_matplotlib(name, *args):
        if name.startswith("streamload.charts."):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_matplotlib)
    page = render_run_report(run_report())
    assert "chart not drawn: No module named &#x27;matplotlib&#x27;" in page
    assert "<svg" not in page and "NOT MET" in page and "961 ms" in page  # the tables still carry the numbers


# --- rendered in a real browser -------------------------------------------------------

@pytest.mark.slow  # a real browser: several seconds
def test_run_report_charts_render_with_content_when_opened_in_headless_chromium(tmp_path):
    page = write_html_report(run_report(), tmp_path / "report.html")
    assert_charts_have_content(page.read_text(), expected=10)
    pixels = screenshot(page, tmp_path, height=4200)
    assert not_white_share(pixels) > 0.05, "page looks blank"
    for meaning in ("p50", "p99", "band", "refresh_lag", "held", "users", "throttled"):
        assert pixels_of_colour(pixels, COLOURS[meaning]) > 150, f"nothing drawn in the colour of {meaning}"


def test_run_report_draws_throttles_late_sends_and_failures_over_time_when_the_ledgers_counted_them():
    report = run_report()
    report["producer_events_per_second"] = {"throttled": [[s, 40.0 if 5 <= s < 8 else 0.0] for s in range(22)],
                                            "retried": [[s, 40.0 if 5 <= s < 8 else 0.0] for s in range(22)],
                                            "late": [[s, 0.0] for s in range(22)]}
    html = render_run_report(report)
    assert any('data-chart="problems-time"' in svg for svg in charts_in(html))
    assert "Errors, throttles and late sends over time" not in html  # drawn, so not listed as not measured
    bare = {k: v for k, v in run_report().items() if k not in ("locust_history", "producer_events_per_second")}
    assert "Errors, throttles and late sends over time" in render_run_report(bare)  # listed without the series
