"""One run: producer and Locust side by side against a configured target, then the audit
and the report. Used by ``streamload demo`` (against the local stack it starts) and
``streamload run`` (against any configured target).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

from loadtest.measurements import add_measurements, measurement_summary_lines, publish_final_counts
from loadtest.persona_report import apply_persona_results, persona_report_dir, persona_summary_lines
from producer.cli import config_argv
from producer.processes import child_ids, per_process_path
from streamload.audit import add_put_stage, lost_lines, producer_timeline
from streamload.baseline_file import read_baseline
from streamload.compare import CompareRule, Comparison, compare_reports, format_table
from streamload.core.config import StreamloadConfig
from streamload.faults import FaultObserver, fault_section
from streamload.html_report import write_html_report
from streamload.junit import write_junit
from streamload.locust_runner import load_processes, merge_loadtest_outputs, probe_complete, read_locust_stats, start_locust
from streamload.pipeline import setup_pipeline
from streamload.locust_history import read_locust_history, read_statement_history
from streamload.population_latency import population_latency
from streamload.processes import Child, ChildGroup
from streamload.report import build_report, result_line, write_report
from streamload.core.producer_summary import summary_path_for
from streamload.core.runplan import RUN_FILE_ENV, RunPlan
from streamload.core.thresholds import summary_line
from streamload.verdict import add_problems, audit_run, exit_code_for, judge_thresholds

__all__ = ["RunOutcome", "execute_run"]

log = logging.getLogger("streamload.run")


class RunOutcome:
    def __init__(self, report: dict, exit_code: int, report_path: Path) -> None:
        self.report = report
        self.exit_code = exit_code
        self.report_path = report_path


def _plan_config(cfg: StreamloadConfig) -> dict:
    """The config for the Locust processes: no secret in the file, they take the keys from
    the environment (``_credentials_env``) like any AWS SDK process."""
    data = cfg.model_dump(mode="json", by_alias=True)
    data["target"]["secret_access_key"] = None
    return data


def _public_config(cfg: StreamloadConfig) -> dict:
    """The config as it goes into reports: secrets masked."""
    return cfg.model_dump(mode="json", by_alias=True)


def _credentials_env(cfg: StreamloadConfig) -> dict[str, str]:
    """Explicit keys (local stack) reach children through the standard env chain."""
    env = {"AWS_DEFAULT_REGION": cfg.target.region}
    if cfg.target.access_key_id and cfg.target.secret_access_key:
        env["AWS_ACCESS_KEY_ID"] = cfg.target.access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = cfg.target.secret_access_key.get_secret_value()
    if cfg.target.profile:
        env["AWS_PROFILE"] = cfg.target.profile
    return env


def _producer_argv(cfg: StreamloadConfig, ledger: Path) -> list[str]:
    return [sys.executable, "-m", "producer", *config_argv(cfg.producer, cfg.stream.name, cfg.target.region,
                                                         cfg.target.kinesis_endpoint_url, ledger)]


def _ledger_paths(cfg: StreamloadConfig, ledger: Path) -> list[Path]:
    """Where the producer writes its ledgers: one, or one per process (``--processes``)."""
    if cfg.producer.processes == 1:
        return [ledger]
    return [per_process_path(ledger, pid) for pid in child_ids(cfg.producer.producer_id, cfg.producer.processes)]


def execute_run(cfg: StreamloadConfig, out_dir: Path) -> RunOutcome:
    out_dir.mkdir(parents=True, exist_ok=True)
    setup_client = setup_pipeline(cfg)
    plan, plan_path, ledger = _write_plan(cfg, out_dir)
    ledgers = [Path(p) for p in plan.ledger_paths]
    env = {**_credentials_env(cfg), RUN_FILE_ENV: str(plan_path), "PYTHONPATH": _pythonpath()}
    csv_prefix = out_dir / "locust"
    observer = FaultObserver(cfg.target.kinesis_endpoint_url).start()
    with ChildGroup(out_dir / "logs") as children:
        producer = children.start("producer", _producer_argv(cfg, ledger), env)
        locust = start_locust(children, cfg, csv_prefix, env, workers=cfg.load.workers)
        producer_rc, locust_rc = _wait_for_run(children, producer, locust, cfg, out_dir)
        if producer_rc not in (0, None):
            log.error("producer exited %s: %s", producer_rc, producer.tail(3))
        if locust_rc not in (0, None):
            log.error("locust exited %s: %s", locust_rc, locust.tail(3))
    observer.stop()
    report = _measure(cfg, setup_client, plan, out_dir, csv_prefix)
    report["faults"] = fault_section(observer, setup_client, cfg.redshift.materialized_view, ledgers, csv_prefix,
                                     plan.started_at)
    exit_code = _judge_run(report, cfg, out_dir, producer_rc)
    report["final_metrics"] = publish_final_counts(report, cfg.load.metrics_port, cfg.load.final_scrape_timeout_s,
                                                   out_dir, cfg.stream.name)
    report_path = write_report(report, out_dir)
    write_html_report(report, out_dir / "report.html")
    return RunOutcome(report, exit_code, report_path)


def _write_plan(cfg: StreamloadConfig, out_dir: Path) -> tuple[RunPlan, Path, Path]:
    """The run's id and plan (what every process it starts reads), an earlier run's files gone."""
    ledger = out_dir / f"ledger-{cfg.producer.producer_id}.json"
    ledgers = _ledger_paths(cfg, ledger)
    for path in {ledger, *ledgers}:
        for stale in (path, summary_path_for(path)):
            stale.unlink(missing_ok=True)
    shutil.rmtree(persona_report_dir(out_dir), ignore_errors=True)  # an earlier run's persona reports
    plan = RunPlan(
        run_id=time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6],
        started_at=time.time(),
        config=_plan_config(cfg),
        ledger_paths=[str(path) for path in ledgers],
        probe_out=str(out_dir / "probe.json"),
    )
    plan_path = out_dir / "run-plan.json"
    plan.write(plan_path)
    return plan, plan_path, ledger


def _measure(cfg: StreamloadConfig, client, plan: RunPlan, out_dir: Path, csv_prefix: Path) -> dict:
    """The report's measurements: the audit and every record's stages (counted in the warehouse),
    the Locust processes' outputs, the producers' ledgers, loss reasons."""
    mv, run_id, started_at = cfg.redshift.materialized_view, plan.run_id, plan.started_at
    audited = audit_run(cfg, client, run_id, started_at, [Path(p) for p in plan.ledger_paths])
    probe, histograms, percentiles = merge_loadtest_outputs(out_dir)
    report = build_report(run_id, started_at, _public_config(cfg), audited.report, probe, read_locust_stats(csv_prefix))
    add_problems(report, audited.problems)
    report["latency_histograms"] = histograms
    report["e2e_population"] = population_latency(client, mv, run_id)
    add_put_stage(report["e2e_population"], audited.ledgers)
    report["producer_acks_per_second"] = producer_timeline(audited.ledgers, started_at)
    report["producer_events_per_second"] = {kind: producer_timeline(audited.ledgers, started_at, kind)
                                            for kind in ("throttled", "retried", "late")}
    report["locust_history"] = read_locust_history(csv_prefix, started_at)
    report["statement_history"] = read_statement_history(csv_prefix, started_at)
    report["statement_latency_ms"] = percentiles
    add_measurements(report, out_dir)  # e2e stages, open-model arrivals, Data API poll bound
    if put := report["e2e_population"].get("stages", {}).get("put"):  # every record's, from the ledgers
        report.setdefault("e2e_stages", {})["put"] = {**put, "negative": 0}
    if not cfg.target.kinesis_endpoint_url:  # AWS: what the run was estimated to cost
        report["cost_estimate"] = _cost_estimate(cfg)
    return report


def _cost_estimate(cfg: StreamloadConfig) -> dict | None:
    from streamload.aws.cost import PRICES_NOTE, cost_inputs, estimate_cost

    try:
        estimate = estimate_cost(cost_inputs(cfg, cfg.aws))
    except ValueError:  # a node type without a price: the CLI said so before the run
        return None
    return {"total_usd": round(estimate.total_usd, 4), "kinesis_usd": round(estimate.kinesis_usd, 4),
            "redshift_usd": round(estimate.redshift_usd, 4), "note": f"estimated before the run; {PRICES_NOTE}"}


def _judge_run(report: dict, cfg: StreamloadConfig, out_dir: Path, producer_rc: int | None) -> int:
    """Thresholds, personas, the producer's exit and lost Locust processes into the verdict."""
    problems: list[str] = []
    if cfg.personas.enabled:
        problems += apply_persona_results(report, [p.name for p in cfg.personas.all_personas], out_dir)
    judge(report, cfg, out_dir)
    if producer_rc != 0:
        problems.append(f"producer exited {producer_rc}")
    report["load_processes"] = processes = load_processes(out_dir, cfg.load.workers)
    # The master carried on without a lost worker: say what this report lacks.
    problems += [f"lost {what} are not in this report" for what in processes["not_measured"]]
    add_problems(report, problems)
    return exit_code_for(report)


