"""The report's ``faults`` section: what went wrong during a run, and how the run coped.

``injected`` is what the local Kinesis says it did (its fault admin endpoint counts
injected failures, dropped connections, delayed requests and throttled calls per server
instance). ``FaultObserver`` polls that endpoint once a second while the run lasts, so
counts add up across a server restart (a new ``instance_id``) and the restarts and
unreachable polls are counted too. Against AWS, or any endpoint without the admin path,
``injected`` is null.

``observed`` is what the run's own parts saw, on any target: the producer's throttled
records, retries, expired and rejected records (its summary); statement failures per
kind and connection errors (Locust's failures CSV); refreshes that failed
(SYS_MV_REFRESH_HISTORY).
"""
from __future__ import annotations

import csv
import ipaddress
import json
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from streamload.core.producer_summary import read_summary, summary_path_for
from streamload.dataapi.client import DataApiClient, StatementError
from streamload.loss_reasons import sys_rows, utc_literal

__all__ = ["FaultObserver", "fault_section", "statement_failures"]

ADMIN_PATH = "/_streamload/faults"
POLL_TIMEOUT_S = 2.0
CONNECTION_ERRORS = ("EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError",
                     "ReadTimeoutError", "ConnectionError", "ProtocolError", "RemoteDisconnected")


def _loopback_admin_url(endpoint: str | None) -> str | None:
    """The admin URL of a loopback Kinesis endpoint; None for AWS or remote hosts."""
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    try:
        if not ipaddress.ip_address(parts.hostname or "").is_loopback:
            return None
    except ValueError:
        if parts.hostname != "localhost":
            return None
    return f"{parts.scheme}://{parts.netloc}{ADMIN_PATH}"


class FaultObserver:
    """Polls the local Kinesis fault counters during a run, in a daemon thread."""

    def __init__(self, kinesis_endpoint: str | None, interval_s: float = 1.0) -> None:
        self.url = _loopback_admin_url(kinesis_endpoint)
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._baseline: dict[str, dict[str, Counter]] = {}  # instance -> first counts seen
        self._latest: dict[str, dict[str, Counter]] = {}  # instance -> last counts seen
        self._order: list[str] = []
        self.unreachable_polls = 0
        self.polls = 0

    def start(self) -> "FaultObserver":
        if self.url is not None:
            self.poll()  # the baseline: counts from before the run are not this run's
            self._thread = threading.Thread(target=self._run, name="fault-observer", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=POLL_TIMEOUT_S + self.interval_s + 1)
            self._thread = None
        if self.url is not None:
            self.poll()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll()

    def poll(self) -> None:
        self.polls += 1
        try:
            with urllib.request.urlopen(self.url, timeout=POLL_TIMEOUT_S) as response:
                body = json.loads(response.read())
        except (OSError, ValueError):  # down (restarting), or not our server
            self.unreachable_polls += 1
            return
        instance = body.get("instance_id")
        if not isinstance(instance, str):
            self.unreachable_polls += 1
            return
        counts = {key: Counter(body.get(key) or {}) for key in ("injected", "throttled")}
        if instance not in self._latest:
            # The first instance's counts before the run are excluded; a restarted
            # server starts from zero, so everything it counted belongs to the run.
            self._baseline[instance] = counts if not self._order else {k: Counter() for k in counts}
            self._order.append(instance)
        self._latest[instance] = counts

    def summary(self) -> dict | None:
        if not self._order:
            return None
        totals: dict[str, Counter] = {"injected": Counter(), "throttled": Counter()}
        for instance in self._order:
            for key, total in totals.items():
                total.update(self._latest[instance][key])
                total.subtract(self._baseline[instance][key])
        positive = {key: {k: v for k, v in sorted(total.items()) if v > 0} for key, total in totals.items()}
        return {
            "kinesis": positive["injected"],
            "kinesis_throttled": positive["throttled"],
            "kinesis_restarts": len(self._order) - 1,
            "kinesis_unreachable_polls": self.unreachable_polls,
            "polls": self.polls,
        }


