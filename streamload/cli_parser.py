"""The ``streamload`` command's arguments: subcommands, flags and their checks.

Exit codes (``streamload.core.errors``): 0 all thresholds met; 1 a threshold or check failed;
2 usage or config error; 3 the target could not be reached.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from streamload.core.errors import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_UNREACHABLE", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"streamload: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _float_at_least(text: str, low: float, inclusive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    if value < low or (value == low and not inclusive):
        raise argparse.ArgumentTypeError(f"must be {'>=' if inclusive else '>'} {low:g}: {text}")
    return value


def _positive_float(text: str) -> float:
    return _float_at_least(text, 0.0, inclusive=False)


def _nonnegative_float(text: str) -> float:
    return _float_at_least(text, 0.0, inclusive=True)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text}")
    return value


def _target_args(parser: argparse.ArgumentParser, name: str) -> None:
    """The flags every command that runs load against a target shares."""
    parser.add_argument("--config", type=Path, required=True, help="TOML/YAML config (thresholds in [verdict])")
    parser.add_argument("--local", action="store_true", help="start the local stack and point the run(s) at it")
    parser.add_argument("--out", type=Path, default=None, help=f"output folder (default out/{name}-<time>)")
    parser.add_argument("--dry-run", action="store_true", help="print what would run (and its AWS cost estimate), start nothing")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="streamload", description="Load, latency and loss testing for Kinesis → Redshift streaming ingestion → Data API pipelines.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # The order here is the order `streamload --help` lists the commands in.
    for add_command in (_add_demo, _add_run, _add_capacity, _add_baseline, _add_plan, _add_audit, _add_compare):
        add_command(sub)

    from streamload.aws import cli as aws_cli

    aws_cli.register(sub)

    sub.add_parser("produce", help="run the producer alone (see `streamload produce --help`)", add_help=False)
    _add_stack(sub)
    return parser


def _add_demo(sub) -> None:
    demo = sub.add_parser("demo", help="start the local stack, produce and load-test it, print the report")
    demo.add_argument("--config", type=Path, help="TOML/YAML config (defaults suit the demo)")
    demo.add_argument("--rate", type=_positive_float, help="records per second (default 200)")
    demo.add_argument("--duration", type=_positive_float, help="seconds of producing (default 30)")
    demo.add_argument("--shards", type=int, help="shards of the demo stream (default 2)")
    demo.add_argument("--drain-timeout", type=float, help="seconds to wait for stragglers (default 60)")
    demo.add_argument("--out", type=Path, default=None, help="output folder (default out/demo-<time>)")
    demo.add_argument("--prometheus", action="store_true", help="also run Prometheus on loopback scraping this demo; prints its URL")
    demo.add_argument("--personas", action="store_true", help="also run the sales personas (SSO + row-level security checks)")


def _add_run(sub) -> None:
    run = sub.add_parser("run", help="produce and load-test a configured target (local stack or AWS), judge thresholds")
    _target_args(run, "run")
    run.add_argument("--overwrite", action="store_true",
                     help="reuse an output folder whose earlier run did not finish (never one still running)")
    run.add_argument("--rate", type=_positive_float, help="override producer.rate")
    run.add_argument("--duration", type=_positive_float, help="override producer.duration_s")
    run.add_argument("--baseline", type=Path, help="compare with this report.json (overrides verdict.baseline)")


def _add_capacity(sub) -> None:
    capacity = sub.add_parser("capacity", help="step the producer rate up in short runs; report the highest rate that meets the thresholds")
    _target_args(capacity, "capacity")
    capacity.add_argument("--start-rate", type=_positive_float, help="first step's rate (default producer.rate)")
    capacity.add_argument("--max-rate", type=_positive_float, help="never step above this (default 64 x start rate)")
    capacity.add_argument("--step-duration", type=_positive_float, help="seconds of producing per step (default producer.duration_s)")
    capacity.add_argument("--max-steps", type=_positive_int, default=8, help="most steps to run (default 8)")
    capacity.add_argument("--max-total", type=_positive_float, default=1800.0, help="time budget in seconds (default 1800)")
    capacity.add_argument("--resolution", type=_positive_float, default=0.10, help="stop bisecting within this fraction (default 0.10)")
    capacity.add_argument("--min-achieved", type=_positive_float, default=0.95, help="share of the target rate a step must achieve (default 0.95)")


def _add_baseline(sub) -> None:
    baseline = sub.add_parser("baseline", help="run N times; write the medians and run-to-run spread that `compare` uses")
    _target_args(baseline, "baseline")
    baseline.add_argument("--repeat", type=_positive_int, default=3, help="number of runs (default 3)")
    baseline.add_argument("--rate", type=_positive_float, help="override producer.rate")
    baseline.add_argument("--duration", type=_positive_float, help="override producer.duration_s")
    baseline.add_argument("--output", type=Path, help="baseline file to write (default <out>/baseline.json)")


def _add_plan(sub) -> None:
    plan = sub.add_parser("plan", help="write the run plan that Locust processes on other machines read (STREAMLOAD_RUN_FILE)")
    plan.add_argument("--config", type=Path, required=True, help="TOML/YAML config")
    plan.add_argument("--producers", type=_positive_int, default=1, help="producer processes, ids <prefix>0..N-1 (default 1)")
    plan.add_argument("--producer-id-prefix", default="p", help="producer id prefix (default 'p'; pod names in Kubernetes)")
    plan.add_argument("--ledger-dir", type=Path, required=True, help="shared folder holding every producer's ledger")
    plan.add_argument("--output", type=Path, required=True, help="run plan file to write")


def _add_audit(sub) -> None:
    audit = sub.add_parser("audit", help="audit a planned (multi-machine) run from its ledgers: lost, duplicated, why")
    audit.add_argument("--plan", type=Path, required=True, help="the run plan `streamload plan` wrote")
    audit.add_argument("--drain-timeout", type=_nonnegative_float,
                       help="seconds to keep re-auditing while records are missing (default: the plan's load.drain_timeout_s)")
    audit.add_argument("--no-refresh", action="store_true",
                       help="do not REFRESH the view before each audit round (it refreshes itself)")
    audit.add_argument("--output", type=Path, help="audit report to write (default audit.json next to the plan)")


def _add_compare(sub) -> None:
    compare = sub.add_parser("compare", help="compare two report.json files; exit 1 on regression")
    compare.add_argument("baseline", type=Path)
    compare.add_argument("current", type=Path)
    compare.add_argument("--max-increase", type=float, default=0.10, help="allowed relative rise (default 0.10)")
    compare.add_argument("--noise-k", type=float, default=3.0, help="multiples of the baseline's spread (default 3)")
    compare.add_argument("--min-delta-ms", type=float, default=50.0, help="smallest rise that counts (default 50)")


def _add_stack(sub) -> None:
    stack = sub.add_parser("stack", help="run the local stack in the foreground until Ctrl-C")
    stack.add_argument("--kinesis-port", type=int, default=4567)
    stack.add_argument("--redshift-data-port", type=int, default=4568)
    stack.add_argument("--identity-port", type=int, default=4569)
    stack.add_argument("--data-dir", type=Path, default=None)
