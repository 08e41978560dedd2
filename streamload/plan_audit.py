"""The end-of-run audit of a run spread over machines (``streamload plan``, then Locust and the
producers as Kubernetes Jobs): what ``streamload run`` does after its own run, from the plan's
ledgers: each producer's file where this machine has it, else the ledger the producer published
to ``[redshift] ledger_table`` through the Data API (no shared volume needed).

Every producer named in the plan must have left its ledger; the view is refreshed and audited
until nothing is missing or the drain timeout passes (records sent last may still be on their
way into the view). Loss reasons, duplicates and the config's audit thresholds are evaluated
as in ``streamload run``. Latency thresholds come from Locust's outputs and are not judged here.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pydantic import ValidationError

from streamload.dataapi.client import DataApiClient, make_boto3_client
from streamload.audit import AuditResult, audit_view, lost_lines, read_ledgers
from streamload.dataapi.ledger_table import LedgerTable
from streamload.core.config import ConfigError, StreamloadConfig, format_validation_error
from streamload.loss_reasons import explain_losses
from streamload.pipeline import TargetUnreachable, kinesis_client
from streamload.core.runplan import RunPlan
from streamload.core.thresholds import evaluate, parse_threshold, summary_line

__all__ = ["AUDIT_METRICS", "audit_planned_run", "audit_summary_lines", "load_plan", "write_audit"]

AUDIT_METRICS = ("produced", "found", "lost", "duplicates", "unexpected")
POLL_S = 2.0


def load_plan(path: Path) -> RunPlan:
    """The run plan at ``path``; ConfigError (one line) if it is missing or not a run plan."""
    try:
        plan = RunPlan.read(path)
        StreamloadConfig.model_validate(plan.config)
        return plan
    except OSError as exc:
        raise ConfigError(f"cannot read the run plan {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"{path}: the config inside is invalid: {format_validation_error(exc)}") from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not a run plan written by `streamload plan`: {str(exc).splitlines()[0]}") from None


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
    mv = cfg.redshift.materialized_view
    ledgers = [Path(p) for p in plan.ledger_paths]
    client = DataApiClient(make_boto3_client(cfg.target), cfg.redshift, timeout_s=cfg.load.statement_timeout_s)
    table = LedgerTable(client, cfg.redshift.ledger_table) if cfg.redshift.ledger_table else None
    deadline = time.monotonic() + drain_timeout_s
    rounds = 0
    while True:
        rounds += 1
        if refresh:
            client.execute(f"REFRESH MATERIALIZED VIEW {mv}", "refresh")
        # Ledgers from files where this machine has them, else as the producers published them.
        found = read_ledgers(ledgers, table.read(plan.run_id) if table is not None else None)
        audit: AuditResult = audit_view(client, mv, plan.run_id, found, plan.started_at)
        if audit.lost == 0 or time.monotonic() >= deadline:
            break
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
    report = {
        "run_id": plan.run_id,
        "started_at": plan.started_at,
        "audited_at": time.time(),
        "audit_rounds": rounds,
        "ledgers": [str(p) for p in ledgers],
        "missing_ledgers": found.missing,
        "audit": audit.to_json(),
    }
    report["audit"]["lost_reasons"] = explain_losses(client, kinesis_client(cfg), cfg.stream.name, mv, audit,
                                                     plan.started_at)
    wanted = [t for t in cfg.verdict.thresholds if parse_threshold(t).metric in AUDIT_METRICS]
    report["thresholds"] = [r.to_json() for r in evaluate(report, wanted)]
    report["thresholds_not_judged"] = [t for t in cfg.verdict.thresholds if t not in wanted]
    problems = [f"no ledger from a planned producer: {path}" for path in found.missing]
    report["problems"] = problems
    ok = not problems and all(t["ok"] for t in report["thresholds"])
    return report, 0 if ok else 1


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
