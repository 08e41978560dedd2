"""DataApiClient against a scripted redshift-data client: phases, failures, paging."""
import pytest

from loadtest.client import DataApiClient, StatementError, field_value
from streamload.config import RedshiftConfig


class ScriptedDataApi:
    """Answers like the Data API: statuses in order, then result pages."""

    def __init__(self, statuses, pages=None, error=None):
        self.statuses = list(statuses)
        self.pages = pages or []
        self.error = error
        self.calls = []

    def execute_statement(self, **kw):
        self.calls.append(("execute", kw))
        return {"Id": "stmt-1"}

    def describe_statement(self, Id):
        self.calls.append(("describe", Id))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        desc = {"Id": Id, "Status": status, "HasResultSet": bool(self.pages), "Duration": 1500}
        if self.error:
            desc["Error"] = self.error
        return desc

    def get_statement_result(self, Id, NextToken=None):
        self.calls.append(("fetch", NextToken))
        index = int(NextToken or 0)
        page = dict(self.pages[index])
        if index + 1 < len(self.pages):
            page["NextToken"] = str(index + 1)
        return page


def _events():
    fired = []
    return fired, lambda **kw: fired.append(kw)


def test_execute_reports_submit_wait_fetch_and_total_when_statement_finishes():
    pages = [
        {"ColumnMetadata": [{"name": "first"}], "Records": [[{"stringValue": '"Ana"'}]]},
        {"Records": [[{"isNull": True}]]},
    ]
    api = ScriptedDataApi(["SUBMITTED", "STARTED", "FINISHED"], pages)
    fired, fire = _events()
    client = DataApiClient(api, RedshiftConfig(workgroup_name="wg"), fire=fire, sleep=lambda s: None)

    result = client.execute("SELECT 1", "q")

    assert [e["name"] for e in fired] == ["submit q", "wait q", "fetch q", "statement q"]
    assert all(e["exception"] is None for e in fired)
    assert result.columns == ["first"]
    assert result.rows == [['"Ana"'], [None]]
    assert api.calls[0] == ("execute", {"Sql": "SELECT 1", "Database": "dev", "WorkgroupName": "wg"})


def test_execute_raises_with_redshift_error_when_statement_fails():
    api = ScriptedDataApi(["STARTED", "FAILED"], error='relation "nope" does not exist')
    fired, fire = _events()
    client = DataApiClient(api, RedshiftConfig(cluster_identifier="c1"), fire=fire, sleep=lambda s: None)

    with pytest.raises(StatementError, match='relation "nope" does not exist'):
        client.execute("SELECT * FROM nope", "bad")

    failures = [e for e in fired if e["exception"] is not None]
    assert {e["name"] for e in failures} == {"wait bad", "statement bad"}


def test_execute_gives_up_when_statement_never_finishes():
    api = ScriptedDataApi(["STARTED"])
    client = DataApiClient(api, RedshiftConfig(), timeout_s=0.05, sleep=lambda s: None)
    with pytest.raises(StatementError, match="still STARTED"):
        client.execute("SELECT pg_sleep(100)", "slow")


def test_field_value_decodes_every_field_kind():
    assert field_value({"longValue": 3}) == 3
    assert field_value({"doubleValue": 1.5}) == 1.5
    assert field_value({"booleanValue": False}) is False
    assert field_value({"stringValue": "x"}) == "x"
    assert field_value({"isNull": True}) is None
