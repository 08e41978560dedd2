"""The harness's own cost per Data API statement, measured side by side in one run.

Against one local Data API (``streamload stack`` in its own process, on loopback, so the
client CPU measured here is the client's alone), the same no-op statement
(``SELECT 1``) runs two ways, interleaved so machine noise hits both alike:

- **raw**: boto3 alone — ExecuteStatement, DescribeStatement back to back until FINISHED
  (no sleep: the lowest latency any client can see), GetStatementResult;
- **harness**: what a streamload Locust user does — ``DataApiClient.execute`` (phases timed,
  polling with backoff, every phase reported through Locust's real ``events.request.fire``
  into Locust's stats) plus the statement's HdrHistogram record.

Printed: p50/p99 of each, the client CPU per statement of each, and

- ``RATIO harness_overhead <x>``: harness p50 ÷ raw p50 (1.0 = no overhead);
- ``RATIO harness_overhead_p99_ms <x>``: harness p99 − raw p99 in ms (issue 8's goal: < 1 ms).
  The harness polls with backoff instead of spinning, so up to one poll interval of this is
  the price of not hammering the Data API (DescribeStatement has a quota on AWS).

    .venv/bin/python -m bench.harness_overhead [--statements 300]
"""
from __future__ import annotations

import locust  # noqa: F401  (first: Locust monkey-patches the standard library, as in a Locust process)

import argparse
import sys
import time

from locust.env import Environment  # noqa: E402

from emulator.stack import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY  # noqa: E402
from streamload.dataapi.client import DataApiClient, make_boto3_client  # noqa: E402
from loadtest.probe import new_latency_histogram  # noqa: E402
from streamload.core.config import StreamloadConfig  # noqa: E402
from bench.processes import served  # noqa: E402

SQL = "SELECT 1"


def raw_statement(client, target: dict) -> None:
    statement_id = client.execute_statement(Sql=SQL, **target)["Id"]
    deadline = time.monotonic() + 30
    while True:
        status = client.describe_statement(Id=statement_id)["Status"]
        if status == "FINISHED":
            break
        if status in ("FAILED", "ABORTED") or time.monotonic() > deadline:
            raise SystemExit(f"raw statement ended {status}")
    client.get_statement_result(Id=statement_id)


def stack_process():
    """``streamload stack`` on free ports; yields the Data API URL; stopped on exit."""
    return served([sys.executable, "-m", "streamload.cli", "stack", "--kinesis-port", "0", "--redshift-data-port", "0",
                   "--identity-port", "0"], banner="REDSHIFT_DATA_URL=")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=300, help="statements per side (default 300)")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    if args.statements < 10:
        parser.error("--statements must be >= 10")

    with stack_process() as url:
        cfg = StreamloadConfig.model_validate({
            "target": {"redshift_data_endpoint_url": url, "access_key_id": LOCAL_ACCESS_KEY,
                       "secret_access_key": LOCAL_SECRET_KEY},
            "redshift": {"workgroup_name": "local"},
        })
        boto = make_boto3_client(cfg.target)
        target = cfg.redshift.target_kwargs()
        env = Environment()
        env.create_local_runner()  # registers Locust's stats listener on events.request
        harness = DataApiClient(boto, cfg.redshift, fire=env.events.request.fire)
        histogram = new_latency_histogram()

        def harness_statement() -> None:
            started = time.perf_counter()
            harness.execute(SQL, "bench")
            histogram.record_value(max(int((time.perf_counter() - started) * 1e6), 1))

        sides = {"raw": lambda: raw_statement(boto, target), "harness": harness_statement}
        for _ in range(args.warmup):
            for run in sides.values():
                run()
        wall: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, float] = {name: 0.0 for name in sides}
        for i in range(args.statements):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for name in order:
                t0, c0 = time.perf_counter(), time.process_time()
                sides[name]()
                cpu[name] += time.process_time() - c0
                wall[name].append((time.perf_counter() - t0) * 1000.0)
        env.runner.quit()

    reported = sum(e.num_requests for e in env.stats.entries.values())
    print(f"{'side':<8} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/stmt':>12}")
    for name in sides:
        print(f"{name:<8} {percentile(wall[name], 50):>8.2f} {percentile(wall[name], 99):>8.2f} "
              f"{cpu[name] / args.statements * 1e6:>12.0f}")
    print(f"Locust stats recorded {reported:,} phase reports for {args.statements + args.warmup:,} harness statements")
    p50_ratio = percentile(wall["harness"], 50) / percentile(wall["raw"], 50)
    p99_delta = percentile(wall["harness"], 99) - percentile(wall["raw"], 99)
    print(f"RATIO harness_overhead {p50_ratio:.3f}")
    print(f"RATIO harness_overhead_p99_ms {p99_delta:.3f}")
    print(f"RATIO harness_cpu_us_per_statement {(cpu['harness'] - cpu['raw']) / args.statements * 1e6:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
