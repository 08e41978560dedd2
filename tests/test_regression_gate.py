"""The CI regression gate: `streamload run` on the local stack against a committed baseline.

(a) a normal short run passes its thresholds and the baseline comparison (exit 0);
(b) the same run with +2 s injected into every Kinesis call (the local Kinesis's fault admin
    endpoint) exits 1, and the output, report.json and junit.xml name the metrics that
    regressed.

The baseline (tests/data/regression_gate_baseline.json) came from `streamload baseline
--repeat 5` (its "repeat" field says so) with tests/data/regression_gate.toml; that config's rule only counts a rise of
at least 2 s that also doubles the baseline, so (a) holds on a slow machine while (b), where
every record waits 2 s for its PutRecords and every refresh several seconds for its reads,
is far beyond it.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml

from emulator.stack import LocalStack
from streamload.core.config import load_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "data" / "regression_gate.toml"
BASELINE = ROOT / "tests" / "data" / "regression_gate_baseline.json"
ADDED_LATENCY_MS = 2000


@pytest.fixture(scope="module")
def stack():
    with LocalStack() as s:
        yield s


def _run_config(stack: LocalStack, tmp_path: Path, tag: str) -> Path:
    """The committed gate config aimed at this stack, with a stream and view of its own."""
    cfg = load_config(CONFIG)
    stack.point_config_at_stack(cfg)
    data = cfg.model_dump(mode="json", by_alias=True)
    data["target"]["secret_access_key"] = cfg.target.secret_access_key.get_secret_value()
    data["stream"]["name"] = f"gate-{tag}"
    data["redshift"]["materialized_view"] = f"gate_{tag}_vw"
    path = tmp_path / f"{tag}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _set_faults(stack: LocalStack, plan: dict | None) -> None:
    url = f"{stack.kinesis_url}/_streamload/faults"
    body = json.dumps(plan).encode() if plan is not None else None
    request = urllib.request.Request(url, data=body, method="POST" if plan is not None else "DELETE")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _streamload_run(config: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streamload.cli", "run", "--config", str(config), "--baseline", str(BASELINE),
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )


def test_committed_baseline_holds_medians_and_noise_of_repeated_runs():
    baseline = json.loads(BASELINE.read_text())
    assert baseline["kind"] == "streamload-baseline" and baseline["repeat"] >= 3
    assert baseline["lost"] == 0 and 0 < baseline["e2e_p50_ms"] <= baseline["e2e_p99_ms"]
    assert set(baseline["noise"]) >= {"e2e_p50_ms", "e2e_p99_ms", "refresh_p99_ms"}


def test_gate_passes_normal_run_and_fails_naming_metric_when_latency_injected(stack, tmp_path):
    normal = _streamload_run(_run_config(stack, tmp_path, "normal"), tmp_path / "normal")
    assert normal.returncode == 0, normal.stdout[-3000:] + normal.stderr[-2000:]
    assert "baseline verdict: no regression" in normal.stdout

    _set_faults(stack, {"added_latency_ms": ADDED_LATENCY_MS})
    try:
        slow = _streamload_run(_run_config(stack, tmp_path, "slow"), tmp_path / "slow")
    finally:
        _set_faults(stack, None)
    assert slow.returncode == 1, slow.stdout[-3000:] + slow.stderr[-2000:]
    verdict = next(line for line in slow.stdout.splitlines() if "baseline verdict:" in line)
    assert "REGRESSED" in verdict and "e2e_p50_ms" in verdict

    report = json.loads((tmp_path / "slow" / "report.json").read_text())
    assert report["lost"] == 0  # slower, not lossy: the latency rule is what failed
    assert all(t["ok"] for t in report["thresholds"])
    rows = {r["metric"]: r for r in report["baseline"]["rows"]}
    assert rows["e2e_p50_ms"]["current"] > rows["e2e_p50_ms"]["allowed"]
    suite = ET.parse(tmp_path / "slow" / "junit.xml").getroot().find("testsuite")
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert "baseline e2e_p50_ms" in failed
