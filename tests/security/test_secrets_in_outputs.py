"""Secrets and session tokens never reach logs, reports or the console, and nothing a run
starts listens beyond loopback.

A short run with the sales personas signs four people in through the local STS; each gets
a temporary secret key and a session token. After the run, every one of those values is
looked for in every file the run wrote (logs, report.json/html, JUnit, Locust CSVs, the
run plan...), in what it printed and in this process's log records.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import pytest
from listening import descendants, listening_addresses, not_loopback

from emulator.stack import LocalStack
from streamload.core.config import load_config
from streamload.run import execute_run, print_summary

pytestmark = pytest.mark.slow


class _SocketSampler(threading.Thread):
    """Records the listening sockets of this process tree every 0.5 s while a run goes on."""

    def __init__(self) -> None:
        super().__init__(name="socket-sampler", daemon=True)
        self.seen: dict[int, set[tuple[str, int]]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for pid, addresses in listening_addresses(descendants(os.getpid())).items():
                self.seen.setdefault(pid, set()).update(addresses)


def test_no_secret_or_session_token_in_outputs_and_only_loopback_listeners_when_personas_run(tmp_path, caplog, capsys):
    caplog.set_level(logging.INFO)
    out = tmp_path / "run"
    sampler = _SocketSampler()
    with LocalStack() as stack:
        cfg = load_config(None, {"producer": {"rate": 20, "duration_s": 4, "metrics_port": 0},
                                 "load": {"drain_timeout_s": 15, "metrics_port": 0},
                                 "personas": {"enabled": True}}, environ={})
        stack.point_config_at_stack(cfg)
        sampler.start()
        try:
            outcome = execute_run(cfg, out)
        finally:
            sampler.done.set()
            sampler.join(5)
        print_summary(outcome)
        # Every session the local STS issued during the run (private: the registry has no
        # public listing, and the test must know the values to look for them).
        sessions = list(stack.registry._sessions.values())

    secrets = {secret for _, secret, _ in sessions} | {token for _, _, token in sessions if token}
    assert len(sessions) >= 4 and all(len(s) >= 16 for s in secrets), "every persona should have signed in"
    printed = capsys.readouterr()
    places = {"stdout": printed.out.encode(), "stderr": printed.err.encode(), "log records": caplog.text.encode()}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"report.json", "report.html", "junit.xml", "run-plan.json"} <= {p.name for p in files}
    assert any(p.parent.name == "logs" for p in files)
    places.update({str(p.relative_to(out)): p.read_bytes() for p in files})
    leaks = sorted(f"{where}: {secret[:6]}..." for where, data in places.items() for secret in secrets
                   if secret.encode() in data)
    assert leaks == []

    # The run plan hands the config to Locust; the keys go by environment, not by file.
    assert json.loads((out / "run-plan.json").read_text())["config"]["target"]["secret_access_key"] is None
    assert json.loads((out / "report.json").read_text())["config"]["target"]["secret_access_key"] != \
        cfg.target.secret_access_key.get_secret_value()

    # This process (emulators), PostgreSQL, the producer and Locust all listened, on loopback.
    assert len(sampler.seen) >= 3, sampler.seen
    assert not_loopback(sampler.seen) == {}
