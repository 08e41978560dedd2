"""baseline: medians and run-to-run spread of N runs, read back by compare."""
import json

import pytest

from loadtest.probe import new_latency_histogram
from streamload.baseline import isolated
from streamload.baseline_file import format_baseline, read_baseline, summarise_runs
from streamload.compare import compare_reports, latency_ms
from streamload.core.config import ConfigError, StreamloadConfig


def _report(e2e_ms: list[float], refresh_ms: list[float], lost=0, run_id="r"):
    e2e, refresh = new_latency_histogram(), new_latency_histogram()
    for v in e2e_ms:
        e2e.record_value(int(v * 1000))
    for v in refresh_ms:
        refresh.record_value(int(v * 1000))
    return {"run_id": run_id, "lost": lost, "duplicates": 0, "e2e_p50_ms": sorted(e2e_ms)[len(e2e_ms) // 2],
            "probe": {"e2e_histogram": e2e.encode().decode()},
            "latency_histograms": {"refresh": refresh.encode().decode()}}


def test_summarise_runs_keeps_medians_and_spread_when_runs_differ():
    runs = [_report([1000.0] * 100, [80.0] * 10, run_id="a"),
            _report([1200.0] * 100, [100.0] * 10, run_id="b"),
            _report([1100.0] * 100, [90.0] * 10, run_id="c")]
    baseline = summarise_runs(runs)
    assert baseline["repeat"] == 3
    assert baseline["e2e_p99_ms"] == pytest.approx(1100, rel=0.002)   # median of the three runs
    assert baseline["noise"]["e2e_p99_ms"] == pytest.approx(100, rel=0.02)  # max |run - median|
    assert baseline["refresh_p99_ms"] == pytest.approx(90, rel=0.002)
    assert baseline["query_p99_ms"] is None  # no query histogram in any run
    assert [r["run_id"] for r in baseline["runs"]] == ["a", "b", "c"]
    assert "e2e_p99_ms" in format_baseline(baseline)


def test_compare_uses_baseline_spread_when_judging_a_run():
    baseline = summarise_runs([_report([1000.0] * 100, [80.0] * 10), _report([1400.0] * 100, [80.0] * 10),
                               _report([1200.0] * 100, [80.0] * 10)])
    # spread 200 ms: 3 x 200 = 600 ms of noise allowed above the 1200 ms median
    within = {r.metric: r for r in compare_reports(baseline, _report([1750.0] * 100, [80.0] * 10))}
    assert not within["e2e_p99_ms"].regressed
    beyond = {r.metric: r for r in compare_reports(baseline, _report([1850.0] * 100, [80.0] * 10))}
    assert beyond["e2e_p99_ms"].regressed and beyond["e2e_p99_ms"].allowed == pytest.approx(1800, rel=0.002)


def test_latency_ms_reads_any_percentile_from_histograms():
    report = _report([float(v) for v in range(1, 1001)], [5.0])
    assert latency_ms(report, "e2e_p90_ms") == pytest.approx(900, rel=0.002)
    assert latency_ms(report, "refresh_p99_ms") == pytest.approx(5, rel=0.002)
    assert latency_ms(report, "query_p99_ms") is None


def test_read_baseline_names_the_file_when_it_is_not_a_report(tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="b.json is not a streamload report: a JSON list"):
        read_baseline(bad)
    bad.write_text(json.dumps({"run_id": "r1", "lost": 0}))
    with pytest.raises(ConfigError, match="b.json holds no latency"):
        read_baseline(bad)
    bad.write_text("{oops")
    with pytest.raises(ConfigError, match="b.json is not JSON"):
        read_baseline(bad)
    bad.write_text(json.dumps({"kind": "streamload-baseline", "e2e_p99_ms": 900, "noise": {"e2e_p99_ms": "big"}}))
    with pytest.raises(ConfigError, match="b.json is not a streamload baseline file: noise.e2e_p99_ms"):
        read_baseline(bad)
    with pytest.raises(ConfigError, match="cannot read baseline .*missing.json"):
        read_baseline(tmp_path / "missing.json")
    good = tmp_path / "g.json"
    good.write_text(json.dumps(summarise_runs([_report([1.0], [1.0])])))
    assert read_baseline(good).repeat == 1


def test_isolated_gives_each_local_run_its_own_stream_but_reuses_aws_stream():
    local = StreamloadConfig.model_validate({"target": {"kinesis_endpoint_url": "http://127.0.0.1:1",
                                                        "redshift_data_endpoint_url": "http://127.0.0.1:2"},
                                             "verdict": {"baseline": "b.json"}})
    copy = isolated(local, "r2")
    assert (copy.stream.name, copy.redshift.materialized_view) == ("my-data-stream-r2", "my_stream_vw_r2")
    assert copy.verdict.baseline is None and local.stream.name == "my-data-stream"
    aws = isolated(StreamloadConfig(), "r2")
    assert (aws.stream.name, aws.redshift.materialized_view) == ("my-data-stream", "my_stream_vw")


def test_baseline_file_reads_back_typed_when_written_by_write_baseline(tmp_path):
    from streamload.baseline_file import BaselineFile, write_baseline

    summary = summarise_runs([_report([900.0] * 10, [40.0] * 5), _report([1100.0] * 10, [60.0] * 5)])
    path = write_baseline(summary, tmp_path / "out" / "baseline.json")
    read = read_baseline(path)
    assert isinstance(read, BaselineFile) and read.repeat == 2 and read.noise["e2e_p99_ms"] > 0
    assert read.to_json() == json.loads(path.read_text())
