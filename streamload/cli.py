"""``streamload`` command line: one command, subcommands.

Exit codes (shared/DESIGN.md §3): 0 all thresholds met; 1 a threshold or check failed;
2 usage or config error; 3 the target could not be reached.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from streamload.config import ConfigError, load_config

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"streamload: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="streamload", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser("demo", help="start the local stack, produce and load-test it, print the report")
    demo.add_argument("--config", type=Path, help="TOML/YAML config (defaults suit the demo)")
    demo.add_argument("--rate", type=_positive_float, help="records per second (default 200)")
    demo.add_argument("--duration", type=_positive_float, help="seconds of producing (default 30)")
    demo.add_argument("--shards", type=int, help="shards of the demo stream (default 2)")
    demo.add_argument("--drain-timeout", type=float, help="seconds to wait for stragglers (default 60)")
    demo.add_argument("--out", type=Path, default=None, help="output folder (default out/demo-<time>)")
    demo.add_argument("--prometheus", action="store_true", help="also run Prometheus on loopback scraping this demo; prints its URL")

    run = sub.add_parser("run", help="produce and load-test a configured target (local stack or AWS), judge thresholds")
    run.add_argument("--config", type=Path, required=True, help="TOML/YAML config")
    run.add_argument("--local", action="store_true", help="start the local stack and point the run at it")
    run.add_argument("--rate", type=_positive_float, help="override producer.rate")
    run.add_argument("--duration", type=_positive_float, help="override producer.duration_s")
    run.add_argument("--baseline", type=Path, help="compare with this report.json (overrides verdict.baseline)")
    run.add_argument("--out", type=Path, default=None, help="output folder (default out/run-<time>)")

    compare = sub.add_parser("compare", help="compare two report.json files; exit 1 on regression")
    compare.add_argument("baseline", type=Path)
    compare.add_argument("current", type=Path)
    compare.add_argument("--max-increase", type=float, default=0.10, help="allowed relative rise (default 0.10)")
    compare.add_argument("--noise-k", type=float, default=3.0, help="multiples of the baseline's spread (default 3)")
    compare.add_argument("--min-delta-ms", type=float, default=50.0, help="smallest rise that counts (default 50)")

    from streamload.aws import cli as aws_cli

    aws_cli.register(sub)

    sub.add_parser("produce", help="run the producer alone (see `streamload produce --help`)", add_help=False)

    stack = sub.add_parser("stack", help="run the local stack in the foreground until Ctrl-C")
    stack.add_argument("--kinesis-port", type=int, default=4567)
    stack.add_argument("--redshift-data-port", type=int, default=4568)
    stack.add_argument("--data-dir", type=Path, default=None)
    return parser


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
    return overrides


def _execute(cfg, out_dir: Path, local: bool) -> int:
    from emulator.stack import LocalStack
    from loadtest.client import StatementError
    from streamload.pipeline import TargetUnreachable
    from streamload.processes import raise_on_sigterm
    from streamload.run import execute_run, print_summary

    raise_on_sigterm()
    print(f"streamload: {cfg.producer.rate:g} records/s for {cfg.producer.duration_s:g}s into "
          f"{cfg.stream.name} ({cfg.stream.shards} shards); output in {out_dir}", flush=True)
    stack = LocalStack() if local else None
    try:
        if stack is not None:
            stack.start()
            print(f"local stack: kinesis {stack.kinesis_url}  redshift-data {stack.redshift_data_url}", flush=True)
            stack.point_config_at_stack(cfg)
        outcome = execute_run(cfg, out_dir)
    except TargetUnreachable as exc:
        print(f"streamload: error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except StatementError as exc:
        print(f"streamload: error: setting up the pipeline failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if stack is not None:
            stack.stop()
    print_summary(outcome)
    return outcome.exit_code


def _demo(args: argparse.Namespace) -> int:
    overrides = _overrides(args)
    # The demo never collides with a running exporter: port 0 picks free ports.
    overrides["producer"]["metrics_port"] = 0
    overrides["load"]["metrics_port"] = 0
    cfg = load_config(args.config, overrides)
    out_dir = args.out or Path("out") / time.strftime("demo-%Y%m%d-%H%M%S")
    if not args.prometheus:
        return _execute(cfg, out_dir, local=True)
    from dashboards.prometheus_runner import PrometheusUnavailable, prometheus_for_run

    try:
        with prometheus_for_run(cfg, out_dir / "prometheus") as prom:
            print(f"prometheus: {prom.url}", flush=True)
            return _execute(cfg, out_dir, local=True)
    except PrometheusUnavailable as exc:
        print(f"streamload: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config, _overrides(args))
    out_dir = args.out or Path(cfg.out_dir) / time.strftime("run-%Y%m%d-%H%M%S")
    return _execute(cfg, out_dir, local=args.local)


def _compare(args: argparse.Namespace) -> int:
    import json

    from streamload.compare import CompareRule, compare_reports, format_table

    reports = []
    for path in (args.baseline, args.current):
        try:
            reports.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"streamload: error: cannot read report {path}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    rule = CompareRule(args.max_increase, args.noise_k, args.min_delta_ms)
    rows = compare_reports(reports[0], reports[1], rule)
    print(rule.describe())
    print(format_table(rows))
    regressed = [r.metric for r in rows if r.regressed]
    print(f"VERDICT {'regressed: ' + ', '.join(regressed) if regressed else 'no regression'}")
    return EXIT_FAILED if regressed else EXIT_OK


def _stack(args: argparse.Namespace) -> int:
    from emulator.stack import LOCAL_ACCESS_KEY, LocalStack

    with LocalStack(data_dir=args.data_dir, kinesis_port=args.kinesis_port, redshift_data_port=args.redshift_data_port) as stack:
        print(f"KINESIS_URL={stack.kinesis_url}")
        print(f"REDSHIFT_DATA_URL={stack.redshift_data_url}")
        print(f"credentials: access key {LOCAL_ACCESS_KEY} (local stack only); Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["produce"]:
        from producer.__main__ import main as produce_main

        return produce_main(argv[1:])
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from streamload.aws import cli as aws_cli

    handlers = {"demo": _demo, "run": _run, "compare": _compare, "stack": _stack, "aws": aws_cli.run}
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"streamload: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("streamload: interrupted; everything it started has been stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
