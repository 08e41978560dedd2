"""``streamload`` command line: one command, subcommands.

Exit codes: 0 all thresholds met; 1 a threshold or check failed; 2 usage or config error;
3 the target could not be reached. Every failure a user can act on is a
``streamload.core.errors.StreamloadError`` carrying its exit code; ``main`` reports it in one
line (``reports_errors``), the handlers never map codes by hand.
"""
from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
import time
from pathlib import Path

from streamload.cli_parser import EXIT_FAILED, EXIT_OK, build_parser
from streamload.core.errors import (AuditQueryFailed, ConfigError, PipelineSetupFailed, StatementError,
                                    StreamloadError, reports_errors)
from streamload.run_config import load_run_config

__all__ = ["main"]


def _overrides(args: argparse.Namespace) -> dict:
    overrides: dict = {"producer": {}, "load": {}, "stream": {}, "verdict": {}}
    if getattr(args, "rate", None):
        overrides["producer"]["rate"] = args.rate
    if getattr(args, "duration", None):
        overrides["producer"]["duration_s"] = args.duration
    if getattr(args, "shards", None):
        overrides["stream"]["shards"] = args.shards
    if getattr(args, "drain_timeout", None) is not None:
        overrides["load"]["drain_timeout_s"] = args.drain_timeout
    if getattr(args, "baseline", None):
        overrides["verdict"]["baseline"] = args.baseline
    if getattr(args, "personas", False):
        overrides["personas"] = {"enabled": True}
    return overrides


def _guarded(action) -> int:
    """Run ``action()`` (which returns an exit code) so SIGTERM unwinds it; a statement that
    fails outside the audit can only be the pipeline's set-up."""
    from streamload.processes import raise_on_sigterm

    raise_on_sigterm()
    try:
        return action()
    except StatementError as exc:
        raise PipelineSetupFailed(f"setting up the pipeline failed: {exc}") from exc


def _execute(cfg, out_dir: Path, local: bool, overwrite: bool = False) -> int:
    from streamload.baseline import local_stack_for
    from streamload.outdir import claim_output_dir
    from streamload.run import execute_run, print_summary

    # Refuses (one line, exit 2) a folder whose run is still going, or did not finish unless told.
    claim = claim_output_dir(out_dir, overwrite)
    print(f"streamload: {cfg.producer.rate:g} records/s for {cfg.producer.duration_s:g}s into "
          f"{cfg.stream.name} ({cfg.stream.shards} shards); output in {out_dir}", flush=True)

    def action() -> int:
        try:
            with local_stack_for(cfg, local):
                outcome = execute_run(cfg, out_dir)
        except StreamloadError:  # refused before or while starting (config, target): nothing half-done
            claim.release()
            raise
        claim.release()  # finished: a later run may use the folder (a killed one leaves the marker)
        print_summary(outcome)
        return outcome.exit_code

    return _guarded(action)


def _load_with_aws(args: argparse.Namespace, overrides: dict):
    """The run config and its [aws] section (the cost estimate's inputs)."""
    from streamload.aws.cli import load_settings

    return load_settings(args.config, {}, overrides)


def _announce_cost(cfg, settings, local: bool, runs: float = 1.0) -> None:
    """Before anything runs against AWS, say what it will roughly cost (``runs`` x this run)."""
    from streamload.aws.cli import print_cost_estimate
    from streamload.baseline import targets_local_stack

    if local or targets_local_stack(cfg):
        return
    whole = cfg.model_copy(deep=True)
    whole.producer.duration_s = cfg.producer.duration_s * runs
    whole.load.drain_timeout_s = cfg.load.drain_timeout_s * runs
    if cfg.producer.total:
        whole.producer.total = math.ceil(cfg.producer.total * runs)
    print(f"target: AWS region {cfg.target.region} (no local endpoint URLs configured)", flush=True)
    print_cost_estimate(whole, settings)


def _demo(args: argparse.Namespace) -> int:
    overrides = _overrides(args)
    # The demo never collides with a running exporter: port 0 picks free ports.
    overrides["producer"]["metrics_port"] = 0
    overrides["load"]["metrics_port"] = 0
    cfg = load_run_config(args.config, overrides)
    out_dir = args.out or Path("out") / time.strftime("demo-%Y%m%d-%H%M%S")
    if not args.prometheus:
        return _execute(cfg, out_dir, local=True)
    from dashboards.prometheus_runner import prometheus_for_run

    with prometheus_for_run(cfg, out_dir / "prometheus") as prom:
        print(f"prometheus: {prom.url}", flush=True)
        return _execute(cfg, out_dir, local=True)


