"""The end-of-run audit and verdict that ``streamload run`` and ``streamload audit --plan`` share.

``audit_run``: the run's records counted in the warehouse against every planned producer's
ledger (its file where this machine has it, else the one it published to ``[redshift]
ledger_table``), optionally refreshing the view and auditing again until nothing is missing or
the drain timeout passes; then why each lost record is missing; and the problems found on the
way (a planned producer that left no ledger).

``judge_thresholds``: the ``[verdict]`` thresholds on a report -- all of them (``run``), or only
those whose metric the report can hold (``audit --plan``: the audit's counts; the others are
listed in ``thresholds_not_judged``).

``exit_code_for``: 0 when every threshold holds and nothing is in ``problems``, else 1.
"""
from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from streamload.audit import AuditResult, LedgerSet, audit_view, read_ledgers
from streamload.core.config import StreamloadConfig
from streamload.core.thresholds import ThresholdResult, evaluate, parse_threshold
from streamload.dataapi.client import DataApiClient
from streamload.dataapi.ledger_table import LedgerTable
from streamload.loss_reasons import explain_losses
from streamload.pipeline import kinesis_client

__all__ = ["AUDIT_METRICS", "RunAudit", "audit_run", "judge_thresholds", "add_problems", "exit_code_for"]

AUDIT_METRICS = ("produced", "found", "lost", "duplicates", "unexpected")
POLL_S = 2.0


@dataclass
class RunAudit:
    """The audit of one run: ``report`` is its JSON for ``report.json``/``audit.json`` (with
    ``lost_reasons``); ``rounds`` how many times the view was audited."""

    result: AuditResult
    report: dict
    rounds: int = 1
    problems: list[str] = field(default_factory=list)

    @property
    def ledgers(self) -> LedgerSet:
        return self.result.ledgers


def audit_run(cfg: StreamloadConfig, client: DataApiClient, run_id: str, started_at: float, ledger_paths: list[Path],
              drain_timeout_s: float = 0.0, refresh: bool = False) -> RunAudit:
    """Audit ``run_id`` in ``cfg``'s view: once, or (``refresh``) refreshing the view first and
    again every ``POLL_S`` while records are missing, until ``drain_timeout_s`` has passed."""
    mv = cfg.redshift.materialized_view
    table = LedgerTable(client, cfg.redshift.ledger_table) if cfg.redshift.ledger_table else None
    deadline = time.monotonic() + drain_timeout_s
    rounds = 0
    while True:
        rounds += 1
        if refresh:
            client.execute(f"REFRESH MATERIALIZED VIEW {mv}", "refresh")
        audit = audit_view(client, mv, run_id, _planned_ledgers(ledger_paths, table, run_id), started_at)
        if audit.lost == 0 or time.monotonic() >= deadline:
            break
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
    report = audit.to_json()
    report["lost_reasons"] = explain_losses(client, kinesis_client(cfg), cfg.stream.name, mv, audit, started_at)
    problems = [f"no ledger from a planned producer: {path}" for path in audit.ledgers.missing]
    return RunAudit(audit, report, rounds, problems)


def _planned_ledgers(paths: list[Path], table: LedgerTable | None, run_id: str) -> LedgerSet:
    """Each planned producer's ledger file; the ledger table (read only if a file is missing)
    stands in for the files this machine does not have."""
    found = read_ledgers(paths)
    if found.missing and table is not None:
        found = read_ledgers(paths, table.read(run_id))
    return found


def judge_thresholds(report: dict, thresholds: list[str], judged_metrics: Collection[str] | None = None
                     ) -> list[ThresholdResult]:
    """Evaluate ``thresholds`` on ``report`` into ``report["thresholds"]``. With
    ``judged_metrics``, only the thresholds on those metrics; the rest go, as written, into
    ``report["thresholds_not_judged"]``."""
    wanted = [t for t in thresholds if judged_metrics is None or parse_threshold(t).metric in judged_metrics]
    results = evaluate(report, wanted)
    report["thresholds"] = [r.to_json() for r in results]
    if judged_metrics is not None:
        report["thresholds_not_judged"] = [t for t in thresholds if t not in wanted]
    return results


def add_problems(report: dict, problems: list[str]) -> None:
    """Append to ``report["problems"]`` (created only when there is one)."""
    if problems:
        report.setdefault("problems", []).extend(problems)


def exit_code_for(report: dict) -> int:
    """1 if a threshold failed, the baseline comparison regressed or a problem was found; else 0."""
    failed = any(not t["ok"] for t in report.get("thresholds", []))
    regressed = bool((report.get("baseline") or {}).get("regressed"))
    return 1 if failed or regressed or report.get("problems") else 0
