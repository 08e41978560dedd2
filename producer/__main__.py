"""``python -m producer --stream NAME [--endpoint-url URL] --rate R --duration S ...``

Prints a one-line summary. Exit codes: 0 done; 2 bad flags or options; 3 the target
could not be reached or refused us (unknown stream, credentials, access).
Credentials come from the standard AWS chain (env, profile, role), never from flags:
flags show up in ``ps``.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from producer.records import SCHEMAS
from producer.runner import ProducerOptions, run_producer
from producer.sender import TargetError

EXIT_OK, EXIT_USAGE, EXIT_TARGET = 0, 2, 3


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints the whole usage otherwise
        self.exit(EXIT_USAGE, f"producer: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _OneLineParser(prog="python -m producer",
                       description="Put generated JSON records into a Kinesis stream at a fixed rate.")
    p.add_argument("--stream", required=True, help="Kinesis stream name")
    p.add_argument("--endpoint-url", help="Kinesis endpoint (default: AWS for the region)")
    p.add_argument("--region", help="AWS region (default: the AWS config chain)")
    p.add_argument("--rate", type=float, default=200.0, help="records per second (default 200)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds to produce (default 30)")
    p.add_argument("--total", type=int, help="stop after this many records (or the duration, if first)")
    p.add_argument("--producer-id", default="p0", help="stamped in every record; unique per process")
    p.add_argument("--seed", type=int, help="generator seed (default random)")
    p.add_argument("--schema", default="randomuser", choices=SCHEMAS)
    p.add_argument("--batch-max-records", type=int, default=500)
    p.add_argument("--record-ttl", type=float, default=30.0, help="seconds a record may be retried")
    p.add_argument("--max-in-flight", type=int, default=8, help="concurrent PutRecords calls")
    p.add_argument("--ledger", type=Path, help="JSONL ledger of sent records (+ .summary.json)")
    p.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1:PORT (0: any)")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        opts = ProducerOptions(
            stream_name=args.stream, endpoint_url=args.endpoint_url, region=args.region,
            rate=args.rate, duration_s=args.duration, total=args.total,
            producer_id=args.producer_id, seed=args.seed, schema=args.schema,
            batch_max_records=args.batch_max_records, record_ttl_s=args.record_ttl,
            max_in_flight=args.max_in_flight, ledger_path=args.ledger,
            metrics_port=args.metrics_port)
    except ValueError as exc:
        print(f"producer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = asyncio.run(run_producer(opts))
    except TargetError as exc:
        print(f"producer: error: {exc}", file=sys.stderr)
        return EXIT_TARGET
    except (ValueError, OSError) as exc:  # no region, metrics port taken, ledger unwritable
        print(f"producer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: still one line, the traceback only with --log-level DEBUG
        logging.getLogger("producer").debug("unexpected failure", exc_info=True)
        print(f"producer: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(result.one_line())
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
