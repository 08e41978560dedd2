"""report.html: self-contained, with the four plots drawn from the run's data."""
import re

from loadtest.probe import ProbeState
from streamload.html_report import throughput_series, write_html_report


def _report():
    probe = ProbeState(run_started_at=1000.0)
    rows = [['"e%d"' % i, str(1000.0 + i * 0.01), "1970-01-01 00:16:40.500000"] for i in range(500)]
    probe.observe(rows, seen_at=1006.0)
    return {
        "run_id": "r1", "started_at": 1000.0, "produced": 500, "found": 500, "lost": 0, "duplicates": 0,
        "e2e_p50_ms": 3500.0, "e2e_p99_ms": 5900.0,
        "probe": probe.to_json({}), "config": {"producer": {"rate": 100}},
        "thresholds": [{"threshold": "e2e_p99 < 5s", "value": 5.9, "ok": False, "limit": 5, "op": "<"}],
    }


def test_html_report_is_self_contained_with_four_plots(tmp_path):
    path = write_html_report(_report(), tmp_path / "report.html", acked_at=[1000.0 + i * 0.01 for i in range(500)])
    page = path.read_text()
    assert page.count("<svg") == 4
    assert not re.search(r"(src|href)=\"https?://", page)
    assert "<script" not in page
    assert "FAILED" in page  # the failed threshold is shown
    assert page.count("<circle") == 500  # every sampled latency is plotted


def test_throughput_series_counts_acks_per_second():
    assert throughput_series([10.1, 10.2, 11.5, 13.0], started_at=10.0) == [(0, 2), (1, 1), (2, 0), (3, 1)]