def _wait_for_run(children: ChildGroup, producer: Child, locust: Child, cfg: StreamloadConfig, out_dir: Path):
    """Wait for the producer, then for the probe to see everything (or the drain timeout).

    Once the probe has seen everything the orchestrator stops Locust (SIGTERM: Locust writes
    its stats and quits its workers); a single process that already quit by itself is left be,
    and one that did not (a runner.quit() from inside a user greenlet can stall) does not
    idle on until --run-time.
    """
    budget = cfg.producer.duration_s + cfg.load.drain_timeout_s + 60
    producer_rc = children.wait(producer, budget)
    deadline = time.monotonic() + cfg.load.drain_timeout_s + 30
    while locust.proc.poll() is None and time.monotonic() < deadline:
        if probe_complete(out_dir):
            children.wait(locust, 0 if cfg.load.workers else 1.0)
            children.terminate(locust)
            break
        time.sleep(0.5)
    return producer_rc, children.wait(locust, 30)


def judge(report: dict, cfg: StreamloadConfig, out_dir: Path) -> int:
    """Thresholds (and the baseline, if configured) into the report and JUnit XML; exit code."""
    thresholds = list(cfg.verdict.thresholds)
    if cfg.personas.enabled and not any(t.strip().startswith("rls_violations") for t in thresholds):
        thresholds.append("rls_violations == 0")  # personas on: any leaked row fails the run
    results = judge_thresholds(report, thresholds)
    if cfg.verdict.baseline:
        rule = CompareRule(cfg.verdict.max_increase, cfg.verdict.noise_k, cfg.verdict.min_delta_ms)
        baseline = read_baseline(Path(cfg.verdict.baseline))
        rows = compare_reports(baseline, report, rule)
        report["baseline"] = {
            "path": str(cfg.verdict.baseline),
            "rule": rule.describe(),
            "rows": [vars(r) for r in rows],
            "regressed": any(r.regressed for r in rows),
            "regressed_metrics": [r.metric for r in rows if r.regressed],
        }
    baseline_cases = [(f"baseline {r['metric']}", not r["regressed"], f"{r['metric']} regressed: {r['current']} > allowed {r['allowed']}")
                      for r in report.get("baseline", {}).get("rows", [])]
    write_junit(results, out_dir / "junit.xml", report["run_id"], report["finished_at"] - report["started_at"], baseline_cases)
    return 1 if any(not r.ok for r in results) or report.get("baseline", {}).get("regressed") else 0


