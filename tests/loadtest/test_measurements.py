"""The orchestrator's side: merging the processes' measurements into the report, and
serving the audit's final counts for one more scrape after Locust has quit."""
import json
import socket
import threading
import urllib.request

from loadtest import metrics
from loadtest.decomposition import StageHistograms
from loadtest.measurements import add_measurements, measurement_summary_lines, publish_final_counts
from loadtest.open_model import OpenStats
from streamload.core.processes import free_port


def _output(tmp_path, index, stages=None, open_model=None, scrapes=0):
    data = {"process_index": index, "statement_histograms": {}, "metrics_scrapes": scrapes,
            "e2e_stages": stages.to_json() if stages else {}, "open_model": open_model or {}}
    (tmp_path / f"loadtest-{index}.json").write_text(json.dumps(data))


REPORT = {"run_id": "20260101T000000-abc123", "found": 998, "lost": 2, "duplicates": 1}


def test_final_counts_are_served_until_scraped_once_when_prometheus_scraped_the_run(tmp_path):
    _output(tmp_path, 0, scrapes=12)
    port = free_port()
    done = {}
    server = threading.Thread(target=lambda: done.update(
        publish_final_counts(REPORT, port, timeout_s=20, out_dir=tmp_path, stream="my-data-stream")))
    server.start()
    body = ""
    for _ in range(200):  # until the endpoint is up (bounded)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                body = resp.read().decode()
            break
        except OSError:
            threading.Event().wait(0.02)
    server.join(timeout=10)

    assert not server.is_alive(), "the final endpoint did not stop after its scrape"
    assert done == {"served": True, "port": port, "scraped": True}
    assert "streamload_records_lost_total 2.0" in body
    assert "streamload_records_duplicated_total 1.0" in body
    assert "streamload_records_found_total 998.0" in body
    assert 'streamload_run_info{run_id="20260101T000000-abc123",stream="my-data-stream"} 1.0' in body
    with socket.socket() as s:  # and the port is free again
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_final_counts_are_not_held_when_nobody_scraped_the_run(tmp_path):
    _output(tmp_path, 0, scrapes=0)
    result = publish_final_counts(REPORT, free_port(), timeout_s=600, out_dir=tmp_path, stream="s")
    assert result["served"] is False and "no scrape" in result["reason"]


def test_serve_final_counts_gives_up_when_the_port_is_taken():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        registry = metrics.final_counts_registry("r", "s", found=1, lost=0, duplicated=0)
        assert metrics.serve_final_counts(registry, busy.getsockname()[1], timeout_s=600) == 0


def test_add_measurements_merges_stages_and_open_model_when_two_workers_wrote(tmp_path):
    for index, base in ((1, 1_000), (2, 50_000)):
        stages = StageHistograms()
        stats = OpenStats(intended=10, on_time=8, late=1, dropped=1)
        for i in range(10):
            stages.record("total", base + i)
            stats.latency.record_value(base + i)
        _output(tmp_path, index, stages=stages, open_model={"query": stats.to_json()})
    report = {}
    add_measurements(report, tmp_path)

    assert report["e2e_stages"]["total"]["count"] == 20
    assert report["e2e_stages"]["total"]["max_ms"] >= 50.0
    assert "arrival + refresh_lag + visibility = total" in report["e2e_stage_rule"]
    query = report["open_model"]["query"]
    assert (query["intended"], query["started"], query["dropped"]) == (20, 18, 2)
    assert any("open model query: intended=20 started=18 late=2 dropped=2" in line
               for line in measurement_summary_lines(report))
