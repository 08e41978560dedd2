"""Every server streamload starts listens on 127.0.0.1 unless told otherwise: the
emulators' command lines, ``streamload stack`` (with its PostgreSQL), and the producer's
and Locust's metrics endpoints during a run (see test_secrets_in_outputs.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from listening import descendants, listening_addresses, not_loopback

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from /proc")


def _start(argv: list[str], banner: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True, text=True)
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if line.startswith(banner):
            return proc
        if not line and proc.poll() is not None:
            break
    _stop(proc)
    raise AssertionError(f"{argv} did not print {banner}: {''.join(seen)[-500:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    proc.stdout.close()


def _listening_tree(proc: subprocess.Popen) -> dict[int, set[tuple[str, int]]]:
    return listening_addresses(descendants(proc.pid))


@pytest.mark.parametrize(("argv", "banner"), [
    (["-m", "emulator.kinesis", "--port", "0"], "KINESIS_URL=http://127.0.0.1:"),
    (["-m", "emulator.identity", "--port", "0"], "IDENTITY_URL=http://127.0.0.1:"),
    (["-m", "streamload.cli", "stack", "--kinesis-port", "0", "--redshift-data-port", "0"], "KINESIS_URL=http://127.0.0.1:"),
])
def test_server_listens_on_loopback_only_when_started_with_defaults(argv, banner):
    proc = _start(argv, banner)
    try:
        time.sleep(0.5)  # `stack` prints its first URL before the others are all up
        listening = _listening_tree(proc)
    finally:
        _stop(proc)
    assert listening, "no listening socket found"
    assert not_loopback(listening) == {}
    if "stack" in argv:  # Kinesis, Data API and identity in-process, PostgreSQL in a child
        assert len(listening) >= 2 and sum(len(a) for a in listening.values()) >= 4, listening


def test_data_api_listens_on_loopback_only_when_started_with_defaults(postgres):
    proc = _start(["-m", "emulator.redshift_data", "--pg-dsn", postgres.dsn, "--port", "0"],
                  "REDSHIFT_DATA_URL=http://127.0.0.1:")
    try:
        listening = _listening_tree(proc)
    finally:
        _stop(proc)
    assert listening and not_loopback(listening) == {}


def test_kinesis_listens_where_told_when_host_is_given():
    proc = _start(["-m", "emulator.kinesis", "--host", "127.0.0.2", "--port", "0"], "KINESIS_URL=http://127.0.0.2:")
    try:
        listening = _listening_tree(proc)
    finally:
        _stop(proc)
    assert {ip for addrs in listening.values() for ip, _ in addrs} == {"127.0.0.2"}
