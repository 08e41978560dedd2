"""``--processes N``: disjoint ids, exact share of the schedule, merged totals, clean stop."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from producer.cli import build_parser
from producer.processes import argv_for, child_ids, merged_exit_code, per_process_path
from producer_test_support import REPO, cli_env
from streamload.core.ledger import read_ledger
from streamload.core.seqranges import SeqRanges
from tests.support.signals import terminate_when


def _acked(ledger_path: Path) -> int:
    """Acknowledged records so far in a running producer's ledger (0 before it starts one)."""
    ledger = read_ledger(ledger_path)
    return ledger.acked.count if ledger is not None else 0


def test_child_ids_are_disjoint_and_numbered_on_from_the_base_id():
    assert child_ids("p0", 3) == ["p0", "p1", "p2"]
    assert child_ids("east7", 2) == ["east7", "east8"]
    assert child_ids("loader", 2) == ["loader0", "loader1"]


def test_per_process_path_keeps_folder_and_suffix():
    assert per_process_path(Path("out/ledger.json"), "p1") == Path("out/ledger.p1.json")


def test_argv_for_reproduces_the_flags_with_overrides_when_reparsed():
    parser = build_parser()
    args = parser.parse_args(["--stream", "s", "--rate-profile", "ramp:1:2:3s", "--no-shard-limit", "--processes", "3",
                              "--seed", "5", "--progress"])
    again = parser.parse_args(argv_for(parser, args, processes=None, producer_id="p2", share="2/3", child=True,
                                       progress=None))
    assert (again.stream, again.rate_profile, again.shard_limit, again.seed) == ("s", "ramp:1:2:3s", False, 5)
    assert (again.processes, again.producer_id, again.share, again.child, again.progress) == (1, "p2", (2, 3), True, None)


def test_merged_exit_code_reports_the_most_telling_failure():
    assert merged_exit_code([0, 0]) == 0
    assert merged_exit_code([0, 1]) == 1
    assert merged_exit_code([1, 2, 0]) == 2
    assert merged_exit_code([2, 3]) == 3


def test_processes_share_the_schedule_and_merge_totals_when_run_with_a_file_sink(tmp_path):
    out, ledger = tmp_path / "out.jsonl", tmp_path / "ledger.json"
    proc = subprocess.run([sys.executable, "-m", "producer", "--processes", "2", "--sink", f"file:{out}",
                           "--rate", "600", "--total", "301", "--seed", "5", "--ledger", str(ledger)],
                          cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    assert "producer p0..p1 (2 processes): generated=301 sent=301 expired=0 rejected=0" in proc.stdout
    docs = {pid: [orjson.loads(line) for line in per_process_path(out, pid).read_bytes().splitlines()]
            for pid in ("p0", "p1")}
    assert [len(docs["p0"]), len(docs["p1"])] == [151, 150]
    assert {d["producer_id"] for d in docs["p1"]} == {"p1"}
    # They start together and interleave: exactly the single schedule, one record every 1/600 s.
    times = sorted(d["produced_at"] for pid in docs for d in docs[pid])
    assert [b - a for a, b in zip(times, times[1:])] == pytest.approx([1 / 600] * 300, abs=1e-5)
    merged = json.loads(ledger.with_name("ledger.json.summary.json").read_text())
    assert (merged["generated"], merged["sent"], merged["processes"]) == (301, 301, 2)
    assert merged["ledgers"] == [str(per_process_path(ledger, "p0")), str(per_process_path(ledger, "p1"))]
    # Each child's ledger holds its own records, every one written to its file.
    for pid, count in (("p0", 151), ("p1", 150)):
        child = read_ledger(per_process_path(ledger, pid))
        assert (child.producer_id, child.generated, child.acked) == (pid, count, SeqRanges([(0, count - 1)]))
        assert sorted(d["seq"] for d in docs[pid]) == list(range(count))


def test_processes_flush_and_merge_when_parent_gets_sigterm_mid_run(local_kinesis_endpoint, local_stream, tmp_path):
    ledger = tmp_path / "ledger.json"
    proc = subprocess.Popen([sys.executable, "-m", "producer", "--processes", "2", "--stream", local_stream,
                             "--endpoint-url", local_kinesis_endpoint, "--rate", "300", "--duration", "60",
                             "--ledger", str(ledger)], cwd=REPO, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    children = [per_process_path(ledger, pid) for pid in ("p0", "p1")]
    # Once both children have records in the stream.
    out, err = terminate_when(proc, lambda: all(_acked(p) > 0 for p in children), within_s=30, grace_s=30)
    assert proc.returncode == 0, err
    merged = json.loads(ledger.with_name("ledger.json.summary.json").read_text())
    assert 0 < merged["generated"] < 18_000 and merged["processes"] == 2
    assert merged["sent"] + merged["expired"] + merged["rejected"] == merged["generated"]
    for path in children:
        summary = json.loads(path.with_name(path.name + ".summary.json").read_text())
        child = read_ledger(path)
        assert summary["done"] and child.done and child.unknown.count == 0
        assert (child.generated, child.acked.count, child.expired.count) == (
            summary["generated"], summary["sent"], summary["expired"])
    assert sum(read_ledger(p).acked.count for p in children) == merged["sent"]
    assert "(2 processes)" in out
