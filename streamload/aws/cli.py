"""``streamload aws provision|preflight|teardown|cost``.

Exit codes: 0 ok; 1 a check or AWS call failed (or teardown was declined); 2 usage or
config error; 3 AWS could not be reached (each a ``StreamloadError``'s ``exit_code``,
reported by ``reports_errors``). Wire-up in ``streamload/cli.py``:
``register(sub)`` while building the parser, and ``"aws": run`` among the handlers.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamload.aws.accounts import SessionFactory, connect
from streamload.aws.cost import cost_inputs, estimate_cost
from streamload.aws.preflight import run_preflight
from streamload.aws.provision import default_backoff, default_data_api, provision
from streamload.aws.teardown import teardown
from streamload.aws.waits import Backoff
from streamload.core.aws_config import AwsProvisionConfig
from streamload.core.config import StreamloadConfig
from streamload.core.errors import EXIT_OK, ConfigError, UsageError, reports_errors
from streamload.run_config import load_run_config

__all__ = ["register", "run", "load_settings", "print_cost_estimate"]


def register(subparsers: Any) -> None:
    aws = subparsers.add_parser("aws", help="provision, check and tear down the pipeline in your AWS accounts")
    commands = aws.add_subparsers(dest="aws_command", required=True)
    specs = {
        "provision": "create the stream, policies, roles, attachment, schema and MV (idempotent)",
        "preflight": "check every hop of the set-up and print pass/fail with the fix",
        "teardown": "delete exactly what provision created (found by the run-id tag)",
        "cost": "print the estimated cost of the configured run; calls no AWS API",
    }
    for name, text in specs.items():
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--config", type=Path, help="TOML/YAML config with an [aws] section")
        command.add_argument("--run-id", help="tag value that marks this set-up's resources (aws.run_id)")
        command.add_argument("--stream-profile", help="AWS profile of the stream account (aws.stream_profile)")
        command.add_argument("--redshift-profile", help="AWS profile of the Redshift account (aws.redshift_profile)")
        command.add_argument("--region", help="AWS region of both (target.region)")
    commands.choices["provision"].add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    commands.choices["teardown"].add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _aws_overrides(args: argparse.Namespace) -> dict[str, Any]:
    flags = {"run_id": args.run_id, "stream_profile": args.stream_profile, "redshift_profile": args.redshift_profile}
    return {key: value for key, value in flags.items() if value is not None}


def load_settings(
    path: Path | None, aws_overrides: dict[str, Any], other_overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> tuple[StreamloadConfig, AwsProvisionConfig]:
    """The run config and its ``[aws]`` section: file, then env (``STREAMLOAD_AWS__<FIELD>``),
    then flags."""
    cfg = load_run_config(path, {**(other_overrides or {}), "aws": aws_overrides}, environ)
    return cfg, cfg.aws


def print_cost_estimate(cfg: StreamloadConfig, settings: AwsProvisionConfig, out: Callable[[str], None] = print) -> None:
    """Call before any AWS run; raises ConfigError for a node type without a price."""
    try:
        out(estimate_cost(cost_inputs(cfg, settings)).render())
    except ValueError as exc:
        raise ConfigError(f"invalid config: aws.redshift_node_type: {exc}") from None


def _ask(prompt: str) -> bool:
    try:
        return input(prompt).strip().lower() in ("y", "yes")
    except EOFError:  # no terminal: never delete without an explicit --yes
        return False


@reports_errors("streamload")
def run(
    args: argparse.Namespace,
    session_factory: SessionFactory | None = None,
    data_api_factory: Callable | None = None,
    backoff: Backoff | None = None,
    confirm: Callable[[str], bool] = _ask,
    out: Callable[[str], None] = print,
) -> int:
    """The ``aws`` subcommand; the keyword arguments exist for tests (moto sessions, fakes)."""
    other = {"target": {"region": args.region}} if getattr(args, "region", None) else None
    cfg, settings = load_settings(args.config, _aws_overrides(args), other)
    if args.aws_command == "cost":
        print_cost_estimate(cfg, settings, out)
        return EXIT_OK
    data_api_for = data_api_factory or default_data_api

    def open_accounts():
        return connect(cfg, settings, session_factory)

    if args.aws_command == "preflight":
        report = run_preflight(open_accounts, data_api_for)
        out(report.render())
        return report.exit_code
    if args.aws_command == "provision":
        print_cost_estimate(cfg, settings, out)
        ctx = open_accounts()
        provision(ctx, data_api_for(ctx), backoff or default_backoff(ctx), dry_run=args.dry_run, out=out)
        return EXIT_OK
    if args.aws_command == "teardown":
        ctx = open_accounts()
        teardown(ctx, data_api_for(ctx), confirm, assume_yes=args.yes, out=out)
        return EXIT_OK
    raise UsageError(f"unknown aws command {args.aws_command!r}")
