"""An open-model demo with two Locust workers on the local stack: arrivals split across the
workers, merged into the report with phases and e2e stages."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_open_model_demo_splits_arrivals_over_workers_and_reports_stages_when_run_short(tmp_path):
    config = tmp_path / "open.toml"
    config.write_text('[load]\nquery_model = "open"\nquery_rate_per_s = 10.0\nopen_max_concurrency = 4\nworkers = 2\n')
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "streamload.cli", "demo", "--config", str(config), "--rate", "50", "--duration", "4",
         "--drain-timeout", "40", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())

    query = report["open_model"]["query"]
    assert query["intended"] == query["started"] + query["dropped"] > 0
    per_worker = [json.loads((out / f"loadtest-{i}.json").read_text())["open_model"] for i in (1, 2)]
    assert all(w["query"]["intended"] > 0 for w in per_worker)  # each worker ran its share
    assert query["intended"] == sum(w["query"]["intended"] for w in per_worker)
    # Locust's own stats may miss a worker's last report when the master stops: at most equal.
    stats = report["statements"]
    assert 0 < stats["intended query"]["requests"] <= query["started"]
    for phase in ("submit", "queue", "execution", "fetch"):
        assert stats[f"{phase} query"]["requests"] >= stats["statement query"]["requests"] > 0  # phases come first

    stages = report["e2e_stages"]  # the canary sample: bounded per tick, never more than produced
    assert 0 < stages["total"]["count"] == report["probe"]["sampled"] <= report["produced"] == report["found"]
    assert stages["put"]["count"] == report["produced"]  # every acknowledged record, from the ledgers
    assert stages["refresh_lag"]["count"] == stages["visibility"]["count"] == stages["total"]["count"]
    population = report["e2e_population"]["stages"]  # every record, counted in SQL
    assert {name: population[name]["count"] for name in ("arrival", "refresh_lag", "ingest", "put")} == \
        dict.fromkeys(("arrival", "refresh_lag", "ingest", "put"), report["produced"])
    assert stages["arrival"]["p50_ms"] <= stages["total"]["p50_ms"]
