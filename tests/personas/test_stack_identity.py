"""The local stack serves the identity flow: `streamload stack` prints the identity URL, and
a persona signs in through the stack's STS/SSO-OIDC and sees only its rows in its Data API."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

from streamload.core.personas import Persona, default_personas
from emulator.stack import LocalStack
from streamload.dataapi.client import DataApiClient, make_boto3_client
from loadtest.personas import PersonaQueryRunner, PersonaRecorder, PersonaSessions
from streamload.sales_setup import prepare_sales, sales_rows
from streamload.core.config import load_config

ROOT = Path(__file__).resolve().parents[2]
OLGA = Persona(name="olga", email="olga@example.com", groups=("emea-sales",), allowed_regions=("EMEA",))


def _read_banner(proc: subprocess.Popen, key: str, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(key + "="):
            return line.split("=", 1)[1].split()[0]
    raise AssertionError(f"{key} not printed; stderr: {proc.stderr.read()[-1000:] if proc.poll() is not None else ''}")


def test_stack_command_prints_identity_url_whose_issuer_is_that_url():
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamload.cli", "stack", "--kinesis-port", "0", "--redshift-data-port", "0",
         "--identity-port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = _read_banner(proc, "IDENTITY_URL")
        with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=5) as resp:
            discovery = json.loads(resp.read())
        assert discovery["issuer"] == url and discovery["jwks_uri"] == f"{url}/jwks"
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
    assert rc == 0


def test_extra_persona_sees_only_its_region_when_signing_in_through_the_stack():
    cfg = load_config(None, {"personas": {"enabled": True, "seed_rows": 90, "auth_retry_s": 60},
                             "redshift": {"database": "dev"}}, environ={})
    cfg.personas.extra = [OLGA]
    with LocalStack(personas=cfg.personas.all_personas) as stack:
        stack.point_config_at_stack(cfg)
        assert cfg.personas.issuer_token_url == f"{stack.identity_url}/oidc/token"
        admin = DataApiClient(make_boto3_client(cfg.target), cfg.redshift)
        per_region = Counter(row["region"] for row in sales_rows(90, cfg.personas.seed))
        assert prepare_sales(admin, cfg.personas) == per_region and min(per_region.values()) > 0
        assert prepare_sales(admin, cfg.personas) == {}  # a second run loads nothing twice
        sessions, recorder = PersonaSessions(cfg.personas, cfg.target), PersonaRecorder()
        runners = {p.name: PersonaQueryRunner(p, cfg.personas, sessions, cfg.redshift, recorder)
                   for p in (OLGA, default_personas()[0])}
        assert all(runner.query() is not None for runner in runners.values())
        assert runners["olga"].column_probe() is not None  # unit_price: denied, as it must be
    report = recorder.to_json()
    olga, ethan = report["personas"]["olga"], report["personas"]["ethan"]
    assert report["rls_violations"] == 0
    assert (olga["rows_checked"], ethan["rows_checked"]) == (per_region["EMEA"], 90)
    assert olga["column_denials"] == olga["column_probes"] == 1
    assert not olga["auth_errors"] and not ethan["auth_errors"]
