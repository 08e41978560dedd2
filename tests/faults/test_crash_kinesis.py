"""Crash matrix, local Kinesis: ``python -m emulator.kinesis --data-dir D`` killed with
SIGKILL at a random moment under load keeps every record it acknowledged -- readable after
a restart on the same ``D``, in order, with its sequence number -- and a torn or corrupt
tail is cut, not parsed."""
from __future__ import annotations

import json
import logging
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from emulator.kinesis import KinesisBackend, KinesisSettings, PutRecordsEntry, open_backend
from emulator.kinesis.streams import CallerIdentity

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local",
         "region_name": "us-east-1"}
STREAM = "crash"
SHARDS = 3
PUT_THREADS = 4
BATCH = 100


def start_kinesis(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    """The server in its own process; returns it and its URL (from its banner)."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "emulator.kinesis", "--port", "0", "--data-dir", str(data_dir),
                                 "--no-throughput-limits"], cwd=ROOT, stdout=subprocess.PIPE, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if line.startswith("KINESIS_URL="):
            return proc, line.split("=", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"Kinesis did not start: {log_path.read_text()[-500:]}")


def client(url: str):
    # One attempt: a put either got its answer from this server or it did not.
    return boto3.client("kinesis", endpoint_url=url, **LOCAL,
                        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10))


class PutLoad:
    """Threads putting batches until the server dies; ``acked`` holds what it answered."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acked: list[tuple[str, int, bytes]] = []  # (shard id, sequence number, data)
        self.first_ack = threading.Event()
        self.threads = [threading.Thread(target=self._put, args=(n,), daemon=True) for n in range(PUT_THREADS)]

    def start(self) -> "PutLoad":
        for thread in self.threads:
            thread.start()
        return self

    def _put(self, worker: int) -> None:
        kinesis = client(self.url)
        for batch in range(1_000_000):
            entries = [{"Data": f"w{worker}-b{batch}-r{i}".encode(), "PartitionKey": f"{worker}-{i}"} for i in range(BATCH)]
            try:
                answer = kinesis.put_records(StreamName=STREAM, Records=entries)
            except Exception:  # the server is gone: what it answered before is the ground truth
                return
            for entry, result in zip(entries, answer["Records"]):
                if "SequenceNumber" in result:
                    self.acked.append((result["ShardId"], int(result["SequenceNumber"]), entry["Data"]))
            self.first_ack.set()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=30)


def read_everything(kinesis) -> dict[str, list[tuple[int, bytes]]]:
    found: dict[str, list[tuple[int, bytes]]] = {}
    for shard in kinesis.list_shards(StreamName=STREAM)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = found.setdefault(shard["ShardId"], [])
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            records += [(int(r["SequenceNumber"]), r["Data"]) for r in page["Records"]]
            iterator = page.get("NextShardIterator")
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
    return found


@pytest.mark.slow
def test_every_acknowledged_record_is_read_back_in_order_when_kinesis_killed_under_load(tmp_path):
    seed = random.randrange(1_000_000)
    kill_after_s = random.Random(seed).uniform(0.1, 1.0)
    data_dir, log_path = tmp_path / "kinesis", tmp_path / "kinesis.log"
    proc, url = start_kinesis(data_dir, log_path)
    try:
        client(url).create_stream(StreamName=STREAM, ShardCount=SHARDS)
        load = PutLoad(url).start()
        assert load.first_ack.wait(30), "no put was acknowledged"
        time.sleep(kill_after_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        load.join()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    proc, url = start_kinesis(data_dir, log_path)
    try:
        kinesis = client(url)
        found = read_everything(kinesis)
        after = kinesis.put_record(StreamName=STREAM, Data=b"after the restart", PartitionKey="0-0")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    context = f"seed {seed}, killed {kill_after_s:.2f} s after the first ack, {len(load.acked)} records acked"
    for shard, records in found.items():
        numbers = [number for number, _ in records]
        assert numbers == sorted(set(numbers)), f"shard {shard} reads out of order or twice ({context})"
    readable = {(shard, number, data) for shard, records in found.items() for number, data in records}
    missing = [record for record in load.acked if record not in readable]
    assert load.acked and not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:3]} ({context})"
    assert int(after["SequenceNumber"]) > max(n for n, _ in found[after["ShardId"]]), context


CALLER = CallerIdentity("000000000000", "us-east-1")


def put_keys(backend: KinesisBackend, keys: list[str]) -> None:
    backend.put_records(CALLER, [PutRecordsEntry(f"data-{k}".encode(), k) for k in keys], "s")


def keys_in_shard(backend: KinesisBackend) -> list[str]:
    stream = backend.resolve_stream(CALLER, "GetRecords", "s")
    return [r.partition_key for r in stream.shards[0].log.read(0, 10_000, 1 << 30)]


def test_corrupt_tail_is_cut_and_logged_when_a_crash_left_garbage(tmp_path, caplog):
    settings = KinesisSettings.unthrottled(data_dir=tmp_path)
    backend = open_backend(settings)
    backend.create_stream(CALLER, "s", 1)
    put_keys(backend, ["a", "b", "c"])
    backend.journal.close()
    segment = next((tmp_path / "streams").rglob("*.seg"))
    raw = bytearray(segment.read_bytes())
    raw[-1] ^= 0xFF  # record "c" is whole but its last byte is wrong
    segment.write_bytes(bytes(raw) + b"\0" * 40)  # and zeros follow, as after a machine crash
    with caplog.at_level(logging.WARNING, logger="emulator.kinesis.persistence"):
        reloaded = open_backend(settings)
    assert keys_in_shard(reloaded) == ["a", "b"]
    cut = len(raw) - len(segment.read_bytes()) + 40
    assert f"discarded {cut} bytes" in caplog.text
    put_keys(reloaded, ["d"])
    reloaded.journal.close()
    assert keys_in_shard(open_backend(settings)) == ["a", "b", "d"]


def test_records_survive_without_a_clean_close_when_fsync_is_on(tmp_path):
    settings = KinesisSettings.unthrottled(data_dir=tmp_path, fsync=True)
    backend = open_backend(settings)
    backend.create_stream(CALLER, "s", 1)
    put_keys(backend, ["a", "b"])
    # no close(): what a killed process leaves behind
    assert keys_in_shard(open_backend(settings)) == ["a", "b"]


def test_old_data_dir_is_refused_with_a_clear_message_when_its_frames_have_no_checksums(tmp_path):
    (tmp_path / "catalog.json").write_text(json.dumps({"version": 1, "streams": []}))
    with pytest.raises(ValueError, match="use a new --data-dir"):
        open_backend(KinesisSettings.unthrottled(data_dir=tmp_path))
