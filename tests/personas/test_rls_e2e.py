"""The four personas under concurrent load against the whole local identity + Data API
stack, and the deliberate leak: a mis-attached policy must show up as violations."""
from __future__ import annotations

import importlib.util
import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from emulator.identity import IdentityRegistry
from emulator.identity.server import IDENTITY_BACKEND, create_app as create_identity_app
from emulator.identity.settings import IdentitySettings
from emulator.redshift_data import RedshiftDataSettings, create_app as create_data_api_app
from emulator.runtime import BackgroundServer
from loadtest import metrics
from streamload.dataapi.client import DataApiClient, make_boto3_client
from loadtest.personas import (PersonaQueryRunner, PersonaRecorder, PersonasConfig, PersonaSessions,
                               read_persona_reports)
from streamload.core.config import RedshiftConfig, TargetConfig
from streamload.core.thresholds import evaluate

pytestmark = pytest.mark.slow

class _Stack(tuple):
    """(target, personas config), plus the identity backend for minting bad tokens."""

    def __new__(cls, target, cfg, backend):
        stack = super().__new__(cls, (target, cfg))
        stack.backend = backend
        return stack


ROOT = Path(__file__).resolve().parents[2]
ROWS = 300
QUERIES_PER_USER = 8
USERS_PER_PERSONA = 3


def _seed_module():
    spec = importlib.util.spec_from_file_location("sales_seed", ROOT / "scripts" / "sales" / "seed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seed = _seed_module()
# The seed rows per region: what each regional persona must get back, no more, no fewer.
PER_REGION = Counter(row["region"] for row in seed.sales_rows(ROWS))


@pytest.fixture(scope="module")
def stack(postgres):
    registry = IdentityRegistry()
    data_settings = RedshiftDataSettings(pg_dsn=postgres.dsn, auto_refresh_interval_s=0, identity_registry=registry)
    with BackgroundServer(lambda: create_data_api_app(data_settings)) as data_api, \
            BackgroundServer(lambda: create_identity_app(IdentitySettings(), registry)) as identity:
        target = TargetConfig(redshift_data_endpoint_url=data_api.url, access_key_id="streamload-local",
                              secret_access_key="streamload-local")
        cfg = PersonasConfig(enabled=True, sts_endpoint_url=identity.url, sso_oidc_endpoint_url=identity.url,
                             issuer_token_url=f"{identity.url}/oidc/token", auth_retry_s=60)
        yield _Stack(target, cfg, identity.app[IDENTITY_BACKEND])


def _database(postgres, target: TargetConfig, setup_sql: str) -> RedshiftConfig:
    name = postgres.create_database(f"sales_{uuid.uuid4().hex[:8]}").rsplit("/", 1)[1]
    redshift = RedshiftConfig(database=name, workgroup_name="local")
    admin = DataApiClient(make_boto3_client(target), redshift)
    seed.apply_setup(admin, setup_sql)
    assert seed.load_sales(admin, ROWS) == PER_REGION and min(PER_REGION.values()) > 0
    return redshift


def _load(target, cfg, redshift, fired: list) -> dict:
    """Every persona, USERS_PER_PERSONA threads each, queries and column probes at once."""
    sessions = PersonaSessions(cfg, target)
    recorder = PersonaRecorder()
    runners = [PersonaQueryRunner(p, cfg, sessions, redshift, recorder, fire=lambda **kw: fired.append(kw))
               for p in cfg.personas for _ in range(USERS_PER_PERSONA)]

    def drive(runner: PersonaQueryRunner) -> None:
        for i in range(QUERIES_PER_USER):
            runner.column_probe() if i % 4 == 3 else runner.query()

    with ThreadPoolExecutor(max_workers=len(runners)) as pool:
        list(pool.map(drive, runners, timeout=120))
    return recorder.to_json()


def test_personas_see_only_their_regions_and_columns_when_querying_concurrently(stack, postgres, tmp_path):
    target, cfg = stack
    redshift = _database(postgres, target, seed.SETUP_SQL.read_text())
    fired: list = []
    report = _load(target, cfg, redshift, fired)
    personas = report["personas"]
    assert report["rls_violations"] == 0
    queries = USERS_PER_PERSONA * (QUERIES_PER_USER - QUERIES_PER_USER // 4)
    assert personas["ethan"]["rows_checked"] == queries * ROWS
    for name, region in (("frank", "AMER"), ("alex", "EMEA"), ("ming", "APAC")):
        assert personas[name]["rows_checked"] == queries * PER_REGION[region], name
        assert personas[name]["column_denials"] == personas[name]["column_probes"] > 0, name
    assert all(p["failed_queries"] == 0 and not p["auth_errors"] for p in personas.values())
    assert not [e for e in fired if e["exception"] is not None]


def test_run_reports_leakage_when_a_policy_is_misattached(stack, postgres, tmp_path):
    target, cfg = stack
    wrong = seed.SETUP_SQL.read_text().replace(
        'ATTACH RLS POLICY sales_amer ON sales TO ROLE "AWSIDC:amer-sales"',
        'ATTACH RLS POLICY sales_all_regions ON sales TO ROLE "AWSIDC:amer-sales"')
    assert wrong != seed.SETUP_SQL.read_text()
    redshift = _database(postgres, target, wrong)
    before = metrics.RLS_VIOLATIONS.labels(persona="frank")._value.get()
    fired: list = []
    recorder_json = _load(target, cfg, redshift, fired)
    (tmp_path / "personas-1.json").write_text(json.dumps(recorder_json))
    merged = read_persona_reports([tmp_path / "personas-1.json"])

    frank = merged["personas"]["frank"]
    assert frank["violations"] > 0 and set(frank["foreign_regions"]) == {"EMEA", "APAC"}
    assert all(merged["personas"][n]["violations"] == 0 for n in ("ethan", "alex", "ming"))
    assert metrics.RLS_VIOLATIONS.labels(persona="frank")._value.get() - before == merged["rls_violations"]
    failed = [e for e in fired if e["exception"] is not None]
    assert failed and {e["name"] for e in failed} == {"statement persona frank"}
    verdict = evaluate({"rls_violations": merged["rls_violations"]}, ["rls_violations == 0"])
    assert not verdict[0].ok


@pytest.mark.parametrize("make_token, code", [
    (lambda backend: backend.issue_id_token("alex", ttl_s=-300), "ExpiredTokenException"),
    (lambda backend: backend.issue_id_token("alex").rsplit(".", 1)[0] + ".AAAA", "InvalidIdentityToken"),
])
def test_sign_in_error_is_reported_once_per_persona_when_token_is_bad(stack, postgres, tmp_path, make_token, code):
    target, cfg = stack
    redshift = _database(postgres, target, seed.SETUP_SQL.read_text())
    token_file = tmp_path / "alex.jwt"
    token_file.write_text(make_token(stack.backend))
    bad_cfg = cfg.model_copy(update={"token_files": {"alex": token_file}})
    errors: list = []
    sessions = PersonaSessions(bad_cfg, target, on_error=errors.append)
    recorder = PersonaRecorder()
    runner = PersonaQueryRunner(bad_cfg.persona("alex"), bad_cfg, sessions, redshift, recorder)
    for _ in range(10):
        assert runner.query() is None
    assert [e.code for e in errors] == [code]
    assert recorder.to_json()["personas"]["alex"]["auth_errors"] == [
        f"AssumeRoleWithWebIdentity: {code}: {errors[0].message}"]
