"""What a user sees: exit 3 with one line for a target that cannot take records,
``streamload_run_info`` on the metrics endpoint, a clean stop under throttling."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request

import boto3

from producer import ProducerOptions, run_producer
from producer_test_support import (LOCAL_CREDENTIALS, REGION, REPO, assert_ledger_adds_up, cli_env, create_stream,
                                   decoded_seqs, read_all_records, run_cli, seqs_of)
from streamload.core.ledger import read_ledger
from streamload.core.processes import free_port


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_cli_exits_3_naming_stream_and_region_when_region_is_wrong(local_kinesis_endpoint, local_stream):
    proc = run_cli("--stream", local_stream, "--endpoint-url", local_kinesis_endpoint, "--region", "eu-west-3",
                   "--duration", "1")
    assert proc.returncode == 3
    line = _one_error_line(proc)
    assert f"'{local_stream}' not found" in line and "eu-west-3" in line


def test_cli_exits_3_naming_the_region_when_region_name_is_invalid(local_kinesis_endpoint):
    proc = run_cli("--stream", "s", "--endpoint-url", local_kinesis_endpoint, "--region", "not a region!",
                   "--duration", "1")
    assert proc.returncode == 3
    assert "not a region!" in _one_error_line(proc)


def test_cli_exits_3_naming_the_cause_when_credentials_are_unknown(kinesis_servers):
    endpoint = kinesis_servers("emulator")  # checks signatures and keys, as AWS does
    proc = run_cli("--stream", "s", "--endpoint-url", endpoint, "--duration", "1",
                   AWS_ACCESS_KEY_ID="AKIDEXAMPLEUNKNOWN", AWS_SECRET_ACCESS_KEY="not-the-secret")
    assert proc.returncode == 3
    line = _one_error_line(proc)
    assert "UnrecognizedClientException" in line and "not-the-secret" not in line


def test_cli_signs_with_the_named_credentials_profile_when_profile_is_given(local_kinesis_endpoint, local_stream, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text("[streamload-local]\n" + "".join(f"{k} = {v}\n" for k, v in LOCAL_CREDENTIALS.items()))
    proc = run_cli("--stream", local_stream, "--endpoint-url", local_kinesis_endpoint, "--total", "5",
                   "--profile", "streamload-local", AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                   AWS_SHARED_CREDENTIALS_FILE=str(credentials))
    assert proc.returncode == 0, proc.stderr
    assert "sent=5" in proc.stdout


def test_cli_exits_2_naming_the_profile_when_credentials_profile_is_unknown(local_kinesis_endpoint):
    proc = run_cli("--stream", "s", "--endpoint-url", local_kinesis_endpoint, "--duration", "1",
                   "--profile", "streamload-no-such-profile")
    assert proc.returncode == 2
    line = _one_error_line(proc)
    assert line.startswith("producer: error:") and "streamload-no-such-profile" in line and "--profile" in line


def test_cli_exits_2_pointing_to_rate_profile_when_profile_is_given_a_rate_profile(capsys):
    from producer.cli import main

    assert main(["--stream", "s", "--profile", "ramp:100:2000:60s"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "use --rate-profile ramp:100:2000:60s" in err


def test_cli_usage_line_says_streamload_produce_when_run_as_streamload_produce(capsys):
    import pytest

    from streamload.cli import main

    with pytest.raises(SystemExit) as help_exit:
        main(["produce", "--help"])
    assert help_exit.value.code == 0 and capsys.readouterr().out.startswith("usage: streamload produce ")
    with pytest.raises(SystemExit) as usage_exit:
        main(["produce", "--rate", "x"])
    assert usage_exit.value.code == 2
    assert capsys.readouterr().err.startswith("streamload produce: error: argument --rate")


def test_metrics_endpoint_exports_run_info_with_the_run_files_run_id(tmp_path):
    run_file = tmp_path / "run-plan.json"
    run_file.write_text(json.dumps({"run_id": "20250101T000000-abc123", "started_at": 0, "config": {}}))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "producer", "--sink", f"file:{tmp_path / 'out.jsonl'}",
                             "--producer-id", "p3", "--rate", "50", "--duration", "60", "--metrics-port", str(port)],
                            cwd=REPO, env=cli_env(STREAMLOAD_RUN_FILE=str(run_file)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    body = ""
    try:
        deadline = time.monotonic() + 30
        while "streamload_run_info{" not in body:
            assert time.monotonic() < deadline and proc.poll() is None, "metrics never served"
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    info = [line for line in body.splitlines() if line.startswith("streamload_run_info{")]
    assert len(info) == 1
    assert 'run_id="20250101T000000-abc123"' in info[0] and 'producer_id="p3"' in info[0]
    assert 'streamload_producer_records_total{outcome="sent"}' in body


def test_run_accounts_for_every_record_when_stopped_while_records_wait_for_shard_quota(kinesis_servers, tmp_path):
    endpoint = kinesis_servers("emulator")  # throttling on
    stream = create_stream(endpoint, shards=1)
    ledger = tmp_path / "ledger.json"

    async def scenario():
        stop = asyncio.Event()

        async def stop_after_3000(tally, target_rate, stopped):  # like SIGTERM, once a second's worth is out
            while tally.generated < 3000 and not stopped.is_set():
                await asyncio.sleep(0.01)
            stop.set()

        opts = ProducerOptions(stream_name=stream, endpoint_url=endpoint, region=REGION, rate=3000, duration_s=60,
                               record_ttl_s=1.5, seed=1, ledger_path=ledger, **LOCAL_CREDENTIALS)
        return await run_producer(opts, stop=stop, watch=stop_after_3000)

    result = asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    # Three times what the shard takes: some records waited past their TTL and expired.
    assert 3000 <= result.generated < 9000
    assert result.sent + result.expired + result.rejected == result.generated
    assert result.expired > 0 and result.sent > 500 and result.throttled <= result.generated // 100
    assert_ledger_adds_up(read_ledger(ledger), result)
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name=REGION, **LOCAL_CREDENTIALS)
    in_stream = decoded_seqs(read_all_records(client, stream))
    # Exactly the acknowledged records are in the stream, once each; no expired one got in.
    assert sorted(in_stream) == sorted(seqs_of(read_ledger(ledger).acked))
    summary = json.loads(ledger.with_name("ledger.json.summary.json").read_text())
    assert summary["done"] and summary["expired"] == result.expired


def test_progress_line_shows_rates_late_throttles_and_in_flight_when_drawn_on_a_terminal(tmp_path):
    import io

    from rich.console import Console

    from producer.progress import ProgressLine

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200)
    seen = []

    async def watch(tally, target_rate, stopped):
        await ProgressLine(tally, target_rate, console=console, interval_s=0.05).run(stopped)
        seen.append(target_rate())

    opts = ProducerOptions(stream_name="", sink=f"file:{tmp_path / 'out.jsonl'}", rate=400, total=200,
                           duration_s=10, seed=1)
    result = asyncio.run(asyncio.wait_for(run_producer(opts, watch=watch), timeout=20))
    assert result.sent == 200 and seen == [400]
    drawn = screen.getvalue()
    for part in ("sent ", "/s", "target 400/s", "late ", "throttled ", "in flight "):
        assert part in drawn, drawn[-300:]
