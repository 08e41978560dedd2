"""The producer's command line: ``python -m producer --stream NAME [--endpoint-url URL] [--rate R | --rate-profile SPEC] ...``
(also ``streamload produce ...``)

Prints a one-line summary (achieved vs target rate, late sends, throttles). Exit codes:
0 done; 2 bad flags or options; 3 the target could not be reached or refused us (unknown
stream, wrong region, credentials, access); each a ``StreamloadError``'s ``exit_code``.
Credentials come from the standard AWS chain (env, ``--profile`` / ``AWS_PROFILE``, SSO,
role), never from flags: flags show up in ``ps``. ``--profile`` is the AWS credentials
profile, as in every AWS tool; the rate profile is ``--rate-profile``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from producer.processes import argv_for
from producer.profiles import parse_duration, parse_profile
from producer.runner import ProducerOptions, run_producer
from streamload.core.config import ProducerConfig
from streamload.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, StreamloadError, UsageError, reports_errors

PROG = "python -m producer"


def error_name(prog: str) -> str:
    """What error lines start with: ``producer`` for ``python -m producer``, else the prog."""
    return "producer" if prog == PROG else prog


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints the whole usage otherwise
        self.exit(EXIT_USAGE, f"{error_name(self.prog)}: error: {message} (see --help)\n")


def _duration(text: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"duration must be > 0, got {text!r}")
    return value


def _share(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    try:
        return int(k), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N, got {text!r}") from None


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = _OneLineParser(prog=prog, allow_abbrev=False,
                       description="Put generated JSON records into a Kinesis stream (or a file) at an "
                                   "open-loop rate.")
    p.add_argument("--stream", help="Kinesis stream name (required for the kinesis sink)")
    p.add_argument("--endpoint-url", help="Kinesis endpoint (default: AWS for the region)")
    p.add_argument("--region", help="AWS region (default: the AWS config chain)")
    p.add_argument("--rate", type=float, help="constant records per second (default 200)")
    p.add_argument("--rate-profile", help="rate profile instead of --rate: constant:R | ramp:FROM:TO:DUR | "
                                          "steps:R1,R2,..@STEP | sine:MEAN:AMP:PERIOD | burst:BASE:PEAK:LEN/EVERY")
    p.add_argument("--profile", dest="aws_profile", metavar="NAME",
                   help="AWS credentials profile (~/.aws/config), as in the AWS CLI (default: the standard chain)")
    p.add_argument("--duration", type=_duration, default=30.0, help="how long to produce: 30, 90s, 2m (default 30s)")
    p.add_argument("--total", type=int, help="stop after this many records (or the duration, if first)")
    p.add_argument("--producer-id", default="p0", help="stamped in every record; unique per process")
    p.add_argument("--run-id", help="stamped in every record, for the audit (default: the run file's, "
                                   "named by STREAMLOAD_RUN_FILE, else random)")
    p.add_argument("--seed", type=int, help="generator seed (default random)")
    p.add_argument("--schema", default="randomuser",
                   help="randomuser (default) | sales | PATH.json/.yaml template | a plug-in's name")
    p.add_argument("--partition-key", default="random", help="random | field:PATH (e.g. field:login.uuid) | hot[:KEY]")
    p.add_argument("--explicit-hash-key", help="random | an integer in [0, 2^128-1] (default: none)")
    p.add_argument("--no-shard-limit", dest="shard_limit", action="store_false",
                   help="do not pace shards under 1,000 records/s and 1 MiB/s")
    p.add_argument("--sink", default="kinesis", help="kinesis | stdout | file:PATH (JSON lines)")
    p.add_argument("--processes", type=int, default=1, help="producer processes sharing the rate (default 1)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="live progress line on stderr (default: when stderr is a terminal)")
    p.add_argument("--batch-max-records", type=int, default=500)
    p.add_argument("--record-ttl", type=float, default=30.0, help="seconds a record may be retried")
    p.add_argument("--max-in-flight", type=int, default=8, help="concurrent PutRecords calls")
    p.add_argument("--ledger", type=Path, help="JSONL ledger of sent records (+ .summary.json)")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1:PORT (0: any)")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--share", type=_share, default=(0, 1), help=argparse.SUPPRESS)  # set by --processes
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # set by --processes
    return p


# Each ``[producer]`` setting (streamload.core.config.ProducerConfig) -> the dest of its flag.
CONFIG_FLAG_DESTS = {
    "rate": "rate", "duration_s": "duration", "total": "total", "schema_name": "schema", "seed": "seed",
    "producer_id": "producer_id", "record_ttl_s": "record_ttl", "metrics_port": "metrics_port",
    "profile": "rate_profile", "partition_key": "partition_key", "shard_limit": "shard_limit",
    "processes": "processes",
}


def config_argv(settings: ProducerConfig, stream: str, region: str, endpoint_url: str | None,
                ledger: Path) -> list[str]:
    """The flags that make ``python -m producer`` do what ``[producer]`` (``settings``) says,
    into ``stream`` (``endpoint_url``: a local stack's), writing its ledger at ``ledger``."""
    parser = build_parser()
    values = {dest: getattr(settings, field) for field, dest in CONFIG_FLAG_DESTS.items()}
    if settings.profile is not None:
        values["rate"] = None  # the rate profile replaces --rate
    values.update(stream=stream, region=region, endpoint_url=endpoint_url, ledger=ledger)
    return argv_for(parser, parser.parse_args([]), **values)


def _looks_like_rate_profile(text: str | None) -> bool:
    if text is None or ":" not in text:  # AWS profile names may not hold ':' -- rate profiles always do
        return False
    try:
        parse_profile(text)
    except ValueError:
        return False
    return True


def _options(args: argparse.Namespace) -> ProducerOptions:
    if _looks_like_rate_profile(args.aws_profile):
        raise ValueError(f"--profile is the AWS credentials profile; for the rate profile use --rate-profile {args.aws_profile}")
    if args.rate is not None and args.rate_profile is not None:
        raise ValueError("give --rate or --rate-profile, not both")
    if args.sink == "kinesis" and not args.stream:
        raise ValueError("--stream is required for the kinesis sink (or use --sink stdout | file:PATH)")
    return ProducerOptions(
        stream_name=args.stream or "", endpoint_url=args.endpoint_url, region=args.region,
        rate=args.rate if args.rate is not None else 200.0, profile=args.rate_profile, aws_profile=args.aws_profile,
        duration_s=args.duration, total=args.total,
        producer_id=args.producer_id, seed=args.seed, schema=args.schema,
        partition_key=args.partition_key, explicit_hash_key=args.explicit_hash_key,
        shard_limit=args.shard_limit, sink=args.sink, share=args.share,
        batch_max_records=args.batch_max_records, record_ttl_s=args.record_ttl,
        max_in_flight=args.max_in_flight, ledger_path=args.ledger,
        metrics_port=args.metrics_port, run_id=args.run_id)


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """The command; ``prog`` is how it was run (``streamload produce`` runs it too)."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return reports_errors(error_name(prog))(_produce)(parser, args)


def _produce(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        opts = _options(args)
    except StreamloadError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    if args.processes != 1:
        if args.processes < 1 or args.child:
            raise UsageError(f"--processes must be >= 1, got {args.processes}")
        if opts.sink_spec.kind == "stdout":
            raise UsageError("--sink stdout cannot be shared by several processes; use --sink file:PATH")
        from producer.processes import run_processes

        return run_processes(parser, args, progress)
    watch = start_gate = None
    if args.child:
        from producer.processes import status_lines, wait_for_go
        from streamload.core.processes import die_with_parent

        die_with_parent()  # SIGTERM when the parent dies: a graceful stop (flush, then exit)
        watch, start_gate = status_lines, wait_for_go
    elif progress:
        from producer.progress import ProgressLine

        async def watch(tally, target_rate, stopped):
            await ProgressLine(tally, target_rate).run(stopped)
    try:
        result = asyncio.run(run_producer(opts, watch=watch, start_gate=start_gate))
    except StreamloadError:  # the target refused us (exit 3), a bad schema (2), ...
        raise
    except (ValueError, OSError) as exc:  # no region, metrics port taken, ledger unwritable
        raise UsageError(str(exc)) from None
    except Exception as exc:  # a bug: still one line, the traceback only with --log-level DEBUG
        logging.getLogger("producer").debug("unexpected failure", exc_info=True)
        print(f"{error_name(parser.prog)}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.child:
        print(json.dumps({"result": result.to_json()}), flush=True)
    else:
        print(result.one_line(), file=sys.stderr if opts.sink_spec.kind == "stdout" else sys.stdout)
    return EXIT_OK

