"""Crash matrix, a Locust worker: killed with SIGKILL mid-run, the master keeps running, the
audit still counts every record in the warehouse, and the report says which worker was lost and
what it therefore could not measure (exit 1)."""
from __future__ import annotations

import signal
import time

import psutil
import pytest
from fault_stack import FaultStep, FaultTimeline

from emulator.stack import LocalStack
from streamload.core.config import load_config
from streamload.run import execute_run


def _worker(index: int) -> psutil.Process | None:
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "--worker" in (proc.info["cmdline"] or []) and \
                    proc.environ().get("STREAMLOAD_PROCESS_INDEX") == str(index):
                return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def _users_running(out) -> bool:
    """Locust's history has a row with users: every worker connected and got its users."""
    try:
        lines = (out / "locust_stats_history.csv").read_text().splitlines()
    except OSError:
        return False
    return any(line.split(",")[1] not in ("0", "User Count") for line in lines[1:] if line.count(",") > 2)


@pytest.mark.slow
def test_report_names_the_lost_worker_and_audit_still_counts_when_a_worker_is_killed(tmp_path):
    with LocalStack() as stack:
        cfg = load_config(None, {"producer": {"rate": 100, "duration_s": 6, "metrics_port": 0},
                                 "load": {"workers": 2, "drain_timeout_s": 15, "metrics_port": 0,
                                          "query_users": 2}}, environ={})
        stack.point_config_at_stack(cfg)
        out = tmp_path / "run"

        def kill_worker_2():
            worker = _worker(2)
            assert worker is not None, "worker 2 not found"
            worker.send_signal(signal.SIGKILL)
            return worker.pid

        # Killed once both workers run their users (Locust's history shows them), mid-run.
        timeline = FaultTimeline([FaultStep(1, "kill locust worker 2", kill_worker_2)])
        outcome = timeline.play_during(lambda: execute_run(cfg, out), timeout_s=180, wait_s=90,
                                       when=lambda: _users_running(out) and _worker(2) is not None)
    assert timeline.errors == []
    report = outcome.report
    assert report["load_processes"]["lost"] == [2] and report["load_processes"]["reported"] == [0, 1]
    assert outcome.exit_code == 1
    assert any("Locust worker 2" in p for p in report["problems"]), report["problems"]
    assert report["produced"] == report["found"] == 600 and report["lost"] == 0  # counted in the warehouse
