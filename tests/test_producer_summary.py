"""The producer summary (``<ledger>.summary.json``, streamload.core.producer_summary): the file a
producer writes is the file every reader reads, older files still read, a broken one says so in
one line."""
from __future__ import annotations

import json

import pytest

from producer.result import ProducerResult
from streamload.audit import read_ledgers
from streamload.core.errors import UsageError
from streamload.core.ledger import LedgerWriter
from streamload.core.producer_summary import ProducerSummary, read_summary, summary_path_for, write_summary

# What a producer wrote before the summary was a pydantic model (the ProducerResult dataclass).
DATACLASS_ERA_SUMMARY = {
    "producer_id": "p0", "generated": 10, "sent": 8, "expired": 1, "rejected": 1, "late": 2,
    "target_rate": 5.0, "achieved_rate": 4.0, "duration_s": 2.5, "done": True, "retried": 3,
    "throttled": 4, "shard_limited": 0, "shards": 2, "rejected_reasons": {"too big": 1},
    "run_id": "r1", "started_at": 1700000000.0, "window_s": 2.0, "profile": "constant:5",
    "sink": "kinesis", "processes": 1, "error": None,
}


def test_summary_file_keeps_the_dataclass_keys_when_a_producer_writes_it(tmp_path):
    path = tmp_path / "ledger.json.summary.json"
    write_summary(path, ProducerResult.model_validate(DATACLASS_ERA_SUMMARY))
    assert json.loads(path.read_text()) == DATACLASS_ERA_SUMMARY


def test_read_summary_ignores_unknown_keys_and_defaults_missing_counts_when_the_file_is_older(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"producer_id": "p3", "generated": 5, "sent": 5, "from_a_newer_producer": 1}))
    summary = read_summary(path)
    assert (summary.producer_id, summary.sent, summary.throttled, summary.rejected_reasons) == ("p3", 5, 0, {})


def test_read_summary_is_none_when_missing_and_raises_one_line_error_when_not_a_summary(tmp_path):
    assert read_summary(tmp_path / "never-written.json") is None
    for text, why in (("{not json", "not JSON"), ("[1, 2]", "a JSON list"), ('{"sent": "many"}', "sent:")):
        (tmp_path / "bad.json").write_text(text)
        with pytest.raises(UsageError) as caught:
            read_summary(tmp_path / "bad.json")
        assert str(caught.value).startswith(f"{tmp_path / 'bad.json'}: not a producer summary")
        assert why in str(caught.value) and "\n" not in str(caught.value)


def test_merged_summary_adds_counts_and_lists_ledgers_when_processes_ran_side_by_side(tmp_path):
    one = ProducerResult.model_validate(DATACLASS_ERA_SUMMARY)
    two = ProducerResult.model_validate({**DATACLASS_ERA_SUMMARY, "producer_id": "p1", "error": "boom"})
    merged = ProducerResult.merge("p0..p1", [one, two])
    merged.ledgers = ["ledger.p0.json", "ledger.p1.json"]
    write_summary(tmp_path / "merged.json", merged)
    back = read_summary(tmp_path / "merged.json")
    assert (back.generated, back.throttled, back.processes, back.error) == (20, 8, 2, "boom")
    assert back.rejected_reasons == {"too big": 2} and back.ledgers == ["ledger.p0.json", "ledger.p1.json"]
    assert "ledgers" not in one.to_json()


def test_audit_reads_each_ledgers_summary_as_the_producer_wrote_it_when_both_exist(tmp_path):
    path = tmp_path / "ledger-p0.json"
    with LedgerWriter(path, producer_id="p0", run_id="r1") as writer:
        writer.generated(10)
    writer.write_summary(ProducerResult.model_validate(DATACLASS_ERA_SUMMARY))
    ledgers = read_ledgers([path, tmp_path / "ledger-p9.json"])
    assert ledgers.summaries == [ProducerSummary.model_validate(DATACLASS_ERA_SUMMARY)]
    assert (ledgers.total("sent"), ledgers.missing) == (8, [str(tmp_path / "ledger-p9.json")])
    assert summary_path_for(path).name == "ledger-p0.json.summary.json"
