"""Real round trips over loopback HTTP: run_producer and `python -m producer` against a
Kinesis server (our emulator and moto), then read the stream back."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import orjson

from producer import ProducerOptions, run_producer
from producer_test_support import (LOCAL_CREDENTIALS, REGION, REPO, assert_ledger_adds_up, cli_env, decoded_seqs,
                                   read_all_records, run_cli, seqs_of)
from streamload.core.ledger import read_ledger
from streamload.core.processes import free_port
from streamload.core.seqranges import SeqRanges
from tests.support.signals import terminate_when


def test_every_ledger_record_is_in_the_stream_when_run_against_a_kinesis_server(
        kinesis_endpoint, kinesis_client, stream, tmp_path):
    opts = ProducerOptions(stream_name=stream, endpoint_url=kinesis_endpoint, region=REGION,
                           rate=300, total=150, duration_s=10, producer_id="rt", seed=4,
                           ledger_path=tmp_path / "ledger.json", **{
                               "aws_access_key_id": LOCAL_CREDENTIALS["aws_access_key_id"],
                               "aws_secret_access_key": LOCAL_CREDENTIALS["aws_secret_access_key"]})
    result = asyncio.run(asyncio.wait_for(run_producer(opts), timeout=20))
    assert (result.generated, result.sent, result.expired, result.rejected) == (150, 150, 0, 0)

    ledger = read_ledger(tmp_path / "ledger.json")
    assert_ledger_adds_up(ledger, result)
    stored = read_all_records(kinesis_client, stream)
    # Every acknowledged seq is in the stream exactly once, and nothing else is.
    assert sorted(decoded_seqs(stored)) == sorted(seqs_of(ledger.acked)) == list(range(150))
    for record in stored:
        payload = orjson.loads(record["Data"])
        assert (payload["producer_id"], payload["run_id"]) == ("rt", result.run_id)
        assert payload["event_id"] == f"rt-{result.run_id}-{payload['seq']}" == record["PartitionKey"]
    # Per shard, the ledger's count and first/last sequence numbers are what the shard holds.
    in_shards: dict[str, list[int]] = {}
    for record in stored:
        in_shards.setdefault(record["ShardId"], []).append(int(record["SequenceNumber"]))
    claimed = {shard: (known["acked"], int(known["first"]), int(known["last"])) for shard, known in ledger.shards.items()}
    assert claimed == {shard: (len(numbers), min(numbers), max(numbers)) for shard, numbers in in_shards.items()}
    assert len(in_shards) == 2  # random partition keys spread over shards


def test_cli_prints_one_line_summary_and_exits_0_when_stream_exists(local_kinesis_endpoint, local_stream, tmp_path):
    ledger = tmp_path / "out" / "ledger.json"
    proc = run_cli("--stream", local_stream, "--endpoint-url", local_kinesis_endpoint, "--rate", "100",
                    "--duration", "1", "--ledger", str(ledger), "--metrics-port", "0")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "generated=100 sent=100 expired=0 rejected=0" in lines[0]
    summary = json.loads(ledger.with_name("ledger.json.summary.json").read_text())
    assert (summary["sent"], summary["done"]) == (100, True)
    assert read_ledger(ledger).acked == SeqRanges([(0, 99)])


def test_cli_exits_3_with_one_line_naming_the_stream_when_stream_unknown(local_kinesis_endpoint):
    proc = run_cli("--stream", "no-such-stream", "--endpoint-url", local_kinesis_endpoint, "--duration", "1")
    assert proc.returncode == 3
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "'no-such-stream' not found" in proc.stderr


def test_cli_exits_3_with_one_line_when_endpoint_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    proc = run_cli("--stream", "s", "--endpoint-url", url, "--duration", "1")
    assert proc.returncode == 3
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "cannot reach Kinesis" in proc.stderr and url in proc.stderr


def test_cli_exits_with_one_line_error_when_region_or_credentials_missing(local_kinesis_endpoint):
    no_region = run_cli("--stream", "s", "--endpoint-url", local_kinesis_endpoint, AWS_DEFAULT_REGION=None)
    assert no_region.returncode == 2
    assert no_region.stderr.strip() == "producer: error: no AWS region: pass --region or set AWS_DEFAULT_REGION"
    no_keys = run_cli("--stream", "s", "--endpoint-url", local_kinesis_endpoint,
                       AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert no_keys.returncode == 3
    assert len(no_keys.stderr.strip().splitlines()) == 1 and "credentials" in no_keys.stderr


def test_cli_exits_2_with_one_line_when_flags_are_bad():
    for args in (["--rate", "fast", "--stream", "s"], ["--stream", "s", "--rate", "-5"], ["--bogus"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, args
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith("producer: error:")


def test_cli_flushes_and_writes_summary_when_sent_sigterm(local_kinesis_endpoint, local_stream, tmp_path):
    ledger = tmp_path / "ledger.json"
    proc = subprocess.Popen([sys.executable, "-m", "producer", "--stream", local_stream, "--endpoint-url",
                             local_kinesis_endpoint, "--rate", "200", "--duration", "60", "--ledger", str(ledger)],
                            cwd=REPO, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Once records are in the stream.
    out, err = terminate_when(proc, lambda: ledger.exists() and read_ledger(ledger).acked.count > 0,
                              within_s=60, grace_s=10)
    assert proc.returncode == 0, err
    summary = json.loads(ledger.with_name("ledger.json.summary.json").read_text())
    assert summary["done"] is True and 0 < summary["generated"] < 12_000
    # Stopped gracefully: every generated record was flushed and acknowledged, none left unknown.
    flushed = read_ledger(ledger)
    assert flushed.done and summary["sent"] == summary["generated"] == flushed.generated
    assert flushed.acked == SeqRanges([(0, flushed.generated - 1)])
    assert out.count("\n") == 1