def _error_kind(text: str) -> tuple[str, bool]:
    """(a short kind for grouping, whether it is a connection-level error)."""
    match = re.match(r"^(\w+)\((.*)\)$", text.strip(), re.S)
    cls, detail = (match.group(1), match.group(2).strip("'\" ")) if match else ("Error", text.strip())
    detail = re.sub(r"^statement (FAILED|ABORTED): ", r"\1: ", detail)
    detail = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27,}", "<id>", detail)
    detail = re.sub(r"\d+", "N", detail)
    connection = cls in CONNECTION_ERRORS or "connect" in detail.lower()
    return f"{cls}: {detail[:100]}", connection


def statement_failures(csv_prefix: Path) -> tuple[Counter, int]:
    """(failures per kind of the whole statements, connection-level failures) from Locust."""
    path = Path(f"{csv_prefix}_failures.csv")
    kinds: Counter = Counter()
    connection = 0
    if not path.exists():
        return kinds, connection
    with path.open() as fh:
        for row in csv.DictReader(fh):
            name, count = row.get("Name", ""), int(row.get("Occurrences") or 0)
            if not name.startswith("statement "):
                continue  # the same failure is also counted per phase (submit/wait/fetch)
            kind, is_connection = _error_kind(row.get("Error", ""))
            kinds[f"{name[len('statement '):]}: {kind}"] += count
            connection += count if is_connection else 0
    return kinds, connection


def _producer_counts(ledger_paths: list[Path]) -> dict[str, Any]:
    totals: Counter = Counter()
    rejected: Counter = Counter()
    errors = []
    for path in ledger_paths:
        summary = read_summary(summary_path_for(path))
        if summary is None:
            continue
        for key in ("throttled", "retried", "expired", "rejected"):
            totals[key] += getattr(summary, key)
        rejected.update(summary.rejected_reasons)
        if summary.error:
            errors.append(summary.error)
    return {**{k: totals[k] for k in ("throttled", "retried", "expired", "rejected")},
            "rejected_reasons": dict(rejected), "errors": errors}


def _refresh_failures(client: DataApiClient, mv: str, since: float) -> dict[str, Any]:
    try:
        rows = sys_rows(client, f"SELECT * FROM sys_mv_refresh_history WHERE start_time >= '{utc_literal(since - 1)}'")
    except (StatementError, ClientError, BotoCoreError) as exc:
        return {"error": str(exc).splitlines()[0]}
    mine = [r for r in rows if str(r.get("mv_name", "")).lower() == mv.lower()]
    failed = Counter(re.sub(r"\d+", "N", str(r.get("status")))[:160] for r in mine
                     if "fail" in str(r.get("status", "")).lower())
    return {"refreshes": len(mine), "failed": sum(failed.values()), "failed_by_status": dict(failed.most_common(5))}


def fault_section(observer: FaultObserver, client: DataApiClient, mv: str, ledger_paths: list[Path],
                  csv_prefix: Path, run_started_at: float) -> dict[str, Any]:
    server = observer.summary()
    producer = _producer_counts(ledger_paths)
    statements, connection_errors = statement_failures(csv_prefix)
    return {
        "injected": server,
        "observed": {
            "throttles": {"producer_records": producer["throttled"],
                          "kinesis_server": server["kinesis_throttled"] if server else None},
            "retries": {"producer_records": producer["retried"]},
            "errors": {
                "producer_expired": producer["expired"],
                "producer_rejected": producer["rejected_reasons"],
                "producer_errors": producer["errors"],
                "statements": dict(statements.most_common()),
                "refresh": _refresh_failures(client, mv, run_started_at),
            },
            "reconnects": {
                "statement_connection_errors": connection_errors,
                "kinesis_restarts": server["kinesis_restarts"] if server else None,
            },
        },
    }
