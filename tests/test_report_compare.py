"""`streamload compare` writes compare.html beside its table: the noise band, the rule, regressions."""
import html
import json
import re

import pytest
from report_browser import assert_charts_have_content, not_white_share, pixels_of_colour, screenshot
from report_fixtures import baseline_file, current_for_compare

from streamload.charts.units import COLOURS
from streamload.cli import main
from streamload.compare import CompareRule, compare_reports
from streamload.compare_report import noise_bands, render_compare_page


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_compare_writes_compare_html_beside_current_report_when_run_from_cli(tmp_path, capsys):
    base = _write(tmp_path / "baseline.json", baseline_file())
    current = _write(tmp_path / "run-7" / "report.json", current_for_compare())
    assert main(["compare", str(base), str(current)]) == 1
    out = capsys.readouterr().out
    assert f"compare.html: {tmp_path / 'run-7' / 'compare.html'}" in out
    assert out.strip().splitlines()[-1].startswith("VERDICT regressed")  # the verdict stays the last line
    page = (tmp_path / "run-7" / "compare.html").read_text()
    assert "<b>FAILED</b>" in page and "regressed: e2e_p99_ms, refresh_p99_ms, duplicates" in page
    assert "baseline of 5 run(s)" in page and html.escape(CompareRule().describe()) in page


def test_compare_page_highlights_regressions_with_noise_band_and_allowed_value():
    baseline, current = baseline_file(), current_for_compare()
    rule = CompareRule()
    page = render_compare_page(baseline, current, compare_reports(baseline, current, rule), rule, "b.json", "c.json")
    regressed = re.findall(r"<tr class='regressed'><td class='text'>(\w+)</td>", page)
    assert regressed == ["e2e_p99_ms", "refresh_p99_ms", "duplicates"]
    # e2e_p99: baseline 1.65 s, spread 150 ms x 3 -> band 1.2-2.1 s, allowed max(1.815, 1.65 + 0.45) = 2.1 s
    assert "<td>1.65 s</td><td>1.2 s – 2.1 s</td><td>2.1 s</td><td>2.9 s</td><td>+75.8%</td>" in page
    assert "2.9 s REGRESSED" in page  # annotated on the chart too


def test_noise_band_is_absent_when_baseline_is_a_single_report():
    single = {"run_id": "r1", "e2e_p99_ms": 1000.0}
    assert noise_bands(single, CompareRule()) == {}
    assert noise_bands(baseline_file(), CompareRule(noise_k=2))["e2e_p50_ms"] == (740.0, 900.0)


def test_compare_still_prints_verdict_when_compare_html_cannot_be_written(tmp_path, capsys):
    base = _write(tmp_path / "baseline.json", baseline_file())
    current = _write(tmp_path / "run" / "report.json", {**baseline_file(), "kind": None})
    (tmp_path / "run" / "compare.html").mkdir()  # a folder where the page should go
    assert main(["compare", str(base), str(current)]) == 0
    out = capsys.readouterr().out
    assert "compare.html not written" in out and "VERDICT no regression" in out


@pytest.mark.slow  # a real browser: several seconds
def test_compare_chart_renders_with_content_when_opened_in_headless_chromium(tmp_path):
    base = _write(tmp_path / "baseline.json", baseline_file())
    current = _write(tmp_path / "run" / "report.json", current_for_compare())
    main(["compare", str(base), str(current)])
    page = tmp_path / "run" / "compare.html"
    assert_charts_have_content(page.read_text(), expected=1)
    pixels = screenshot(page, tmp_path, height=1000)
    assert not_white_share(pixels) > 0.03, "page looks blank"
    for meaning in ("baseline", "held", "failed", "target"):
        assert pixels_of_colour(pixels, COLOURS[meaning]) > 40, f"nothing drawn in the colour of {meaning}"
