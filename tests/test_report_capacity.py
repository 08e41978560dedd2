"""The capacity report: the knee on a log rate axis, which stage broke, and the shard arithmetic."""
import json
import re

import pytest
from report_browser import assert_charts_have_content, charts_in, not_white_share, pixels_of_colour, screenshot
from report_fixtures import capacity_report, stage

from streamload.capacity_report import capacity_steps, render_capacity_page, shard_arithmetic, write_capacity_html
from streamload.charts.units import COLOURS
from streamload.report import RunReport


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    out = tmp_path_factory.mktemp("capacity")
    data = capacity_report(out)
    return data, out, render_capacity_page(data, out)


def _ticks(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]+)</text>", svg)


def test_capacity_latency_chart_uses_log_axes_with_readable_ticks_when_one_step_is_far_slower(search):
    _, _, page = search
    latency = next(svg for svg in charts_in(page) if 'data-chart="cap-latency"' in svg)
    ticks = _ticks(latency)
    assert {"500", "1,000", "2,000", "5,000"} <= set(ticks)  # rates at 1-2-5, not 2,100 / 4,200
    assert {"2 s", "5 s", "10 s", "20 s", "50 s"} <= set(ticks)  # 1.5 s and 79 s on one log axis
    assert "knee: 5,000/s held, 6,000/s failed" in latency and "operating point 4,000/s" in latency


def test_capacity_page_gives_shard_arithmetic_when_a_rate_held(search):
    data, _, page = search
    assert "<b>PASSED</b>" in page and "highest rate that held: 5,000/s" in page
    assert "5,000 records/s held × 1.25 headroom = 6,250 records/s of ~1,100 B = 6.56 MiB/s" in page
    assert "6,250 records/s ÷ 1,000 records/s per shard = 6.25 → 7 shard(s)" in page
    assert "6.56 MiB/s ÷ 1 MiB/s per shard = 6.56 → 7 shard(s)" in page
    assert "6 shard(s): write limit ~5,720 records/s at 1,100 B; the held rate is 87% of it" in page
    assert f"{data['recommended_shards']} shard(s) (the larger" in page


def test_capacity_step_table_shows_stages_and_why_a_step_failed(search):
    _, _, page = search
    row = re.search(r"<tr><td>5</td>.*?</tr>", page).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[1:4] == ["8,000/s", "5,210/s", "65%"]
    assert cells[6] == "79 s" and cells[11:14] == ["41,500", "9,120", "37"]
    assert cells[9].endswith(" s")  # refresh lag p99 is where the time went
    assert "FAILED</span>: achieved 5210.0/s &lt; 95% of 8000/s" in cells[14]


def test_capacity_stages_come_from_every_record_when_the_step_counted_them():
    report = {"e2e_population": {"stages": {"put": stage([5.0] * 99 + [900.0] * 2)}},
              "e2e_stages": {"put": {"count": 0, "p99_ms": None, "histogram": None}, "visibility": stage([300.0])}}
    data = {"steps": [{"step": 1, "rate": 100.0, "held": True}]}
    (step,) = capacity_steps(data, {1: RunReport.model_validate(report)})
    assert step.stages_p99["put"] == 900.0 and step.stages_p99["visibility"] == 300.0
    assert step.stages_p99["arrival"] is None


def test_capacity_page_has_no_recommendation_when_no_step_held():
    data = {"steps": [], "held_rate": None, "failed_rate": 100.0, "plan": {}}
    assert shard_arithmetic(data, None) == [("Shards", "no recommendation: no step held")]


def test_capacity_page_leaves_step_cells_empty_when_a_step_report_is_missing(tmp_path):
    data = capacity_report(tmp_path)
    (tmp_path / "step-03" / "report.json").unlink()
    data["steps"][2]["report"] = str(tmp_path / "gone" / "report.json")
    page = render_capacity_page(data, tmp_path)
    row = re.search(r"<tr><td>3</td>.*?</tr>", page).group(0)
    assert re.findall(r"<td[^>]*>(.*?)</td>", row)[5] == "-"  # e2e p90 needs the step's histogram


@pytest.mark.slow  # a real browser: several seconds
def test_capacity_charts_render_with_content_when_opened_in_headless_chromium(tmp_path):
    data = capacity_report(tmp_path)
    (tmp_path / "report.json").write_text(json.dumps(data))
    page = write_capacity_html(data, tmp_path)
    assert_charts_have_content(page.read_text(), expected=4)
    pixels = screenshot(page, tmp_path, height=2000)
    assert not_white_share(pixels) > 0.05, "page looks blank"
    for meaning in ("p50", "p99", "held", "failed", "refresh_lag", "throttled"):
        assert pixels_of_colour(pixels, COLOURS[meaning]) > 150, f"nothing drawn in the colour of {meaning}"
