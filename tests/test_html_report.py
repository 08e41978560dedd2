"""report.html: self-contained, with the four plots drawn from the run's data."""
import re

import pytest

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


# --- rendered in a real browser -------------------------------------------------------
# Headless Chromium (Debian's `chromium`, installed by scripts/install-chromium) opens
# report.html and screenshots it; the PNG must show the page and the four SVG charts,
# recognised by the colours each chart draws with.

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1400,1100"]
CHART_COLOURS = {  # (r, g, b) as drawn in html_report.py
    "latency dots": (0x94, 0xB0, 0xFF),  # #2962ff at 50% opacity on white
    "percentile curve": (0xD5, 0x00, 0x00),
    "stage bars": (0x15, 0x65, 0xC0),
    "throughput line": (0x2E, 0x7D, 0x32),
}


def _chromium() -> str | None:
    import os
    import shutil

    for name in (os.environ.get("STREAMLOAD_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _synthetic_report():
    from loadtest.probe import new_latency_histogram

    hist = new_latency_histogram()
    samples = []
    for i in range(400):
        latency_ms = 300.0 + (i % 40) * 25.0 + (2500.0 if i % 97 == 0 else 0.0)
        hist.record_value(int(latency_ms * 1000))
        samples.append([i * 0.02, latency_ms])
    probe = {"e2e_histogram": hist.encode().decode(), "latency_samples": samples,
             "e2e_p50_ms": hist.get_value_at_percentile(50) / 1000, "e2e_p99_ms": hist.get_value_at_percentile(99) / 1000,
             "arrival_p50_ms": 40.0, "arrival_p99_ms": 90.0}
    return {"run_id": "shot", "started_at": 1000.0, "produced": 400, "found": 400, "lost": 0, "duplicates": 0,
            "e2e_p50_ms": probe["e2e_p50_ms"], "e2e_p99_ms": probe["e2e_p99_ms"], "probe": probe,
            "config": {"producer": {"rate": 50}},
            "thresholds": [{"threshold": "lost == 0", "value": 0, "ok": True, "limit": 0, "op": "=="}]}


def test_html_report_renders_charts_when_opened_in_headless_chromium(tmp_path):
    import subprocess

    import numpy as np
    from matplotlib.image import imread

    chromium = _chromium()
    if chromium is None:
        pytest.skip("headless Chromium not installed (Debian package chromium: run scripts/install-chromium)")
    page = write_html_report(_synthetic_report(), tmp_path / "report.html", acked_at=[1000.0 + i * 0.02 for i in range(400)])
    shot = tmp_path / "report.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120, check=False)
    assert shot.exists(), "Chromium wrote no screenshot"
    pixels = (imread(str(shot))[:, :, :3] * 255).astype(int)
    assert pixels.shape[:2] == (1100, 1400)
    not_white = (pixels.min(axis=2) < 235).mean()
    assert not_white > 0.02, f"page looks blank ({not_white:.1%} non-white pixels)"
    for chart, colour in CHART_COLOURS.items():
        close = (np.abs(pixels - np.array(colour)).max(axis=2) < 40).sum()
        assert close > 150, f"{chart} not drawn: {close} pixels of its colour"


def test_html_report_shows_baseline_comparison_when_run_was_compared(tmp_path):
    report = _synthetic_report()
    report["baseline"] = {
        "path": "base.json", "rule": "regression rule: a latency is worse when ...", "regressed": True,
        "rows": [{"metric": "e2e_p99_ms", "baseline": 1000.0, "current": 7000.0, "allowed": 3000.0, "regressed": True},
                 {"metric": "lost", "baseline": 0.0, "current": 0.0, "allowed": 0.0, "regressed": False}],
    }
    page = write_html_report(report, tmp_path / "report.html").read_text()
    assert "Compared with base.json" in page and "regression rule:" in page
    assert re.search(r"<td>e2e_p99_ms</td><td>1,000.0</td><td>7,000.0</td><td>3,000.0</td><td class='bad'>REGRESSED", page)
    assert "Compared with" not in write_html_report(_synthetic_report(), tmp_path / "plain.html").read_text()
