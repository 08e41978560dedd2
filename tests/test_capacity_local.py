"""`streamload capacity` on the local stack: a 1-shard stream whose shard is cut to a tenth of
AWS's write limit (100 records/s, via the local Kinesis's fault admin endpoint) holds 40 and
80 records/s and breaks at 160; the evidence table and reports say so."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from emulator.stack import LocalStack
from streamload.core.config import load_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SHARD_CAPACITY = 0.1  # of 1,000 records/s


def _config(stack: LocalStack, path: Path) -> Path:
    cfg = load_config(None, {
        "stream": {"name": "capacity", "shards": 1},
        "producer": {"metrics_port": 0},
        "load": {"query_users": 1, "refresh_interval_s": 0.5, "drain_timeout_s": 30, "metrics_port": 0},
        "verdict": {"thresholds": ["lost == 0", "e2e_p99 < 30s"]},
    })
    stack.point_config_at_stack(cfg)
    data = cfg.model_dump(mode="json", by_alias=True)
    data["target"]["secret_access_key"] = cfg.target.secret_access_key.get_secret_value()
    path.write_text(yaml.safe_dump(data))
    return path


def test_capacity_finds_rate_a_throttled_shard_holds_and_reports_evidence(tmp_path):
    with LocalStack() as stack:
        body = json.dumps({"throttle_capacity_fraction": SHARD_CAPACITY}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{stack.kinesis_url}/_streamload/faults", data=body,
                                                           method="POST"), timeout=10) as response:
            assert response.status == 200
        proc = subprocess.run(
            [sys.executable, "-m", "streamload.cli", "capacity", "--config", str(_config(stack, tmp_path / "c.yaml")),
             "--start-rate", "40", "--max-rate", "1000", "--step-duration", "3", "--max-steps", "3",
             "--max-total", "150", "--out", str(tmp_path / "cap")],
            cwd=ROOT, capture_output=True, text=True, timeout=240,
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "step limit (3) reached" in out
    table = out[out.index("step    rate/s"):]
    assert "highest rate that held: 80 records/s" in table and "knee between 80 and 160 records/s" in table
    assert "recommended: 1 shard(s)" in table

    report = json.loads((tmp_path / "cap" / "report.json").read_text())
    steps = report["steps"]
    assert [(s["rate"], s["held"]) for s in steps] == [(40, True), (80, True), (160, False)]
    broken = steps[-1]
    assert broken["achieved"] < 0.95 * 160 and broken["throttled"] > 0  # the shard pushed back
    assert any(why.startswith("achieved") for why in broken["why"])
    for s in steps:
        assert Path(s["report"]).exists()  # every step's own run report is kept
        assert s["e2e_p99_ms"] is not None and s["lost"] == 0
    assert "<svg" in (tmp_path / "cap" / "report.html").read_text()
