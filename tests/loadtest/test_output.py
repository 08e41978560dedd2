"""The per-process ``loadtest-<i>.json``: one model, written by a Locust process and read by
every part of the orchestrator, with files from older runs still readable."""
from __future__ import annotations

import json

from loadtest.load_process import LoadProcess
from loadtest.measurements import add_measurements, publish_final_counts
from loadtest.output import output_path, read_outputs
from streamload.core.config import load_config
from streamload.core.runplan import RunPlan
from streamload.locust_runner import load_processes, merge_loadtest_outputs, probe_complete
from streamload.run import _plan_config

# A probe process's file as runs wrote it before dataapi_poll, metrics_scrapes, open_model
# and probe.complete existed.
OLDER_FILE = {
    "process_index": 0,
    "statement_histograms": {},
    "e2e_stages": {},
    "probe": {"found": 10, "expected": 10, "missing": 0, "sampled": 3, "e2e_p50_ms": 812.0,
              "latency_samples": [[0.5, 812.0]]},
}


def _process(tmp_path, index: int, monkeypatch) -> LoadProcess:
    monkeypatch.setenv("STREAMLOAD_PROCESS_INDEX", str(index))
    cfg = load_config(None, {"load": {"metrics_port": 0}}, environ={})
    plan = RunPlan(run_id="r", started_at=0.0, config=_plan_config(cfg), probe_out=str(tmp_path / "probe.json"))
    return LoadProcess(plan)


def test_written_output_keeps_the_file_format_and_completes_the_probe_when_read_back(tmp_path, monkeypatch):
    process = _process(tmp_path, 2, monkeypatch)
    process.record_statement("query", 0.25)
    process.output(complete=True).write(process.output_path())

    on_disk = json.loads(output_path(tmp_path, 2).read_text())
    assert set(on_disk) == {"process_index", "statement_histograms", "e2e_stages", "open_model", "dataapi_poll",
                            "metrics_scrapes", "probe"}
    assert on_disk["probe"]["complete"] is True and "e2e_histogram" in on_disk["probe"]
    assert probe_complete(tmp_path)
    assert load_processes(tmp_path, workers=2)["lost"] == [0, 1]
    probe, _, percentiles = merge_loadtest_outputs(tmp_path)
    assert probe == on_disk["probe"] and percentiles["query"]["count"] == 1


def test_output_has_no_probe_section_when_this_process_sampled_nothing(tmp_path, monkeypatch):
    process = _process(tmp_path, 1, monkeypatch)
    process.output().write(process.output_path())
    assert "probe" not in json.loads(output_path(tmp_path, 1).read_text())
    assert not probe_complete(tmp_path) and merge_loadtest_outputs(tmp_path)[0] == {}


def test_older_file_reads_with_its_probe_unchanged_when_newer_keys_are_missing(tmp_path):
    output_path(tmp_path, 0).write_text(json.dumps(OLDER_FILE))
    [output] = read_outputs(tmp_path)
    assert (output.metrics_scrapes, output.open_model, output.dataapi_poll) == (0, {}, None)
    assert merge_loadtest_outputs(tmp_path)[0] == OLDER_FILE["probe"]  # no key added, none lost
    assert not probe_complete(tmp_path)
    assert load_processes(tmp_path, workers=0)["reported"] == [0]
    report: dict = {}
    add_measurements(report, tmp_path)
    assert "open_model" not in report and report["dataapi_poll"] == {"rule": None}
    assert publish_final_counts({}, port=9, timeout_s=1, out_dir=tmp_path, stream="s")["served"] is False


def test_unreadable_file_is_skipped_and_the_others_read_when_one_process_left_garbage(tmp_path, caplog):
    output_path(tmp_path, 0).write_text(json.dumps(OLDER_FILE))
    output_path(tmp_path, 1).write_text('{"process_index": 1, "statement_hist')
    output_path(tmp_path, 2).write_text('{"process_index": "two"}')
    assert [o.process_index for o in read_outputs(tmp_path)] == [0]
    assert "loadtest-1.json" in caplog.text and "loadtest-2.json" in caplog.text
    assert load_processes(tmp_path, workers=2)["lost"] == [1, 2]


def test_keys_a_newer_writer_adds_are_kept_when_read(tmp_path):
    newer = {**OLDER_FILE, "something_new": {"a": 1}, "probe": {**OLDER_FILE["probe"], "new_stat": 4}}
    output_path(tmp_path, 0).write_text(json.dumps(newer))
    [output] = read_outputs(tmp_path)
    assert output.model_extra == {"something_new": {"a": 1}}
    assert merge_loadtest_outputs(tmp_path)[0]["new_stat"] == 4
