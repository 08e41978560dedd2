"""Benchmark: the local Kinesis server against moto's server and kinesalite.

Each target gets the same workload, side by side in one run: create a stream, put
100,000 records of 1 KiB in PutRecords batches of 500 (4 client threads), then read them
all back with GetRecords. Throughput limits are OFF on every target -- this compares raw
speed (moto and kinesalite have no limits to switch off; ours runs with
``--no-throughput-limits``). Each server runs in its own process so RSS is its alone.
Then ours alone runs a retention soak (``--retention-override-s``) to show RSS stays flat
once trimming starts.

    .venv/bin/python -m bench.kinesis_emulator [--records 100000] [--budget-s 240]

The last two lines are ``RATIO vs_moto <x>`` and ``RATIO vs_kinesalite <x>``: records per
second (put + read) of ours divided by theirs. Put and read each have ``--budget-s``; a
target that runs out of time putting still reads back what it put, and is scored on that
part, put and read (which flatters it: moto slows as it fills, so the records it never put
would have come slower still). The ratios are therefore at most what a full run would show.
kinesalite comes from ``npm install kinesalite`` into a temporary directory outside the
repository (``$STREAMLOAD_KINESALITE_DIR`` reuses one).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import psutil
from botocore.config import Config

from streamload.core.processes import start_with_banner, stop_process

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RECORD = b"r" * 1024
BATCH = 500
THREADS = 4
SHARDS = 2
STREAM = "bench-stream"

KINESALITE_LAUNCHER = """
const kinesalite = require('kinesalite');
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
server.listen(0, '127.0.0.1', () => console.log('URL=http://127.0.0.1:' + server.address().port));
"""
MOTO_LAUNCHER = """
from moto.server import ThreadedMotoServer
import time
server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f'URL=http://{host}:{port}', flush=True)
while True:
    time.sleep(3600)
