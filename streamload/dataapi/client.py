"""``DataApiClient``: execute, poll and fetch through the Redshift Data API, reporting
every phase of a statement to Locust and to ``streamload_dataapi_phase_seconds{phase}``.

One boto3 client per process (created by ``make_boto3_client``), shared by all users of the
process; boto3 clients are thread- and greenlet-safe for calls. Phases reported through
``events.request.fire`` with ``request_type="DataAPI"``:

- ``submit <name>``: the ExecuteStatement round trip;
- ``queue <name>``: from the end of submit until the statement ran (STARTED);
- ``execution <name>``: the server's own ``Duration`` from DescribeStatement (no poll error);
- ``fetch <name>``: all GetStatementResult pages;
- ``statement <name>``: the whole round trip, what a user of the query waits for.

submit + queue + execution + fetch <= statement: the rest is the poll's detection delay
and client overhead.

Polling error, bounded and stated. DescribeStatement is polled with a sleep that grows
with the time already waited: ``clamp(POLL_RELATIVE x waited, poll_min_s, poll_max_s)``.
The statement finished after the server answered the last poll that still saw it running,
so its finish is noticed at most one sleep plus the two DescribeStatement round trips around
it late: wait and statement times are overstated by at most
``min(poll_max_s, 10 % of the wait) + 2 DescribeStatement RTTs``. Every statement measures
its own bound (from sending the last "still running" poll to receiving the "finished" one):
``StatementResult.poll_error_s``; the report gives its p50/p99/max. Queue time is taken as the
first poll that saw STARTED (or later), capped so that queue + execution never exceed the
client-observed wait; it shares the same bound.

A FAILED or ABORTED statement is a Locust failure carrying Redshift's ``Error`` text.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3
import orjson
from botocore.config import Config as BotoConfig

from streamload.dataapi import metrics
from streamload.core.config import RedshiftConfig, TargetConfig
from streamload.core.errors import StatementError

__all__ = [
    "POLL_RELATIVE",
    "PHASES",
    "StatementError",
    "StatementResult",
    "DataApiClient",
    "make_boto3_client",
    "field_value",
    "poll_rule",
]

FireFn = Callable[..., None]

# Sleep between polls as a fraction of the time already waited (see the module docstring).
POLL_RELATIVE = 0.1
PHASES = ("submit", "queue", "execution", "fetch")
_QUEUED = ("SUBMITTED", "PICKED")


@dataclass
class StatementResult:
    statement_id: str
    columns: list[str]
    rows: list[list[Any]]
    duration_ns: int = 0
    submitted_at: float = 0.0
    finished_at: float = 0.0
    # Phase -> seconds (submit, queue, execution, fetch, wait, statement).
    timings: dict[str, float] = field(default_factory=dict)
    # Size of the result pages' Records as JSON: what the statement moved to the client.
    result_bytes: int = 0
    # Upper bound on how late this statement's finish was noticed (seconds).
    poll_error_s: float = 0.0


def poll_rule(poll_min_s: float, poll_max_s: float) -> str:
    """The polling error bound as one sentence, for reports."""
    return (f"DescribeStatement is polled every clamp({POLL_RELATIVE:g} x time waited, {poll_min_s * 1000:g} ms, "
            f"{poll_max_s * 1000:g} ms), so wait and statement times are overstated by at most "
            f"min({poll_max_s * 1000:g} ms, {POLL_RELATIVE:.0%} of the wait) + two DescribeStatement round trips "
            "(measured per statement below); execution is the server's Duration")


def make_boto3_client(target: TargetConfig, max_pool_connections: int = 50):
    """The process's one ``redshift-data`` client, with explicit retries and pool size."""
    config = BotoConfig(
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=max_pool_connections,
        connect_timeout=5,
        read_timeout=60,
    )
    session = boto3.session.Session(profile_name=target.profile) if target.profile else boto3.session.Session()
    return session.client("redshift-data", config=config, **target.client_kwargs("redshift-data"))


def field_value(cell: dict[str, Any]) -> Any:
    """A Data API ``Field`` union to a Python value."""
    if cell.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue", "blobValue"):
        if key in cell:
            return cell[key]
    return None


def _no_fire(**_: Any) -> None:
    return None


@dataclass
class _Wait:
    """What polling learnt: the final description and when things were seen."""

    desc: dict[str, Any]
    started_seen_s: float | None  # since submit end: first poll that saw STARTED or later
    waited_s: float  # since submit end: the poll that saw the final state returned
    error_bound_s: float  # the final state arose after this much before waited_s
    ran: bool = False  # a poll saw STARTED, or the server reports a Duration