def _run(args: argparse.Namespace) -> int:
    from streamload.baseline_file import read_baseline

    cfg, settings = _load_with_aws(args, _overrides(args))
    if cfg.verdict.baseline:
        read_baseline(cfg.verdict.baseline)  # a missing or unreadable baseline fails now, not after the run
    _announce_cost(cfg, settings, args.local)
    out_dir = args.out or Path(cfg.out_dir) / time.strftime("run-%Y%m%d-%H%M%S")
    if args.dry_run:
        target = "the local stack" if args.local else (cfg.target.kinesis_endpoint_url or f"AWS {cfg.target.region}")
        print(f"dry run: would produce {cfg.producer.rate:g} records/s for {cfg.producer.duration_s:g}s into "
              f"{cfg.stream.name} ({cfg.stream.shards} shards) on {target}; thresholds: "
              f"{', '.join(cfg.verdict.thresholds) or 'none'}; output in {out_dir}")
        return EXIT_OK
    return _execute(cfg, out_dir, local=args.local, overwrite=args.overwrite)


def _capacity(args: argparse.Namespace) -> int:
    from streamload.capacity import CapacityPlan, format_table, run_capacity, write_capacity_report
    from streamload.run import execute_run

    cfg, settings = _load_with_aws(args, {})
    start = args.start_rate or cfg.producer.rate
    try:
        plan = CapacityPlan(
            start_rate=start, max_rate=args.max_rate or start * 64, step_duration_s=args.step_duration or cfg.producer.duration_s,
            max_steps=args.max_steps, max_total_s=args.max_total, resolution=args.resolution, min_achieved=args.min_achieved,
        )
    except ValueError as exc:
        raise ConfigError(f"invalid capacity plan: {exc}") from None
    worst = cfg.model_copy(deep=True)
    worst.producer.rate, worst.producer.duration_s, worst.producer.total = plan.max_rate, plan.step_duration_s, None
    _announce_cost(worst, settings, args.local, runs=plan.max_steps)
    out_dir = args.out or Path(cfg.out_dir) / time.strftime("capacity-%Y%m%d-%H%M%S")
    print(f"streamload capacity: from {plan.start_rate:g} up to {plan.max_rate:g} records/s, {plan.step_duration_s:g}s "
          f"steps, at most {plan.max_steps} steps / {plan.max_total_s:g}s; thresholds: {', '.join(cfg.verdict.thresholds)}; "
          f"a step must achieve {plan.min_achieved:.0%} of its rate; output in {out_dir}", flush=True)
    if args.dry_run:
        return EXIT_OK

    def step(step_cfg, step_dir):
        outcome = execute_run(step_cfg, step_dir)
        return outcome.report, outcome.exit_code

    def action() -> int:
        from streamload.baseline import local_stack_for

        with local_stack_for(cfg, args.local):
            result = run_capacity(cfg, out_dir, plan, step, announce=lambda line: print(line, flush=True))
        path = write_capacity_report(result, plan, out_dir, cfg.verdict.thresholds)
        print(format_table(result))
        print(f"report: {path} and {path.with_name('report.html')}")
        return EXIT_OK if result.held_rate is not None else EXIT_FAILED

    return _guarded(action)


def _baseline(args: argparse.Namespace) -> int:
    from streamload.baseline import run_baseline
    from streamload.baseline_file import format_baseline, write_baseline

    cfg, settings = _load_with_aws(args, _overrides(args))
    _announce_cost(cfg, settings, args.local, runs=args.repeat)
    out_dir = args.out or Path(cfg.out_dir) / time.strftime("baseline-%Y%m%d-%H%M%S")
    output = args.output or out_dir / "baseline.json"
    print(f"streamload baseline: {args.repeat} runs of {cfg.producer.rate:g} records/s for {cfg.producer.duration_s:g}s; "
          f"output in {out_dir}", flush=True)
    if args.dry_run:
        return EXIT_OK

    def action() -> int:
        baseline, codes = run_baseline(cfg, out_dir, args.repeat, args.local)
        print(format_baseline(baseline))
        failed = [str(i) for i, code in enumerate(codes, 1) if code != 0]
        if failed:
            print(f"streamload: error: run(s) {', '.join(failed)} failed their thresholds; a baseline must come from "
                  f"passing runs, none written (the runs are in {out_dir})", file=sys.stderr)
            return EXIT_FAILED
        write_baseline(baseline, output)
        print(f"baseline: {output} (compare with: streamload compare {output} <report.json>)")
        return EXIT_OK

    return _guarded(action)


