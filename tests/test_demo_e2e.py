"""The walking skeleton end to end: `streamload demo` on the local stack."""
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streamload.core.ledger import read_ledger

ROOT = Path(__file__).resolve().parent.parent


def _result_fields(line: str) -> dict[str, str]:
    assert line.startswith("RESULT "), line
    return dict(part.split("=", 1) for part in line.split()[1:])


def _port_open(url: str) -> bool:
    host, port = re.match(r"http://([\d.]+):(\d+)", url).groups()
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


@pytest.mark.slow
def test_demo_finds_every_record_and_reports_latency_when_run_short(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "streamload.cli", "demo", "--rate", "100", "--duration", "6",
         "--drain-timeout", "40", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    fields = _result_fields(lines[-1])
    assert int(fields["lost"]) == 0
    assert int(fields["produced"]) == int(fields["found"]) >= 550  # 100/s for 6 s
    assert int(fields["duplicates"]) == 0
    p50, p99 = float(fields["e2e_p50_ms"]), float(fields["e2e_p99_ms"])
    assert 0 < p50 <= p99 < 60_000

    report = json.loads((out / "report.json").read_text())
    for key in ("produced", "found", "lost", "duplicates", "e2e_p50_ms", "e2e_p99_ms"):
        assert key in report
    assert report["found"] == int(fields["found"])
    assert report["statements"]["statement refresh"]["requests"] > 0
    assert report["statements"]["statement query"]["requests"] > 0

    # Nothing it started is still listening.
    urls = re.search(r"kinesis (\S+)\s+redshift-data (\S+)", proc.stdout).groups()
    assert not any(_port_open(u) for u in urls)


@pytest.mark.slow
def test_run_audits_every_producer_process_when_processes_is_two(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('[producer]\nrate = 100\nduration_s = 3\nprocesses = 2\nmetrics_port = 0\n'
                      '[load]\nquery_users = 1\nmetrics_port = 0\ndrain_timeout_s = 40\n')
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "streamload.cli", "run", "--local", "--config", str(config), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    fields = _result_fields(proc.stdout.strip().splitlines()[-1])
    assert int(fields["produced"]) == int(fields["found"]) == 300 and int(fields["lost"]) == 0
    # Both processes' ledgers were written and audited, each accounting for its share.
    ledgers = sorted(p.name for p in out.glob("ledger-p0.p*.json") if not p.name.endswith(".summary.json"))
    assert ledgers == ["ledger-p0.p0.json", "ledger-p0.p1.json"]
    read = [read_ledger(out / name) for name in ledgers]
    assert {ledger.producer_id for ledger in read} == {"p0", "p1"}
    assert sum(ledger.acked.count for ledger in read) == 300