class DataApiClient:
    def __init__(
        self,
        boto_client,
        redshift: RedshiftConfig,
        fire: FireFn | None = None,
        poll_min_s: float = 0.002,
        poll_max_s: float = 0.05,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._client = boto_client
        self._target = redshift.target_kwargs()
        self._fire = fire or _no_fire
        self.poll_min_s = min(poll_min_s, poll_max_s)
        self.poll_max_s = poll_max_s
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._clock = clock

    def _report(self, phase: str, name: str, seconds: float, length: int = 0, exc: Exception | None = None) -> None:
        self._fire(
            request_type="DataAPI",
            name=f"{phase} {name}",
            response_time=seconds * 1000.0,
            response_length=length,
            exception=exc,
            context={},
        )
        if exc is None and phase in PHASES:
            metrics.DATAAPI_PHASE_SECONDS.labels(phase=phase).observe(seconds)

    def execute(self, sql: str, name: str, fetch: bool = True) -> StatementResult:
        """Run one statement to completion; raise ``StatementError`` if it did not finish."""
        t0 = self._clock()
        submitted_at = time.time()
        try:
            resp = self._client.execute_statement(Sql=sql, **self._target)
        except Exception as exc:
            self._report("submit", name, self._clock() - t0, exc=exc)
            self._report("statement", name, self._clock() - t0, exc=exc)
            raise
        statement_id = resp["Id"]
        t_submitted = self._clock()
        self._report("submit", name, t_submitted - t0)
        try:
            wait = self._wait(statement_id, t_submitted)
        except _WaitFailed as failed:
            phase = "execution" if failed.wait.ran else "queue"
            self._report(phase, name, failed.wait.waited_s, exc=failed.error)
            self._report("statement", name, self._clock() - t0, exc=failed.error)
            raise failed.error from None
        except Exception as exc:  # transport errors while polling
            self._report("queue", name, self._clock() - t_submitted, exc=exc)
            self._report("statement", name, self._clock() - t0, exc=exc)
            raise
        result = StatementResult(
            statement_id=statement_id,
            columns=[],
            rows=[],
            duration_ns=int(wait.desc.get("Duration", 0) or 0),
            submitted_at=submitted_at,
            finished_at=time.time(),
            poll_error_s=wait.error_bound_s,
        )
        queue_s, execution_s = _split_wait(wait, result.duration_ns)
        result.timings.update(submit=t_submitted - t0, queue=queue_s, execution=execution_s, wait=wait.waited_s)
        self._report("queue", name, queue_s)
        self._report("execution", name, execution_s)
        if fetch and wait.desc.get("HasResultSet"):
            t_fetch = self._clock()
            try:
                self._fetch(statement_id, result)
            except Exception as exc:
                self._report("fetch", name, self._clock() - t_fetch, exc=exc)
                self._report("statement", name, self._clock() - t0, exc=exc)
                raise
            result.timings["fetch"] = self._clock() - t_fetch
            self._report("fetch", name, result.timings["fetch"], length=len(result.rows))
        result.timings["statement"] = self._clock() - t0
        self._report("statement", name, result.timings["statement"], length=len(result.rows))
        return result

    def _next_sleep(self, waited_s: float) -> float:
        return min(max(waited_s * POLL_RELATIVE, self.poll_min_s), self.poll_max_s)

    def _wait(self, statement_id: str, t_submitted: float) -> _Wait:
        deadline = t_submitted + self.timeout_s
        started_seen: float | None = None
        ran = False
        last_running_sent = t_submitted  # the statement was still running after this moment
        while True:
            sent = self._clock()
            desc = self._client.describe_statement(Id=statement_id)
            now = self._clock()
            status = desc["Status"]
            if started_seen is None and status not in _QUEUED:
                started_seen = now - t_submitted
            ran = ran or status == "STARTED" or int(desc.get("Duration", 0) or 0) > 0
            wait = _Wait(desc, started_seen, now - t_submitted, now - last_running_sent, ran)
            if status == "FINISHED":
                return wait
            if status in ("FAILED", "ABORTED"):
                raise _WaitFailed(wait, StatementError(f"statement {status}: {desc.get('Error', 'no error text')}"))
            if now >= deadline:
                raise _WaitFailed(wait, StatementError(
                    f"statement {statement_id} still {status} after {self.timeout_s:.0f}s"))
            last_running_sent = sent
            self._sleep(self._next_sleep(now - t_submitted))

    def _fetch(self, statement_id: str, result: StatementResult) -> None:
        kwargs: dict[str, Any] = {"Id": statement_id}
        while True:
            page = self._client.get_statement_result(**kwargs)
            if not result.columns:
                result.columns = [c.get("label") or c.get("name", "") for c in page.get("ColumnMetadata", [])]
            records = page.get("Records", [])
            result.result_bytes += len(orjson.dumps(records, default=_blob_text))
            result.rows.extend([field_value(c) for c in rec] for rec in records)
            token = page.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token


def _blob_text(value: Any) -> str:
    """blobValue arrives as bytes; it travelled base64-encoded (4 characters per 3 bytes)."""
    if isinstance(value, (bytes, bytearray)):
        return "x" * (4 * ((len(value) + 2) // 3))
    return str(value)


class _WaitFailed(Exception):
    def __init__(self, wait: _Wait, error: StatementError) -> None:
        super().__init__(str(error))
        self.wait, self.error = wait, error


def _split_wait(wait: _Wait, duration_ns: int) -> tuple[float, float]:
    """(queue, execution) seconds inside the client-observed wait, never summing above it.

    Execution is the server's Duration (-1 or missing: unknown, then everything after the
    first STARTED sighting). Queue is the first STARTED sighting, capped by wait - execution.
    """
    waited = wait.waited_s
    if duration_ns > 0:
        execution = min(duration_ns / 1e9, waited)
        seen = wait.started_seen_s if wait.started_seen_s is not None else waited
        return min(seen, waited - execution), execution
    seen = wait.started_seen_s if wait.started_seen_s is not None else waited
    return seen, waited - seen
