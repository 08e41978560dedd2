"""Benchmark: what ``--data-dir`` costs the local Kinesis, next to kinesalite.

The workload is ``kinesis_emulator.py``'s (100,000 records of 1 KiB, PutRecords batches of
500 from 4 boto3 threads, 2 shards, then GetRecords; throughput limits off), run in
alternating rounds against: ours in memory, ours with ``--data-dir`` (records written to
the OS before each put is answered), optionally the same with an older checkout
(``--before-repo DIR``, e.g. ``git archive <commit> | tar -x -C DIR``: the before/after of a
persistence change on the same machine in the same minutes), and kinesalite. Each target
is scored by its best round (a shared machine only ever makes a round slower).

    .venv/bin/python -m bench.kinesis_persistence [--records 100000] [--rounds 2] [--before-repo DIR]

Last lines: ``RATIO data_dir_vs_kinesalite <x>`` (goal: not below what the same line gives
for the code before the change, ``before_vs_kinesalite``), ``RATIO memory_vs_kinesalite``,
and ``RATIO data_dir_vs_memory <x>`` (the price of persistence, 1.0 = free); with
``--before-repo`` also ``RATIO data_dir_vs_before <x>``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.kinesis_emulator import PYTHON, REPO, Result, bench_kinesalite, run_workload
from streamload.core.processes import start_with_banner, stop_process


def bench_server(name: str, repo: Path, records: int, budget_s: float, data_dir: bool) -> Result:
    """Ours from ``repo`` (its own copy of the code: ``-m`` imports from the working directory)."""
    with tempfile.TemporaryDirectory(prefix="streamload-bench-kinesis-") as scratch:
        argv = [PYTHON, "-m", "emulator.kinesis", "--port", "0", "--no-throughput-limits"]
        if data_dir:
            argv += ["--data-dir", scratch]
        process, url = start_with_banner(argv, "URL=", cwd=repo)
        try:
            return run_workload(name, url, process.pid, records, budget_s)
        finally:
            stop_process(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--budget-s", type=float, default=240.0, help="time limit per target and round")
    parser.add_argument("--before-repo", type=Path, default=None, help="an older checkout to compare with")
    args = parser.parse_args(argv)
    targets = {
        "memory": lambda: bench_server("memory", REPO, args.records, args.budget_s, data_dir=False),
        "data_dir": lambda: bench_server("data_dir", REPO, args.records, args.budget_s, data_dir=True),
        "kinesalite": lambda: bench_kinesalite(args.records, args.budget_s),
    }
    if args.before_repo is not None:
        targets["before"] = lambda: bench_server("before", args.before_repo.resolve(), args.records, args.budget_s,
                                                 data_dir=True)
    print(f"workload: {args.records} records x 1 KiB, as kinesis_emulator.py; {args.rounds} alternating rounds, "
          "best round counts", flush=True)
    best: dict[str, Result] = {}
    for round_number in range(1, args.rounds + 1):
        for name, run in targets.items():
            result = run()
            print(f"round {round_number} {name:10s} put {result.records_put:>7d} in {result.put_s:6.2f} s, read "
                  f"{result.records_read:>7d} in {result.read_s:5.2f} s -> {result.records_per_s:7.0f} records/s"
                  f"{'; ' + result.note if result.note else ''}", flush=True)
            if name not in best or result.records_per_s > best[name].records_per_s:
                best[name] = result
    rate = {name: result.records_per_s for name, result in best.items()}
    print(f"RATIO data_dir_vs_kinesalite {rate['data_dir'] / rate['kinesalite']:.2f}")
    print(f"RATIO memory_vs_kinesalite {rate['memory'] / rate['kinesalite']:.2f}")
    if "before" in rate:
        print(f"RATIO before_vs_kinesalite {rate['before'] / rate['kinesalite']:.2f}")
        print(f"RATIO data_dir_vs_before {rate['data_dir'] / rate['before']:.2f}")
    print(f"RATIO data_dir_vs_memory {rate['data_dir'] / rate['memory']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