def _plan(args: argparse.Namespace) -> int:
    import uuid

    from streamload.run import _plan_config as plan_config
    from streamload.core.runplan import RunPlan

    cfg, _ = _load_with_aws(args, {})
    ids = [f"{args.producer_id_prefix}{i}" for i in range(args.producers)]
    plan = RunPlan(
        run_id=time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6],
        started_at=time.time(),
        config=plan_config(cfg),
        ledger_paths=[str(args.ledger_dir / f"ledger-{pid}.json") for pid in ids],
        probe_out=str(args.ledger_dir / "probe.json"),
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    plan.write(args.output)
    print(f"run plan {plan.run_id}: {args.output}; producers {', '.join(ids)} write ledgers to {args.ledger_dir}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from streamload.baseline_file import read_baseline
    from streamload.compare import CompareRule, compare_reports, format_table, regressed_metrics
    from streamload.compare_report import write_compare_beside

    baseline, current = read_baseline(args.baseline), read_baseline(args.current, "report")
    rule = CompareRule(args.max_increase, args.noise_k, args.min_delta_ms)
    rows = compare_reports(baseline, current, rule)
    print(rule.describe())
    print(format_table(rows))
    print(write_compare_beside(baseline, current, rows, rule, args.baseline, args.current))
    regressed = regressed_metrics(rows)
    print(f"VERDICT {'regressed: ' + ', '.join(regressed) if regressed else 'no regression'}")
    return EXIT_FAILED if regressed else EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    from streamload.core.runplan import RunPlan
    from streamload.plan_audit import audit_planned_run, audit_summary_lines, write_audit

    plan = RunPlan.read(args.plan)
    drain_timeout_s = plan.settings.load.drain_timeout_s if args.drain_timeout is None else args.drain_timeout

    def action() -> int:
        try:
            report, exit_code = audit_planned_run(plan, drain_timeout_s, refresh=not args.no_refresh)
        except StatementError as exc:
            raise AuditQueryFailed(f"an audit query failed: {exc}") from exc
        path = write_audit(report, args.output or args.plan.with_name("audit.json"))
        print("\n".join(audit_summary_lines(report)))
        print(f"audit report: {path}; VERDICT {'pass' if exit_code == 0 else 'FAIL'}")
        return exit_code

    return _guarded(action)


def _stack(args: argparse.Namespace) -> int:
    from emulator.stack import LOCAL_ACCESS_KEY, LocalStack

    # Ctrl-C (or SIGTERM) at any moment after start-up asks for a clean stop; the handler only sets
    # a flag, so a signal landing between two banner lines cannot skip the stack's shutdown.
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with LocalStack(data_dir=args.data_dir, kinesis_port=args.kinesis_port,
                        redshift_data_port=args.redshift_data_port, identity_port=args.identity_port) as stack:
            print(f"KINESIS_URL={stack.kinesis_url}")
            print(f"REDSHIFT_DATA_URL={stack.redshift_data_url}")
            print(f"IDENTITY_URL={stack.identity_url}  (OIDC issuer, STS, SSO-OIDC for the personas)")
            print(f"credentials: access key {LOCAL_ACCESS_KEY} (local stack only); Ctrl-C stops", flush=True)
            while not stop.wait(1.0):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["produce"]:
        from producer.cli import main as produce_main

        return produce_main(argv[1:], prog="streamload produce")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from streamload.aws import cli as aws_cli

    handlers = {"demo": _demo, "run": _run, "compare": _compare, "stack": _stack, "aws": aws_cli.run,
                "capacity": _capacity, "baseline": _baseline, "plan": _plan, "audit": _audit}
    try:
        return reports_errors("streamload")(handlers[args.command])(args)
    except KeyboardInterrupt:
        print("streamload: interrupted; everything it started has been stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
