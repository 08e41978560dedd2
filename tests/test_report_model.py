"""report.json as one typed model: what a run writes reads back the same, older files still
read and compare, and anything else is refused in one line."""
import json
import re
from pathlib import Path

import pytest
from report_fixtures import run_report

from streamload.baseline_file import BaselineFile, read_baseline
from streamload.cli import main
from streamload.compare import compare_reports, regressed_metrics
from streamload.core.errors import ConfigError
from streamload.report import RunReport, read_report, result_line, write_report

DATA = Path(__file__).parent / "data"
# Built in the shape the first release (commit 051f683, 2026-11-23) wrote: no e2e_population,
# no faults, no load_processes, a baseline section without regressed_metrics.
OLDER_REPORT = DATA / "report_2026-11-23.json"
CHECKED_IN_BASELINE = DATA / "regression_gate_baseline.json"


def test_report_reads_back_equal_when_written_from_the_runs_dict(tmp_path):
    built = run_report()
    built["cost_estimate"] = {"total_usd": 0.0123, "kinesis_usd": 0.01, "redshift_usd": 0.0023, "note": "estimated"}
    built["load_processes"] = {"expected": [0, 1], "reported": [0], "lost": [1], "not_measured": ["Locust worker 1"]}
    built["problems"] = ["lost Locust worker 1 are not in this report"]
    path = write_report(built, tmp_path)
    assert path.read_text() == json.dumps(built, indent=2)  # the bytes the writer wrote before the model
    report = read_report(path)
    assert report.to_json() == json.loads(path.read_text())
    assert report.audit.lost == 3 and report.thresholds[1].threshold == "lost == 0" and not report.thresholds[1].ok
    assert report.load_processes.lost == [1] and report.cost_estimate.total_usd == 0.0123
    assert result_line(report) == result_line(built)


def test_report_model_writes_the_same_file_when_written_again_after_reading(tmp_path):
    first = write_report(run_report(personas=False, population=False, lost=0), tmp_path / "a")
    again = write_report(read_report(first), tmp_path / "b")
    assert json.loads(again.read_text()) == json.loads(first.read_text())


def test_write_report_keeps_the_file_and_logs_the_field_when_a_field_has_the_wrong_type(tmp_path, caplog):
    built = run_report()
    built["thresholds"] = [{"threshold": "lost == 0", "ok": "maybe"}]
    with caplog.at_level("ERROR", logger="streamload.report"):
        path = write_report(built, tmp_path)
    assert json.loads(path.read_text())["thresholds"][0]["ok"] == "maybe"  # a long run's numbers are never lost
    assert "thresholds.0.ok" in caplog.text


def test_older_report_reads_with_its_sections_typed_when_fields_came_later():
    report = read_report(OLDER_REPORT)
    assert report.run_id == "20261123T182010-0a1b2c" and report.produced == 200 and report.lost == 0
    assert report.baseline.rows[0].metric == "e2e_p99_ms" and report.baseline.regressed_metrics == []
    assert report.e2e_population == {} and report.faults is None and report.load_processes is None
    assert report.probe["missing"] == 0  # fields no longer written are kept
    assert "regressed_metrics" not in report.to_json()["baseline"]  # nothing invented on the way back


def test_older_report_compares_with_the_checked_in_baseline_when_read_through_the_reader():
    baseline, current = read_baseline(CHECKED_IN_BASELINE), read_baseline(OLDER_REPORT, "report")
    assert isinstance(baseline, BaselineFile) and baseline.repeat == 5 and isinstance(current, RunReport)
    rows = {r.metric: r for r in compare_reports(baseline, current)}
    assert rows["e2e_p99_ms"].current == pytest.approx(987.135)
    assert rows["e2e_p90_ms"].current is not None and rows["refresh_p99_ms"].current is not None
    assert regressed_metrics(list(rows.values())) == []


def test_compare_command_exits_0_when_an_older_report_is_compared_with_the_checked_in_baseline(tmp_path, capsys):
    current = tmp_path / "report.json"
    current.write_text(OLDER_REPORT.read_text())
    assert main(["compare", str(CHECKED_IN_BASELINE), str(current)]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "VERDICT no regression" and (tmp_path / "compare.html").exists()


@pytest.mark.parametrize("content, cause", [
    (None, "cannot read report"),
    ("{not json", "is not JSON: Expecting property name"),
    ('"text"', "is not a streamload report: a JSON str"),
    ('{"kind": "capacity", "steps": []}', "is not a run report: it is a capacity search report"),
    ('{"kind": "streamload-baseline", "repeat": 3}', "is not a run report: it is a baseline file"),
    ('{"run_id": "r", "produced": "many"}', "is not a streamload run report: produced: Input should be a valid integer"),
    ('{"hello": 1}', "is not a streamload run report: it has none of its fields"),
])
def test_read_report_names_the_cause_in_one_line_when_the_file_is_not_a_run_report(tmp_path, content, cause):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        read_report(path)
    assert cause in str(caught.value) and str(path) in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_compare_command_exits_2_in_one_line_when_current_is_a_capacity_report(tmp_path, capsys):
    capacity = tmp_path / "report.json"
    capacity.write_text(json.dumps({"kind": "capacity", "steps": [], "held_rate": None}))
    assert main(["compare", str(CHECKED_IN_BASELINE), str(capacity)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "capacity search report" in err


def _fields_the_docs_name() -> set[str]:
    """Top-level report.json fields named in docs/ and README.md ("`report.json` → `faults`",
    "`report.json` has `personas.<name>`", the reports page's "needs in `report.json`" table)."""
    root = Path(__file__).resolve().parent.parent
    texts = [p.read_text() for p in sorted((root / "docs").glob("*.md"))] + [(root / "README.md").read_text()]
    pattern = re.compile(r"report\.json` (?:→|has) (?:a )?`([a-z_0-9]+)")
    named = {m for text in texts for m in pattern.findall(text)}
    table = (root / "docs" / "reports.md").read_text().split("needs in `report.json`", 1)[1].split("\n\n", 1)[0]
    named |= {m for m in re.findall(r"^\|[^|]+\| `([a-z_0-9]+)`", table, flags=re.M)}
    return named


def test_report_model_declares_a_field_when_the_docs_or_readme_name_it():
    named = _fields_the_docs_name()
    assert {"faults", "e2e_population", "cost_estimate", "personas"} <= named  # the pattern still finds them
    assert sorted(named - RunReport.model_fields.keys()) == []


def test_run_page_is_the_same_when_drawn_from_the_report_read_back():
    from streamload.html_report import render_run_report

    as_written = json.loads(OLDER_REPORT.read_text())
    assert render_run_report(read_report(OLDER_REPORT)) == render_run_report(as_written)
