"""``DataApiClient``: execute, poll and fetch through the Redshift Data API, reporting
every phase to Locust.

One boto3 client per process (created by ``make_boto3_client``), shared by all users of the
process; boto3 clients are thread- and greenlet-safe for calls. Phases reported through
``events.request.fire`` with ``request_type="DataAPI"``:

- ``submit <name>``: the ExecuteStatement call;
- ``wait <name>``: from the end of submit until DescribeStatement first says FINISHED
  (the poll interval bounds the error: at most one interval, ``poll_max_s``);
- ``fetch <name>``: all GetStatementResult pages;
- ``statement <name>``: the whole round trip, what a user of the query waits for.

A FAILED or ABORTED statement is a Locust failure carrying Redshift's error text.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3
from botocore.config import Config as BotoConfig

from streamload.config import RedshiftConfig, TargetConfig

__all__ = ["StatementError", "StatementResult", "DataApiClient", "make_boto3_client", "field_value"]

FireFn = Callable[..., None]


class StatementError(Exception):
    """A statement ended FAILED or ABORTED, or did not finish in time."""


@dataclass
class StatementResult:
    statement_id: str
    columns: list[str]
    rows: list[list[Any]]
    duration_ns: int = 0
    submitted_at: float = 0.0
    finished_at: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


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


class DataApiClient:
    def __init__(
        self,
        boto_client,
        redshift: RedshiftConfig,
        fire: FireFn | None = None,
        poll_min_s: float = 0.005,
        poll_max_s: float = 0.05,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = boto_client
        self._target = redshift.target_kwargs()
        self._fire = fire or _no_fire
        self.poll_min_s = poll_min_s
        self.poll_max_s = poll_max_s
        self.timeout_s = timeout_s
        self._sleep = sleep

    def _report(self, phase: str, name: str, started: float, length: int = 0, exc: Exception | None = None) -> None:
        self._fire(
            request_type="DataAPI",
            name=f"{phase} {name}",
            response_time=(time.perf_counter() - started) * 1000.0,
            response_length=length,
            exception=exc,
            context={},
        )

    def execute(self, sql: str, name: str, fetch: bool = True) -> StatementResult:
        """Run one statement to completion; raise ``StatementError`` if it did not finish."""
        t0 = time.perf_counter()
        submitted_at = time.time()
        try:
            resp = self._client.execute_statement(Sql=sql, **self._target)
        except Exception as exc:
            self._report("submit", name, t0, exc=exc)
            self._report("statement", name, t0, exc=exc)
            raise
        statement_id = resp["Id"]
        self._report("submit", name, t0)
        t_wait = time.perf_counter()
        try:
            desc = self._wait(statement_id)
        except Exception as exc:
            self._report("wait", name, t_wait, exc=exc)
            self._report("statement", name, t0, exc=exc)
            raise
        self._report("wait", name, t_wait)
        finished_at = time.time()
        result = StatementResult(
            statement_id=statement_id,
            columns=[],
            rows=[],
            duration_ns=int(desc.get("Duration", 0) or 0),
            submitted_at=submitted_at,
            finished_at=finished_at,
        )
        if fetch and desc.get("HasResultSet"):
            t_fetch = time.perf_counter()
            try:
                self._fetch(statement_id, result)
            except Exception as exc:
                self._report("fetch", name, t_fetch, exc=exc)
                self._report("statement", name, t0, exc=exc)
                raise
            self._report("fetch", name, t_fetch, length=len(result.rows))
        self._report("statement", name, t0, length=len(result.rows))
        result.timings["statement_s"] = time.perf_counter() - t0
        return result

    def _wait(self, statement_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        interval = self.poll_min_s
        while True:
            desc = self._client.describe_statement(Id=statement_id)
            status = desc["Status"]
            if status == "FINISHED":
                return desc
            if status in ("FAILED", "ABORTED"):
                raise StatementError(f"statement {status}: {desc.get('Error', 'no error text')}")
            if time.monotonic() >= deadline:
                raise StatementError(f"statement {statement_id} still {status} after {self.timeout_s:.0f}s")
            self._sleep(interval)
            interval = min(interval * 1.5, self.poll_max_s)

    def _fetch(self, statement_id: str, result: StatementResult) -> None:
        kwargs: dict[str, Any] = {"Id": statement_id}
        while True:
            page = self._client.get_statement_result(**kwargs)
            if not result.columns:
                result.columns = [c.get("label") or c.get("name", "") for c in page.get("ColumnMetadata", [])]
            result.rows.extend([field_value(c) for c in rec] for rec in page.get("Records", []))
            token = page.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token
