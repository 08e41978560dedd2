"""File and stdout sinks: demo data without AWS, same schedule and accounting."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import orjson

from producer import ProducerOptions, run_producer
from producer.cli import main
from streamload.core.ledger import read_ledger
from streamload.core.seqranges import SeqRanges

REPO = Path(__file__).resolve().parents[2]


def test_file_sink_writes_every_record_as_one_json_line_when_run_without_kinesis(tmp_path):
    out = tmp_path / "data" / "out.jsonl"
    opts = ProducerOptions(stream_name="", sink=f"file:{out}", rate=1000, total=150, duration_s=10,
                           producer_id="demo", seed=1, ledger_path=tmp_path / "ledger.json")
    result = asyncio.run(asyncio.wait_for(run_producer(opts), timeout=20))
    assert (result.generated, result.sent, result.expired, result.rejected) == (150, 150, 0, 0)
    assert result.sink == f"file:{out}"
    docs = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert sorted(d["seq"] for d in docs) == list(range(150))
    assert {d["producer_id"] for d in docs} == {"demo"} and len({d["event_id"] for d in docs}) == 150
    assert {d["run_id"] for d in docs} == {result.run_id}
    ledger = read_ledger(tmp_path / "ledger.json")  # what the file holds is what the ledger claims written
    assert (ledger.producer_id, ledger.acked, ledger.unknown.count) == ("demo", SeqRanges([(0, 149)]), 0)


def _cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "producer", *args], cwd=REPO, capture_output=True,
                          timeout=timeout)


def test_stdout_sink_prints_only_records_on_stdout_and_the_summary_on_stderr():
    proc = _cli("--sink", "stdout", "--rate", "2000", "--total", "50", "--seed", "4")
    assert proc.returncode == 0, proc.stderr
    docs = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert [d["seq"] for d in docs] == list(range(50))
    assert "generated=50 sent=50 expired=0 rejected=0" in proc.stderr.decode()


def test_cli_exits_2_with_one_line_when_sink_is_bad_or_stream_missing(capsys):
    for args, expected in ((["--sink", "s3://bucket"], "bad sink 's3://bucket'"),
                           (["--rate", "5"], "--stream is required"),
                           (["--sink", "stdout", "--processes", "2"], "--sink stdout cannot be shared")):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, err
