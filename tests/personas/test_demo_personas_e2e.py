"""`streamload demo --personas` end to end: the four personas under concurrent load on the
local stack report rls_violations=0, and a run whose set-up mis-attaches one policy FAILS
with the leak counted (the proof that the check can fail)."""
from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
import sys
from pathlib import Path

import pytest

from streamload.sales_setup import SETUP_SQL, sales_rows

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SEED_ROWS = 300
REGION_OF = {"frank": "AMER", "alex": "EMEA", "ming": "APAC"}
PER_REGION = Counter(row["region"] for row in sales_rows(SEED_ROWS))  # the seed's default, 7
# Short and light: the producer only has to run; the personas are what is tested. No probe
# (the audit still checks loss), so the run ends at Locust's run time, bounded.
SMALL_RUN = """
[producer]
rate = 20
duration_s = 3
metrics_port = 0

[load]
probe = false
query_users = 0
drain_timeout_s = 2
metrics_port = 0

[personas]
users_per_persona = 2
query_interval_s = 0.2
seed_rows = {rows}
"""


def _run(argv: list[str], out: Path) -> tuple[subprocess.CompletedProcess, dict, dict]:
    proc = subprocess.run([sys.executable, "-m", "streamload.cli", *argv, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    lines = proc.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("RESULT "), proc.stdout[-2000:] + proc.stderr[-2000:]
    fields = dict(part.split("=", 1) for part in lines[-1].split()[1:])
    return proc, fields, json.loads((out / "report.json").read_text())


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "run.toml"
    path.write_text(SMALL_RUN.format(rows=SEED_ROWS) + extra)
    return path


def test_demo_with_personas_reports_no_violations_when_every_persona_queries_concurrently(tmp_path):
    proc, fields, report = _run(["demo", "--personas", "--config", str(_config(tmp_path))], tmp_path / "out")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert fields["rls_violations"] == "0" and report["rls_violations"] == 0
    personas = report["personas"]
    assert set(personas) == {"ethan", "frank", "alex", "ming"}
    for name, p in personas.items():
        checked = p["query_latency_ms"]["count"]
        assert checked > 0 and p["query_latency_ms"]["errors"] == 0, name
        # Each persona got rows, and exactly its regions' rows (not an empty answer).
        expected = SEED_ROWS if name == "ethan" else PER_REGION[REGION_OF[name]]
        assert expected > 0 and p["rows_checked"] == checked * expected, name
        assert p["query_latency_ms"]["p50_ms"] <= p["query_latency_ms"]["p99_ms"], name
        assert not p["auth_errors"], name
    for name in ("frank", "alex", "ming"):
        assert personas[name]["column_denials"] == personas[name]["column_probes"], name
    assert {"lost == 0", "rls_violations == 0"} <= {t["threshold"] for t in report["thresholds"] if t["ok"]}
    assert report["statements"]["statement persona frank"]["failures"] == 0


def test_run_fails_with_leak_counted_when_one_policy_is_misattached(tmp_path):
    broken = tmp_path / "broken.sql"
    text = SETUP_SQL.read_text()
    broken.write_text(text.replace('ATTACH RLS POLICY sales_amer ON sales TO ROLE "AWSIDC:amer-sales"',
                                   'ATTACH RLS POLICY sales_all_regions ON sales TO ROLE "AWSIDC:amer-sales"'))
    assert broken.read_text() != text
    config = _config(tmp_path, f'enabled = true\nsetup_sql = "{broken}"\n')
    proc, fields, report = _run(["run", "--local", "--config", str(config)], tmp_path / "out")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert int(fields["rls_violations"]) == report["rls_violations"] > 0
    frank = report["personas"]["frank"]
    assert frank["violations"] == report["rls_violations"]
    assert set(frank["foreign_regions"]) == {"EMEA", "APAC"}
    assert all(report["personas"][n]["violations"] == 0 for n in ("ethan", "alex", "ming"))
    assert report["statements"]["statement persona frank"]["failures"] > 0
    assert re.search(r"threshold rls_violations == 0 +value=[1-9]\d* +FAILED", proc.stdout), proc.stdout[-2000:]
