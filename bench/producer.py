"""Benchmark: does the producer hold its target rate? 10,000 records/s into the local Kinesis.

Starts the local Kinesis (``python -m emulator.kinesis``, AWS's per-shard limits ON) on
127.0.0.1, creates a stream with enough shards for the rate to stay well under 1,000
records/s per shard, runs ``python -m producer`` at ``--rate`` for ``--duration`` seconds
(randomuser records, per-shard limiter on, as a user would run it), and reads the
producer's summary:

    .venv/bin/python -m bench.producer [--rate 10000] [--duration 20] [--shards 16] [--processes 1]

``achieved_vs_target`` is records acknowledged per second (over the schedule's window, or
until the last acknowledgement if later) divided by the profile's mean target rate.
Goal: within 0.99..1.01. The last line is ``RATIO achieved_vs_target <x>``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

from streamload.core.processes import start_with_banner

REPO = Path(__file__).resolve().parents[1]
CREDENTIALS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local"}
REGION = "us-east-1"


def start_kinesis() -> tuple[subprocess.Popen, str]:
    try:
        return start_with_banner([sys.executable, "-m", "emulator.kinesis", "--port", "0"], "URL=", cwd=REPO)
    except RuntimeError as exc:
        raise SystemExit(f"the local Kinesis did not start: {exc}") from None


def create_stream(url: str, shards: int) -> str:
    client = boto3.client("kinesis", endpoint_url=url, region_name=REGION, **CREDENTIALS)
    name = "bench-producer"
    client.create_stream(StreamName=name, ShardCount=shards)
    for _ in range(200):
        if client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            return name
        time.sleep(0.05)
    raise SystemExit("stream never became ACTIVE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10_000)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args(argv)
    kinesis, url = start_kinesis()
    try:
        stream = create_stream(url, args.shards)
        with tempfile.TemporaryDirectory(prefix="streamload-bench-producer-") as tmp:
            ledger = Path(tmp) / "ledger.jsonl"
            env = {**os.environ, "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
                   "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"], "AWS_DEFAULT_REGION": REGION,
                   "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
            argv = [sys.executable, "-m", "producer", "--stream", stream, "--endpoint-url", url,
                    "--rate", str(args.rate), "--duration", str(args.duration), "--seed", "1",
                    "--processes", str(args.processes), "--ledger", str(ledger), "--no-progress"]
            started = time.monotonic()
            proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=args.duration + 180)
            wall = time.monotonic() - started
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, file=sys.stderr)
                raise SystemExit(f"producer exited {proc.returncode}")
            summary = json.loads(ledger.with_name(ledger.name + ".summary.json").read_text())
    finally:
        kinesis.terminate()
        kinesis.wait(timeout=10)
    print(proc.stdout.strip())
    print(f"target {summary['target_rate']:.1f} records/s over {summary['window_s']:.2f} s "
          f"({args.shards} shards, {args.processes} process(es)); achieved {summary['achieved_rate']:.1f} records/s")
    print(f"generated={summary['generated']} sent={summary['sent']} expired={summary['expired']} "
          f"rejected={summary['rejected']} late={summary['late']} throttled={summary['throttled']} "
          f"shard_limited={summary['shard_limited']} (wall {wall:.1f} s incl. start-up)")
    print(f"RATIO achieved_vs_target {summary['achieved_rate'] / summary['target_rate']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