"""


@dataclass
class Result:
    name: str
    records_put: int = 0
    records_read: int = 0
    put_s: float = 0.0
    read_s: float = 0.0
    rss_after_put_mib: float = float("nan")
    rss_after_read_mib: float = float("nan")
    finished: bool = False
    note: str = ""

    @property
    def records_per_s(self) -> float:
        elapsed = self.put_s + self.read_s
        return (self.records_put + self.records_read) / 2 / elapsed if elapsed > 0 else float("nan")


def rss_mib(pid: int) -> float:
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20


def client(url: str):
    return boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="streamload-local",
        aws_secret_access_key="streamload-local",
        config=Config(retries={"total_max_attempts": 3, "mode": "standard"}, read_timeout=120, max_pool_connections=THREADS),
    )


def wait_active(kinesis, deadline: float) -> None:
    while time.monotonic() < deadline:
        status = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamStatus"]
        if status == "ACTIVE":
            return
        time.sleep(0.05)
    raise RuntimeError("stream never became ACTIVE")


def run_workload(name: str, url: str, pid: int, records: int, budget_s: float) -> Result:
    result = Result(name)
    deadline = time.monotonic() + budget_s
    setup = client(url)
    setup.create_stream(StreamName=STREAM, ShardCount=SHARDS)
    wait_active(setup, deadline)
    batches = records // BATCH
    counts = [0] * THREADS
    failures: list[BaseException] = []

    def put_worker(worker: int) -> None:
        kinesis = client(url)
        entries = [{"Data": RECORD, "PartitionKey": f"w{worker}-{i}"} for i in range(BATCH)]
        for _ in range(worker, batches, THREADS):
            if time.monotonic() > deadline:
                return
            try:
                response = kinesis.put_records(StreamName=STREAM, Records=entries)
            except BaseException as error:  # reported below; the bench keeps going
                failures.append(error)
                return
            counts[worker] += BATCH - response["FailedRecordCount"]

    started = time.perf_counter()
    threads = [threading.Thread(target=put_worker, args=(w,), daemon=True) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 5))
    result.put_s = time.perf_counter() - started
    result.records_put = sum(counts)
    result.rss_after_put_mib = rss_mib(pid)
    if failures:
        result.note = f"put failed: {failures[0]!r:.120}"

    # The read phase gets a budget of its own: a target that ran out of time putting still
    # reads back what it put, so it is scored on the part it finished (put and read), never
    # at half its put rate with a read phase that never ran.
    put_timed_out = time.monotonic() > deadline
    deadline = time.monotonic() + budget_s
    started = time.perf_counter()
    for shard in setup.list_shards(StreamName=STREAM)["Shards"]:
        iterator = setup.get_shard_iterator(StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        while iterator and time.monotonic() < deadline:
            page = setup.get_records(ShardIterator=iterator, Limit=10_000)
            result.records_read += len(page["Records"])
            iterator = page.get("NextShardIterator")
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
    result.read_s = time.perf_counter() - started
    result.rss_after_read_mib = rss_mib(pid)
    result.finished = result.records_put == records and result.records_read == records
    if not result.finished and not result.note:
        if put_timed_out:
            result.note = f"put stopped at the {budget_s:.0f} s budget after {result.records_put}; scored on those"
        elif time.monotonic() > deadline:
            result.note = f"read stopped at the {budget_s:.0f} s budget"
        else:
            result.note = f"read back {result.records_read} of {records}"
    return result


def bench_ours(records: int, budget_s: float) -> Result:
    process, url = start_with_banner(
        [PYTHON, "-m", "emulator.kinesis", "--port", "0", "--no-throughput-limits"], "URL=", cwd=REPO
    )
    try:
        return run_workload("streamload", url, process.pid, records, budget_s)
    finally:
        stop_process(process)


def bench_moto(records: int, budget_s: float) -> Result:
    process, url = start_with_banner([PYTHON, "-c", MOTO_LAUNCHER], "URL=")
    try:
        return run_workload("moto", url, process.pid, records, budget_s)
    finally:
        stop_process(process)


def kinesalite_dir() -> Path:
    reuse = os.environ.get("STREAMLOAD_KINESALITE_DIR")
    if reuse:
        return Path(reuse)
    directory = Path(tempfile.gettempdir()) / "streamload-bench-kinesalite"
    if not (directory / "node_modules" / "kinesalite").exists():
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "kinesalite@3"],
            cwd=directory, check=True, timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    return directory


def bench_kinesalite(records: int, budget_s: float) -> Result:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("node/npm not on PATH")
    directory = kinesalite_dir()
    # Its CLI binds every interface; the launcher binds loopback only.
    process, url = start_with_banner(["node", "-e", KINESALITE_LAUNCHER], "URL=", cwd=directory)
    try:
        return run_workload("kinesalite", url, process.pid, records, budget_s)
    finally:
        stop_process(process)


def retention_soak(rounds: int = 8, per_round: int = 20_000) -> list[float]:
    """RSS of ours after each round of puts, with records trimmed after 1 s."""
    process, url = start_with_banner(
        [PYTHON, "-m", "emulator.kinesis", "--port", "0", "--no-throughput-limits", "--retention-override-s", "1"],
        "URL=", cwd=REPO,
    )
    try:
        kinesis = client(url)
        kinesis.create_stream(StreamName=STREAM, ShardCount=SHARDS)
        entries = [{"Data": RECORD, "PartitionKey": str(i)} for i in range(BATCH)]
        samples = []
        for _ in range(rounds):
            for _ in range(per_round // BATCH):
                kinesis.put_records(StreamName=STREAM, Records=entries)
            time.sleep(1.2)  # one trim interval
            samples.append(rss_mib(process.pid))
        return samples
    finally:
        stop_process(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--budget-s", type=float, default=240.0, help="time limit per phase (put, read) of each target")
    args = parser.parse_args(argv)
    print(f"workload: {args.records} records x 1 KiB, PutRecords batches of {BATCH}, {THREADS} put threads, "
          f"{SHARDS} shards, then GetRecords; throughput limits off on all targets", flush=True)
    results: dict[str, Result | str] = {}
    for name, run in (("streamload", bench_ours), ("moto", bench_moto), ("kinesalite", bench_kinesalite)):
        try:
            results[name] = run(args.records, args.budget_s)
        except Exception as error:  # report and go on: the other targets still count
            results[name] = f"{type(error).__name__}: {error}"
    for name, result in results.items():
        if isinstance(result, str):
            print(f"{name:11s} unavailable: {result}")
            continue
        print(
            f"{name:11s} put {result.records_put:>7d} in {result.put_s:7.2f} s, read {result.records_read:>7d} in "
            f"{result.read_s:6.2f} s -> {result.records_per_s:8.0f} records/s; RSS {result.rss_after_put_mib:6.1f} MiB "
            f"after put, {result.rss_after_read_mib:6.1f} MiB after read{'; ' + result.note if result.note else ''}"
        )
    soak = retention_soak()
    print("streamload retention soak (1 s retention, 20k records per round) RSS MiB: "
          + ", ".join(f"{s:.1f}" for s in soak))
    ours = results["streamload"]
    for name in ("moto", "kinesalite"):
        theirs = results[name]
        if isinstance(ours, str) or isinstance(theirs, str):
            reason = ours if isinstance(ours, str) else theirs
            print(f"RATIO vs_{name} nan  # {reason}")
        else:
            print(f"RATIO vs_{name} {ours.records_per_s / theirs.records_per_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
