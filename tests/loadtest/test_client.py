"""DataApiClient against a scripted redshift-data client on a simulated clock: phases,
their sum, the polling bound, failures, paging."""
import pytest
from prometheus_client import REGISTRY

from streamload.dataapi.client import POLL_RELATIVE, DataApiClient, StatementError, field_value
from streamload.core.config import RedshiftConfig

RTT = 0.003  # every simulated API call takes this long


class SimClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedDataApi:
    """Answers like the Data API on a simulated clock: the statement is queued until
    ``starts_at``, runs until ``ends_at`` (seconds after submit), then ends ``final``."""

    def __init__(self, clock, starts_at=0.02, ends_at=0.2, final="FINISHED", pages=None, error=None, duration_ns=None):
        self.clock, self.starts_at, self.ends_at = clock, starts_at, ends_at
        self.final, self.pages, self.error = final, pages or [], error
        self.duration_ns = int((ends_at - starts_at) * 1e9) if duration_ns is None else duration_ns
        self.calls = []
        self.submitted = None

    def _call(self):
        self.clock.now += RTT / 2  # request reaches the server
        at = self.clock.now - self.submitted if self.submitted is not None else 0.0
        self.clock.now += RTT / 2
        return at

    def execute_statement(self, **kw):
        self.calls.append(("execute", kw))
        self.clock.now += RTT
        self.submitted = self.clock.now
        return {"Id": "stmt-1"}

    def describe_statement(self, Id):
        at = self._call()
        self.calls.append(("describe", round(at, 4)))
        status = self.final if at >= self.ends_at else "SUBMITTED" if at < self.starts_at else "STARTED"
        desc = {"Id": Id, "Status": status, "HasResultSet": bool(self.pages)}
        if status == self.final:
            desc["Duration"] = self.duration_ns
            if self.error:
                desc["Error"] = self.error
        return desc

    def get_statement_result(self, Id, NextToken=None):
        self._call()
        self.calls.append(("fetch", NextToken))
        index = int(NextToken or 0)
        page = dict(self.pages[index])
        if index + 1 < len(self.pages):
            page["NextToken"] = str(index + 1)
        return page


def _client(api, clock, fire=None, **kw):
    return DataApiClient(api, RedshiftConfig(workgroup_name="wg"), fire=fire, sleep=clock.sleep, clock=clock, **kw)


def _events():
    fired = []
    return fired, lambda **kw: fired.append(kw)


PAGES = [
    {"ColumnMetadata": [{"name": "first"}], "Records": [[{"stringValue": '"Ana"'}]]},
    {"Records": [[{"isNull": True}]]},
]


def test_execute_reports_each_phase_then_total_when_statement_finishes():
    clock = SimClock()
    api = ScriptedDataApi(clock, pages=PAGES)
    fired, fire = _events()

    result = _client(api, clock, fire).execute("SELECT 1", "q")

    assert [e["name"] for e in fired] == ["submit q", "queue q", "execution q", "fetch q", "statement q"]
    assert all(e["exception"] is None for e in fired)
    assert result.columns == ["first"]
    assert result.rows == [['"Ana"'], [None]]
    assert api.calls[0] == ("execute", {"Sql": "SELECT 1", "Database": "dev", "WorkgroupName": "wg"})


def test_phases_sum_to_at_most_the_total_and_execution_is_the_server_duration():
    clock = SimClock()
    api = ScriptedDataApi(clock, starts_at=0.05, ends_at=0.4, pages=PAGES)
    fired, fire = _events()

    result = _client(api, clock, fire).execute("SELECT 1", "q")

    ms = {e["name"].split()[0]: e["response_time"] for e in fired}
    phases = ms["submit"] + ms["queue"] + ms["execution"] + ms["fetch"]
    assert phases <= ms["statement"]
    assert ms["execution"] == pytest.approx(350.0)  # Duration, not the poll-observed time
    # What is left over is the poll's lateness, never more than the bound the poll measured.
    assert ms["statement"] - phases <= result.poll_error_s * 1000 + 1e-6
    # Queue started being seen no earlier than the statement really started.
    assert result.timings["queue"] >= 0.05


def test_polling_error_stays_within_stated_bound_when_statement_runs_long():
    clock = SimClock()
    api = ScriptedDataApi(clock, starts_at=0.0, ends_at=3.0)
    client = _client(api, clock, poll_max_s=0.05)

    result = client.execute("SELECT pg_sleep(3)", "long")

    assert max(clock.sleeps) <= 0.05
    assert result.poll_error_s <= 0.05 + 2 * RTT
    # The observed wait overstates the true 3 s by no more than the measured bound.
    assert 3.0 <= result.timings["wait"] <= 3.0 + result.poll_error_s
    # Early polls are quick: the sleep grows with the time waited.
    assert clock.sleeps[0] < 0.01
    waited = 0.0
    for s in clock.sleeps:
        assert s <= max(client.poll_min_s, POLL_RELATIVE * (waited + 1.0))
        waited += s + RTT


def test_phase_histogram_is_observed_for_every_phase_when_statement_finishes():
    def count(phase):
        return REGISTRY.get_sample_value("streamload_dataapi_phase_seconds_count", {"phase": phase}) or 0.0

    before = {p: count(p) for p in ("submit", "queue", "execution", "fetch")}
    clock = SimClock()
    _client(ScriptedDataApi(clock, pages=PAGES), clock).execute("SELECT 1", "q")
    assert all(count(p) == before[p] + 1 for p in before)


def test_execute_raises_and_fails_execution_with_redshift_error_when_statement_fails():
    clock = SimClock()
    api = ScriptedDataApi(clock, final="FAILED", error='relation "nope" does not exist')
    fired, fire = _events()

    with pytest.raises(StatementError, match='relation "nope" does not exist'):
        _client(api, clock, fire).execute("SELECT * FROM nope", "bad")

    failures = {e["name"]: str(e["exception"]) for e in fired if e["exception"] is not None}
    assert set(failures) == {"execution bad", "statement bad"}
    assert all('relation "nope" does not exist' in text for text in failures.values())


def test_execute_fails_queue_phase_when_statement_is_aborted_before_starting():
    clock = SimClock()
    api = ScriptedDataApi(clock, starts_at=10.0, ends_at=0.05, final="ABORTED", duration_ns=0)  # while queued
    fired, fire = _events()
    with pytest.raises(StatementError, match="ABORTED"):
        _client(api, clock, fire).execute("SELECT 1", "gone")
    assert {e["name"] for e in fired if e["exception"]} == {"queue gone", "statement gone"}


def test_execute_gives_up_when_statement_never_finishes():
    clock = SimClock()
    api = ScriptedDataApi(clock, starts_at=0.0, ends_at=1e9)
    with pytest.raises(StatementError, match="still STARTED"):
        _client(api, clock, timeout_s=0.5).execute("SELECT pg_sleep(100)", "slow")


def test_field_value_decodes_every_field_kind():
    assert field_value({"longValue": 3}) == 3
    assert field_value({"doubleValue": 1.5}) == 1.5
    assert field_value({"booleanValue": False}) is False
    assert field_value({"stringValue": "x"}) == "x"
    assert field_value({"isNull": True}) is None
