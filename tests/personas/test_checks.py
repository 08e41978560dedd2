"""Persona checks, the record of them, and credential renewal, without a server."""
import json

import pytest

from streamload.core.personas import DEFAULT_PERSONAS
from loadtest import metrics
from loadtest.personas import (PersonaAuthError, PersonaCredentials, PersonaQueryRunner, PersonaRecorder,
                               PersonasConfig, PersonaSessions, check_result, read_persona_reports)
from streamload.core.config import RedshiftConfig, TargetConfig

ETHAN, FRANK = DEFAULT_PERSONAS[0], DEFAULT_PERSONAS[1]
COLS = ["region", "country", "amount"]


def test_check_counts_foreign_rows_by_region_when_persona_sees_other_regions():
    check = check_result(FRANK, COLS, [["AMER", "US", 1], ["EMEA", "DE", 2], ["APAC ", "JP", 3], [None, "X", 4]])
    assert (check.foreign_rows, check.foreign_regions) == (3, {"EMEA": 1, "APAC": 1, "NULL": 1})


def test_check_flags_foreign_column_when_regional_persona_gets_unit_price():
    check = check_result(FRANK, ["region", "unit_price"], [])
    assert check.foreign_columns == ["unit_price"] and check.violations == 1


def test_check_finds_nothing_when_exec_sees_every_region_and_column():
    assert check_result(ETHAN, ["region", "unit_price"], [["AMER", 1], ["EMEA", 2], ["APAC", 3]]).violations == 0


def test_check_reports_a_problem_when_result_has_no_region_column():
    check = check_result(FRANK, ["country"], [["US"]])
    assert check.problem and check.violations == 0


def test_reports_merge_across_processes_when_two_workers_saw_leaks(tmp_path):
    for i, region in enumerate(("EMEA", "APAC")):
        recorder = PersonaRecorder()
        recorder.query("frank", check_result(FRANK, COLS, [["AMER", "US", 1], [region, "X", 1]]), "SELECT 1")
        recorder.auth_error("alex", "AssumeRoleWithWebIdentity: ExpiredTokenException: Token expired")
        recorder.write(tmp_path / f"p{i}.json")
    merged = read_persona_reports(sorted(tmp_path.glob("p*.json")))
    assert merged["rls_violations"] == 2
    assert merged["personas"]["frank"]["foreign_regions"] == {"EMEA": 1, "APAC": 1}
    assert merged["personas"]["alex"]["auth_errors"] == ["AssumeRoleWithWebIdentity: ExpiredTokenException: Token expired"]


class FakeFlow:
    def __init__(self, lifetime_s=1000.0, error=None):
        self.calls, self.lifetime_s, self.error, self.now = 0, lifetime_s, error, 0.0

    def obtain(self, persona, cfg, region):
        self.calls += 1
        if self.error:
            raise self.error
        return PersonaCredentials(f"ASIA{self.calls}", "secret", "token", self.now + self.lifetime_s, "arn")


def _sessions(flow, errors=None, **cfg):
    config = PersonasConfig(renew_before_s=100, auth_retry_s=30, **cfg)
    return PersonaSessions(config, TargetConfig(redshift_data_endpoint_url="http://127.0.0.1:9"),
                           obtain=flow.obtain, clock=lambda: flow.now,
                           on_error=(errors.append if errors is not None else None))


def test_sessions_sign_in_once_per_persona_when_credentials_are_fresh():
    flow = FakeFlow()
    sessions = _sessions(flow)
    first = sessions.client(FRANK)
    assert sessions.client(FRANK) is first and flow.calls == 1


def test_sessions_renew_before_expiry_when_inside_renew_window():
    flow = FakeFlow(lifetime_s=1000)
    sessions = _sessions(flow)
    first = sessions.client(FRANK)
    flow.now = 850  # 150 s left > 100 s window: keep
    assert sessions.client(FRANK) is first
    flow.now = 901  # 99 s left: renew
    assert sessions.client(FRANK) is not first and sessions.renewals("frank") == 1


def test_sessions_report_sign_in_error_once_when_every_user_keeps_asking():
    errors = []
    flow = FakeFlow(error=PersonaAuthError("frank", "AssumeRoleWithWebIdentity", "InvalidIdentityToken", "forged"))
    sessions = _sessions(flow, errors)
    for _ in range(20):
        with pytest.raises(PersonaAuthError):
            sessions.client(FRANK)
    assert len(errors) == 1 and flow.calls == 1  # retried only after auth_retry_s
    flow.now = 31
    with pytest.raises(PersonaAuthError):
        sessions.client(FRANK)
    assert flow.calls == 2 and len(errors) == 1


class LeakyDataApi:
    """A Data API that returns what it is told, regardless of who asks."""

    def __init__(self, columns, rows):
        self.columns, self.rows = columns, rows

    def execute_statement(self, **kw):
        return {"Id": "s1"}

    def describe_statement(self, Id):
        return {"Id": Id, "Status": "FINISHED", "HasResultSet": True}

    def get_statement_result(self, Id, NextToken=None):
        return {"ColumnMetadata": [{"name": c} for c in self.columns],
                "Records": [[{"stringValue": v} for v in row] for row in self.rows]}


class StaticSessions:
    def __init__(self, client):
        self._client = client

    def client(self, persona):
        return self._client

    def renewals(self, persona):
        return 0


def _runner(data_api, fired):
    return PersonaQueryRunner(FRANK, PersonasConfig(), StaticSessions(data_api), RedshiftConfig(db_user="awsuser"),
                              PersonaRecorder(), fire=lambda **kw: fired.append(kw))


def test_query_fails_its_request_and_counts_metric_when_foreign_rows_come_back():
    fired = []
    before = metrics.RLS_VIOLATIONS.labels(persona="frank")._value.get()
    runner = _runner(LeakyDataApi(["region", "country"], [["AMER", "US"], ["EMEA", "DE"]]), fired)
    check = runner.query()
    statement = [e for e in fired if e["name"] == "statement persona frank"]
    assert check.foreign_rows == 1
    assert len(statement) == 1 and "EMEA" in str(statement[0]["exception"])
    assert metrics.RLS_VIOLATIONS.labels(persona="frank")._value.get() == before + 1
    assert runner.recorder.to_json()["personas"]["frank"]["first_violation"].startswith("1 foreign rows")


def test_query_succeeds_without_db_user_when_rows_are_the_personas_own():
    fired, sent = [], []
    api = LeakyDataApi(["region"], [["AMER"]])
    original = api.execute_statement
    api.execute_statement = lambda **kw: sent.append(kw) or original(**kw)
    _runner(api, fired).query()
    assert all(e["exception"] is None for e in fired) and "DbUser" not in sent[0]


def test_column_probe_is_a_violation_when_forbidden_column_is_returned():
    fired = []
    check = _runner(LeakyDataApi(["region", "unit_price"], [["AMER", "1.00"]]), fired).column_probe()
    assert check.foreign_columns == ["unit_price"] and fired[-1]["exception"] is not None


def test_persona_config_rejects_duplicate_names():
    with pytest.raises(ValueError, match="frank"):
        PersonasConfig(personas=[FRANK, FRANK])


def test_recorder_writes_json_the_merge_reads(tmp_path):
    recorder = PersonaRecorder()
    recorder.query("frank", check_result(FRANK, COLS, [["AMER", "US", 1]]))
    recorder.write(tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text())["personas"]["frank"]["rows_checked"] == 1
