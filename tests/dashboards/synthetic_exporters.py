"""Stand-in exporters: the real metric modules, fed plausible values, served on loopback.

``python tests/dashboards/synthetic_exporters.py --role loadtest --port N --run-id R``
imports ``loadtest.metrics`` (or ``producer.metrics`` for ``--role producer``), observes
values like a short demo would, and serves them until its parent goes away or
``--lifetime`` seconds pass. Used when a real demo cannot be run; the metric names,
labels and buckets are the real ones because the real modules declare them.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from prometheus_client import REGISTRY, start_http_server  # noqa: E402

from streamload.core.run_info import run_info_metric  # noqa: E402

PERSONAS = ("ethan", "frank", "alex", "ming")
TICK_S = 0.1


def _run_info(module, run_id: str, **extra: str) -> None:
    # Every process exports streamload_run_info (the run selector joins on it). The producer
    # module may not declare it yet; then this stand-in declares the same series itself.
    info = getattr(module, "RUN_INFO", None) or run_info_metric()
    info.info({"run_id": run_id, **extra})


def loadtest_tick(m, rng: random.Random, args) -> None:
    for _ in range(10):
        m.E2E_LATENCY.observe(rng.lognormvariate(0.3, 0.5))
        m.RECORDS_FOUND.inc()
    m.RECORDS_PENDING.set(rng.randint(5, 40))
    seconds = rng.uniform(0.05, 0.4)
    m.REFRESH_SECONDS.labels(outcome="ok").observe(seconds)
    m.STATEMENTS.labels(kind="refresh", outcome="ok").inc()
    for persona in PERSONAS:
        m.QUERY_SECONDS.labels(persona=persona, outcome="ok").observe(rng.uniform(0.01, 0.2))
        m.STATEMENTS.labels(kind="query", outcome="ok").inc()
    m.STATEMENTS.labels(kind="probe", outcome="ok").inc()
    for phase, high in (("submit", 0.005), ("queue", 0.05), ("execution", 0.2), ("fetch", 0.02)):
        m.DATAAPI_PHASE_SECONDS.labels(phase=phase).observe(rng.uniform(0.001, high))
    for stage, high in (("put", 0.05), ("arrival", 0.02), ("refresh_lag", 1.0), ("visibility", 0.5)):
        m.E2E_STAGE_SECONDS.labels(stage=stage).observe(rng.uniform(0.001, high))


def producer_tick(m, rng: random.Random, args) -> None:
    sent = int(args.rate * TICK_S)
    m.RECORDS.labels(outcome="sent").inc(sent)
    m.BYTES.inc(sent * 1100)
    m.PUT_SECONDS.observe(rng.uniform(0.005, 0.05))
    if rng.random() < 0.2:
        m.THROTTLED.inc()
        m.RETRIES.inc()
    m.IN_FLIGHT_BATCHES.set(rng.randint(0, 3))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=("loadtest", "producer"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--lost", type=int, default=0, help="records to report lost")
    parser.add_argument("--rls-violation", default="", help="persona to report one RLS violation for")
    parser.add_argument("--lifetime", type=float, default=120.0)
    args = parser.parse_args()
    rng = random.Random(7)
    parent = os.getppid()

    if args.role == "loadtest":
        from loadtest import metrics as m

        _run_info(m, args.run_id, stream="my-data-stream")
        for persona in PERSONAS:  # known personas start at 0, so "no violation" is data
            m.RLS_VIOLATIONS.labels(persona=persona)
        if args.rls_violation:
            m.RLS_VIOLATIONS.labels(persona=args.rls_violation).inc()
        m.RECORDS_LOST.inc(args.lost)
        tick = loadtest_tick
    else:
        from producer import metrics as m

        _run_info(m, args.run_id, producer_id="p0")
        m.TARGET_RATE.set(args.rate)
        tick = producer_tick

    # The producer serves its own registry (the default one plus its run info).
    start_http_server(args.port, addr="127.0.0.1", registry=getattr(m, "SERVED_REGISTRY", REGISTRY))
    print("ready", flush=True)
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline and os.getppid() == parent:
        tick(m, rng, args)
        time.sleep(TICK_S)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
