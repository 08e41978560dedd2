"""`streamload audit --plan`: the end-of-run audit of a run spread over machines, as the
Kubernetes Jobs leave it (a plan from `streamload plan`, producers writing ledgers into one
folder), against the local stack."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from emulator.stack import LocalStack
from streamload.core.config import load_config
from streamload.core.ledger import read_ledger
from streamload.core.processes import free_port
from streamload.pipeline import setup_pipeline

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def stack():
    with LocalStack() as running:
        yield running


def _env(stack) -> dict[str, str]:
    from emulator.stack import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

    # The plan holds no secret: every pod takes its keys from the standard chain.
    return {**os.environ, "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT)}


def _streamload(stack, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "streamload.cli", *args], cwd=ROOT, env=_env(stack),
                          capture_output=True, text=True, timeout=timeout)


def _planned_run(stack, tmp_path: Path, stream: str, producers_planned: int, producers_run: int,
                 ledger_table: str | None = None) -> Path:
    """`streamload plan`, then ``producers_run`` producer processes as the producer Job runs them.
    With ``ledger_table`` the producers keep their ledger files to themselves (as pods on other
    machines would) and publish them to that table."""
    config = tmp_path / "run.toml"
    config.write_text(
        f'[target]\nkinesis_endpoint_url = "{stack.kinesis_url}"\n'
        f'redshift_data_endpoint_url = "{stack.redshift_data_url}"\naccess_key_id = "streamload-local"\n'
        f'[stream]\nname = "{stream}"\nshards = 2\n'
        f'[redshift]\nmaterialized_view = "{stream.replace("-", "_")}_vw"\nworkgroup_name = "local"\n'
        + (f'ledger_table = "{ledger_table}"\n' if ledger_table else "") +
        '[verdict]\nthresholds = ["lost == 0", "duplicates == 0", "e2e_p99 < 30s"]\n')
    cfg = load_config(config, {}, environ={})
    stack.point_config_at_stack(cfg)
    setup_pipeline(cfg)  # what the first run against the target does: stream, external schema, MV
    ledger_dir = tmp_path / "data"
    plan = tmp_path / "data" / "run-plan.json"
    own_dir = tmp_path / "pods" if ledger_table else ledger_dir
    made = _streamload(stack, "plan", "--config", str(config), "--producers", str(producers_planned),
                       "--producer-id-prefix", "pod-", "--ledger-dir", str(ledger_dir), "--output", str(plan))
    assert made.returncode == 0, made.stderr
    producers = [subprocess.Popen(
        [sys.executable, "-m", "producer", "--stream", stream, "--endpoint-url", stack.kinesis_url, "--rate", "150",
         "--duration", "1", "--producer-id", f"pod-{i}", "--ledger", str(own_dir / f"ledger-pod-{i}.json"),
         "--metrics-port", "0"], cwd=ROOT, env={**_env(stack), "STREAMLOAD_RUN_FILE": str(plan)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for i in range(producers_run)]
    for producer in producers:
        assert producer.wait(timeout=120) == 0, producer.stderr.read()
    return plan


@pytest.mark.slow
def test_audit_finds_every_record_of_every_planned_producer_and_fails_naming_a_lost_one(stack, tmp_path):
    plan = _planned_run(stack, tmp_path, "audit-two", producers_planned=2, producers_run=2)
    result = _streamload(stack, "audit", "--plan", str(plan), "--drain-timeout", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(plan.with_name("audit.json").read_text())
    assert report["audit"]["produced"] == report["audit"]["found"] == 300  # 2 producers x 150/s x 1 s
    assert (report["audit"]["lost"], report["audit"]["duplicates"], report["missing_ledgers"]) == (0, 0, [])
    assert [t["threshold"] for t in report["thresholds"]] == ["lost == 0", "duplicates == 0"]
    assert report["thresholds_not_judged"] == ["e2e_p99 < 30s"]
    assert "produced=300" in result.stdout and "VERDICT pass" in result.stdout

    # A record the ledger says was acknowledged but that never reached the stream: seq 150 of pod-1.
    ledger_path = plan.with_name("ledger-pod-1.json")
    ledger = read_ledger(ledger_path)
    ledger.generated += 1
    ledger.acked.add(150)
    ledger_path.write_bytes(orjson.dumps(ledger.to_json()))
    result = _streamload(stack, "audit", "--plan", str(plan), "--drain-timeout", "0", "--output",
                         str(tmp_path / "second.json"))
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((tmp_path / "second.json").read_text())
    assert report["audit"]["lost"] == 1 and report["audit"]["lost_first_20"] == ["pod-1 seq 150"]
    assert sum(report["audit"]["lost_reasons"]["lost_by_reason"].values()) == 1
    assert "LOST 1 records, first: pod-1 seq 150" in result.stdout and "VERDICT FAIL" in result.stdout


@pytest.mark.slow
def test_audit_fails_naming_the_ledger_of_a_planned_producer_that_never_ran(stack, tmp_path):
    plan = _planned_run(stack, tmp_path, "audit-missing", producers_planned=3, producers_run=2)
    result = _streamload(stack, "audit", "--plan", str(plan), "--drain-timeout", "60")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"no ledger from a planned producer: {plan.with_name('ledger-pod-2.json')}" in result.stdout
    report = json.loads(plan.with_name("audit.json").read_text())
    assert report["audit"]["found"] == report["audit"]["produced"] == 300 and report["audit"]["lost"] == 0


@pytest.mark.slow
def test_audit_reads_ledgers_from_the_ledger_table_when_producers_ran_on_other_machines(stack, tmp_path):
    plan = _planned_run(stack, tmp_path, "audit-table", producers_planned=3, producers_run=2,
                        ledger_table="streamload_ledgers")
    assert not list(plan.parent.glob("ledger-*.json"))  # no shared volume: nothing here
    result = _streamload(stack, "audit", "--plan", str(plan), "--drain-timeout", "60")
    assert result.returncode == 1, result.stdout + result.stderr  # pod-2 never ran
    report = json.loads(plan.with_name("audit.json").read_text())
    assert report["audit"]["produced"] == report["audit"]["found"] == 300 and report["audit"]["lost"] == 0
    assert report["missing_ledgers"] == [str(plan.with_name("ledger-pod-2.json"))]


@pytest.mark.parametrize("content, words", [
    (None, "cannot read the run plan"),
    ("{not json", "is not a run plan written by `streamload plan`"),
    ('{"run_id": "x", "started_at": 1, "config": {"producer": {"rate": -5}}}', "the config inside is invalid"),
])
def test_audit_exits_2_with_one_line_when_the_plan_is_missing_or_not_a_plan(tmp_path, content, words):
    plan = tmp_path / "run-plan.json"
    if content is not None:
        plan.write_text(content)
    result = subprocess.run([sys.executable, "-m", "streamload.cli", "audit", "--plan", str(plan)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _plan_file(tmp_path: Path, target: dict, redshift: dict | None = None) -> Path:
    plan = tmp_path / "run-plan.json"
    plan.write_text(json.dumps({"run_id": "r1", "started_at": 1.0, "ledger_paths": [],
                                "config": {"target": {"access_key_id": "streamload-local", **target},
                                           "redshift": {"workgroup_name": "local", **(redshift or {})}}}))
    return plan


def test_audit_exits_3_with_one_line_when_the_data_api_is_down(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    plan = _plan_file(tmp_path, {"redshift_data_endpoint_url": dead, "kinesis_endpoint_url": dead})
    result = subprocess.run([sys.executable, "-m", "streamload.cli", "audit", "--plan", str(plan)], cwd=ROOT,
                            env={**os.environ, "AWS_ACCESS_KEY_ID": "streamload-local",
                                 "AWS_SECRET_ACCESS_KEY": "streamload-local"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().splitlines() == [f"streamload: error: cannot reach {dead}/"]


def test_audit_exits_1_with_one_line_when_the_view_does_not_exist(stack, tmp_path):
    plan = _plan_file(tmp_path, {"redshift_data_endpoint_url": stack.redshift_data_url,
                                 "kinesis_endpoint_url": stack.kinesis_url}, {"materialized_view": "no_such_vw"})
    result = _streamload(stack, "audit", "--plan", str(plan), "--drain-timeout", "0")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamload: error: an audit query failed:") and "no_such_vw" in lines[0]
