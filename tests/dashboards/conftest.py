"""Fixtures for the dashboard tests: a real Prometheus scraping stand-in exporters."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The repo root goes first so `dashboards` is the top-level package, not this test folder
# (pytest puts tests/ on sys.path), until pyproject's packages.find includes dashboards*.
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

from dashboards.prometheus_runner import PrometheusServer, PrometheusUnavailable, ScrapeTarget, find_binary
from streamload.core.processes import free_port

EXPORTERS = HERE / "synthetic_exporters.py"


def require_binary(name: str) -> str:
    """The binary on PATH (``scripts/test`` runs ``scripts/install-prometheus`` first);
    otherwise the test fails saying what to run."""
    try:
        return find_binary(name)
    except PrometheusUnavailable as exc:
        pytest.fail(f"cannot run this test: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    return require_binary("prometheus")


@dataclass
class SyntheticRun:
    run_id: str
    prometheus: PrometheusServer
    started_at: float


def _start_exporter(role: str, port: int, run_id: str, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(EXPORTERS), "--role", role, "--port", str(port), "--run-id", run_id, *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()  # "ready" once serving; EOF if it crashed
    if line.strip() != "ready":
        proc.kill()
        pytest.fail(f"{role} stand-in exporter did not start: {proc.stderr.read()[-1000:]}", pytrace=False)
    return proc


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory, prometheus_binary):
    """Producer and Locust stand-ins (one lost record, one RLS violation) scraped every second."""
    binary = prometheus_binary
    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    producer_port, load_port = free_port(), free_port()
    procs = [
        _start_exporter("producer", producer_port, run_id, "--rate", "200"),
        _start_exporter("loadtest", load_port, run_id, "--lost", "1", "--rls-violation", "frank"),
    ]
    targets = [
        ScrapeTarget("streamload-producer", f"127.0.0.1:{producer_port}"),
        ScrapeTarget("streamload-loadtest", f"127.0.0.1:{load_port}"),
    ]
    server = PrometheusServer(targets, data_dir=tmp_path_factory.mktemp("prometheus"), binary=binary)
    try:
        server.start()
        yield SyntheticRun(run_id, server, time.time())
    finally:
        server.close()
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
