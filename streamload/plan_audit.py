"""The end-of-run audit of a run spread over machines (``streamload plan``, then Locust and the
producers as Kubernetes Jobs): what ``streamload run`` does after its own run, from the plan's
ledgers: each producer's file where this machine has it, else the ledger the producer published
to ``[redshift] ledger_table`` through the Data API (no shared volume needed).

Every producer named in the plan must have left its ledger; the view is refreshed and audited
until nothing is missing or the drain timeout passes (records sent last may still be on their
way into the view). Loss reasons, duplicates and the config's audit thresholds are evaluated
by the same step as in ``streamload run`` (``streamload.verdict``). Latency thresholds come from
Locust's outputs and are not judged here (``thresholds_not_judged``).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from streamload.audit import lost_lines
from streamload.core.runplan import RunPlan
from streamload.core.thresholds import summary_line
from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.pipeline import TargetUnreachable
from streamload.verdict import AUDIT_METRICS, audit_run, exit_code_for, judge_thresholds

__all__ = ["AUDIT_METRICS", "audit_planned_run", "audit_summary_lines", "write_audit"]


def audit_planned_run(plan: RunPlan, drain_timeout_s: float, refresh: bool = True) -> tuple[dict, int]:
    """The audit report of ``plan``'s run and the exit code (0 all thresholds hold, 1 otherwise).
    TargetUnreachable if the Data API or the stream cannot be reached; StatementError if an audit
    query fails (e.g. the view does not exist)."""
    try:
        return _audit(plan, drain_timeout_s, refresh)
    except EndpointConnectionError as exc:
        raise TargetUnreachable(f"cannot reach {exc.kwargs.get('endpoint_url')}") from None
    except (BotoCoreError, ClientError) as exc:
        raise TargetUnreachable(str(exc).splitlines()[0]) from None


def _audit(plan: RunPlan, drain_timeout_s: float, refresh: bool) -> tuple[dict, int]:
    cfg = plan.settings
    ledgers = [Path(p) for p in plan.ledger_paths]
    client = DataApiClient(make_boto3_client(cfg.target), cfg.redshift, timeout_s=cfg.load.statement_timeout_s)
    audited = audit_run(cfg, client, plan.run_id, plan.started_at, ledgers, drain_timeout_s, refresh)
    report = {
        "run_id": plan.run_id,
        "started_at": plan.started_at,
        "audited_at": time.time(),
        "audit_rounds": audited.rounds,
        "ledgers": [str(p) for p in ledgers],
        "missing_ledgers": audited.ledgers.missing,
        "audit": audited.report,
    }
    # Latency thresholds come from Locust's outputs, which this audit does not read.
    judge_thresholds(report, list(cfg.verdict.thresholds), judged_metrics=AUDIT_METRICS)
    report["problems"] = audited.problems
    return report, exit_code_for(report)


def audit_summary_lines(report: dict) -> list[str]:
    audit = report["audit"]
    lines = [f"run {report['run_id']}: produced={audit['produced']} sent={audit['sent']} found={audit['found']} "
             f"lost={audit['lost']} duplicates={audit['duplicates']} unexpected={audit['unexpected']} "
             f"({len(report['ledgers'])} ledgers, {report['audit_rounds']} audit rounds)"]
    lines += lost_lines(audit)
    lines += [f"  problem: {p}" for p in report["problems"]]
    lines += [summary_line(t) for t in report["thresholds"]]
    if report["thresholds_not_judged"]:
        lines.append(f"  not judged here (from Locust's outputs): {', '.join(report['thresholds_not_judged'])}")
    return lines


def write_audit(report: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str))
    return path