def _pythonpath() -> str:
    root = str(Path(__file__).resolve().parent.parent)
    existing = os.environ.get("PYTHONPATH")
    return f"{root}{os.pathsep}{existing}" if existing else root


def print_summary(outcome: RunOutcome, stream=sys.stdout) -> None:
    r = outcome.report
    audit = r["audit"]
    prod = audit.get("producer", {})
    print(f"run {r['run_id']}: report {outcome.report_path}", file=stream)
    print(
        f"  producer: generated={prod.get('generated')} sent={prod.get('sent')} "
        f"expired={prod.get('expired')} rejected={prod.get('rejected')} late={prod.get('late')}",
        file=stream,
    )
    for name, s in sorted(r.get("statements", {}).items()):
        if not name.startswith("statement "):
            continue  # the per-phase rows (submit/queue/execution/fetch) are in report.json
        print(f"  {name:<20} n={s['requests']:<6} failures={s['failures']:<4} p50={s['p50_ms']:.0f}ms p99={s['p99_ms']:.0f}ms", file=stream)
    for line in lost_lines(audit):
        print(line, file=stream)
    if (injected := (r.get("faults") or {}).get("injected")) and (injected["kinesis"] or injected["kinesis_restarts"]):
        print(f"  faults injected by the local Kinesis: {injected['kinesis']}, restarts={injected['kinesis_restarts']}",
              file=stream)
    for line in measurement_summary_lines(r) + persona_summary_lines(r):
        print(line, file=stream)
    for problem in r.get("problems", []):
        print(f"  problem: {problem}", file=stream)
    for t in r.get("thresholds", []):
        print(summary_line(t), file=stream)
    if "baseline" in r:
        print(f"  baseline {r['baseline']['path']}: {r['baseline']['rule']}", file=stream)
        table = format_table([Comparison(**row) for row in r["baseline"]["rows"]])
        print("    " + table.replace("\n", "\n    "), file=stream)
        worse = r["baseline"].get("regressed_metrics", [])
        print(f"  baseline verdict: {'REGRESSED ' + ', '.join(worse) if worse else 'no regression'}", file=stream)
    print(result_line(r), file=stream)
