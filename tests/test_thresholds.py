"""Thresholds: parsing, units and verdicts against a report."""
import pytest

from loadtest.probe import new_latency_histogram
from streamload.core.thresholds import ThresholdError, evaluate, parse_threshold


def _report(latencies_s, lost=0):
    h = new_latency_histogram()
    for s in latencies_s:
        h.record_value(int(s * 1e6))
    return {
        "audit": {"produced": 100, "found": 100 - lost, "lost": lost, "duplicates": 0},
        "probe": {"e2e_histogram": h.encode().decode()},
        "statements": {
            "statement query": {"requests": 1000, "failures": 2, "p50_ms": 40.0, "p99_ms": 900.0},
            "statement refresh": {"requests": 100, "failures": 0, "p50_ms": 80.0, "p99_ms": 300.0},
        },
    }


def test_parse_threshold_converts_units_when_given():
    assert parse_threshold("e2e_p99 < 30s").limit == 30
    assert parse_threshold("e2e_p99 < 1500ms").limit == 1.5
    assert parse_threshold("e2e_p99 < 2m").limit == 120
    assert parse_threshold("error_rate < 0.1%").limit == pytest.approx(0.001)
    t = parse_threshold("query_p95{persona=frank} < 2s")
    assert t.labels == (("persona", "frank"),) and t.op == "<"


@pytest.mark.parametrize("bad", ["e2e_p99 <", "lost = 0", "p99 < fast", ""])
def test_parse_threshold_raises_when_malformed(bad):
    with pytest.raises(ThresholdError):
        parse_threshold(bad)


def test_evaluate_fails_p99_when_tail_is_slow():
    report = _report([1.0] * 98 + [40.0, 45.0])
    results = {r.threshold.text: r for r in evaluate(report, ["e2e_p50 < 2s", "e2e_p99 < 30s", "lost == 0"])}
    assert results["e2e_p50 < 2s"].ok
    assert not results["e2e_p99 < 30s"].ok
    assert results["e2e_p99 < 30s"].value == pytest.approx(40.0, rel=0.01)
    assert results["lost == 0"].ok


def test_evaluate_computes_error_rate_over_all_statements():
    (result,) = evaluate(_report([1.0]), ["error_rate < 0.1%"])
    assert result.value == pytest.approx(2 / 1100)
    assert not result.ok


def test_evaluate_fails_when_metric_has_no_data():
    (result,) = evaluate({"probe": {}}, ["e2e_p99 < 30s"])
    assert result.value is None and not result.ok


def test_evaluate_raises_when_metric_unknown():
    with pytest.raises(ThresholdError, match="unknown metric"):
        evaluate(_report([1.0]), ["latency_p99 < 1s"])


def test_write_junit_marks_failed_thresholds_when_some_fail(tmp_path):
    from xml.etree import ElementTree as ET

    from streamload.junit import write_junit

    results = evaluate(_report([1.0] * 98 + [40.0, 45.0], lost=3), ["e2e_p99 < 30s", "lost == 0", "e2e_p50 < 5s"])
    path = write_junit(results, tmp_path / "junit.xml", run_id="r1", duration_s=12.5)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == {"e2e_p99 < 30s", "lost == 0"}


def _stages_report(refresh_lag_s, visibility_s):
    from loadtest.decomposition import StageHistograms
    stages = StageHistograms().to_json()
    for name, values in (("refresh_lag", refresh_lag_s), ("visibility", visibility_s)):
        h = new_latency_histogram()
        for v in values:
            h.record_value(int(v * 1e6))
        stages[name]["histogram"] = h.encode().decode()
    return {"e2e_stages": stages}


def test_evaluate_reads_stage_percentiles_when_decomposition_present():
    report = _stages_report(refresh_lag_s=[0.2] * 99 + [4.0], visibility_s=[0.5] * 100)
    results = evaluate(report, ["refresh_lag_p50 < 300ms", "refresh_lag_p100 < 1s", "visibility_p99 < 1s"])
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].value == pytest.approx(4.0, rel=1e-3)
    # A stage with no samples has no data: the threshold fails rather than passing vacuously.
    assert evaluate(report, ["put_p99 < 1s"])[0].ok is False


def test_evaluate_counts_open_model_starts_per_class_or_in_total():
    report = {"open_model": {"QueryUser": {"late": 3, "dropped": 2}, "frank": {"late": 1, "dropped": 0}}}
    assert [r.value for r in evaluate(report, ["late_starts == 4", "dropped_starts{class=frank} == 0"])] == [4, 0]
    assert evaluate(report, ["dropped_starts == 0"])[0].ok is False
    assert evaluate(report, ["dropped_starts{class=nobody} == 0"])[0].value is None
