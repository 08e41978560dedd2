"""The compact ledger (streamload.core.ledger) and its seq ranges (streamload.core.seqranges):
ranges merge and count right, a producer killed without closing its ledger still has every
acknowledgement it recorded, and every generated seq is acked, expired, rejected or unknown."""
from __future__ import annotations

import orjson
import pytest

from streamload.core.ledger import LedgerWriter, read_ledger
from streamload.core.producer_summary import summary_path_for
from streamload.core.seqranges import SeqRanges

SHARD = "shardId-000000000000"


class SteppingClock:
    """Wall clock for the writer: each call returns ``step`` seconds later than the one before."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1_700_000_000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _acks(seqs, shard: str = SHARD, sequence_base: int = 1000, acked_at: float = 1_700_000_000.5):
    """Ledger entries for acknowledged seqs (the Kinesis sequence number grows with the seq)."""
    return [(f"p0-r-{seq}", "p0", seq, shard, str(sequence_base + seq), acked_at - 0.25, acked_at) for seq in seqs]


def _wal_files(path):
    return sorted(path.parent.glob(path.name + ".wal.*"))


def _read_as_if_killed(writer: LedgerWriter):
    """What a reader finds after SIGKILL: read while the writer is still open (never closed: no
    final snapshot, no ``done``), then let go of its WAL file without writing anything more."""
    ledger = read_ledger(writer.path)
    if writer._wal is not None:  # every append/expired/rejected flushed already: nothing buffered
        writer._wal.close()
        writer._wal = None
    return ledger


# --- SeqRanges -----------------------------------------------------------------------------

def test_seqranges_merge_into_one_range_when_values_arrive_out_of_order():
    ranges = SeqRanges()
    for value in (5, 3, 4, 0, 1, 2, 9):
        ranges.add(value)
    assert ranges.to_json() == [[0, 5], [9, 9]]
    assert (len(ranges), ranges.count) == (2, 7)  # len() counts ranges, .count counts values
    assert 4 in ranges and 6 not in ranges and 9 in ranges and 10 not in ranges


def test_seqranges_merge_overlapping_and_adjacent_ranges_when_a_range_bridges_them():
    ranges = SeqRanges([(0, 2), (6, 8), (12, 14), (20, 20)])
    ranges.add(3, 12)  # touches 0..2 (adjacent), swallows 6..8, overlaps 12..14
    assert list(ranges) == [(0, 14), (20, 20)]
    ranges.add(16, 15)  # empty: last < first
    assert ranges == SeqRanges([(0, 14), (20, 20)])


def test_seqranges_add_all_keeps_one_range_per_consecutive_run_when_values_repeat():
    ranges = SeqRanges()
    ranges.add_all([7, 1, 2, 2, 3, 9, 8, 20])
    assert ranges.to_json() == [[1, 3], [7, 9], [20, 20]] and ranges.count == 7


def test_seqranges_intersection_is_the_part_inside_the_bounds():
    ranges = SeqRanges([(0, 9), (20, 29), (40, 49)])
    assert ranges.intersection(5, 24).to_json() == [[5, 9], [20, 24]]
    assert ranges.intersection(10, 19).count == 0
    assert ranges.intersection(0, 100) == ranges


def test_seqranges_equal_after_json_round_trip_and_update_is_a_union():
    ranges = SeqRanges([(0, 3), (10, 12)])
    assert SeqRanges.from_json(orjson.loads(orjson.dumps(ranges.to_json()))) == ranges
    assert SeqRanges.from_json(None).count == 0
    ranges.update(SeqRanges([(4, 9), (11, 15)]))
    assert ranges.to_json() == [[0, 15]]


# --- LedgerWriter / read_ledger ------------------------------------------------------------

def test_closed_ledger_holds_every_outcome_and_is_done_when_written_in_batches(tmp_path):
    path = tmp_path / "ledger-p0.json"
    with LedgerWriter(path, producer_id="p0", run_id="r") as writer:
        writer.generated(10)
        writer.append(_acks([0, 1, 2]))
        writer.append(_acks([4, 3]))
        writer.expired([5, 6])
        writer.rejected([8], "oversize")
        writer.append(_acks([7, 9]))
    ledger = read_ledger(path)
    assert (ledger.producer_id, ledger.run_id, ledger.generated, ledger.done) == ("p0", "r", 10, True)
    assert ledger.acked == SeqRanges([(0, 4), (7, 7), (9, 9)])
    assert (ledger.expired, ledger.rejected) == (SeqRanges([(5, 6)]), {"oversize": SeqRanges([(8, 8)])})
    assert ledger.unknown.count == 0
    assert ledger.shards == {SHARD: {"acked": 7, "first": "1000", "last": "1009"}}
    assert ledger.put.get_total_count() == 7 and sum(ledger.acked_per_second.values()) == 7
    assert _wal_files(path) == []  # closed: everything is in the snapshot


def test_unknown_is_every_generated_seq_without_an_outcome_when_records_were_in_flight(tmp_path):
    path = tmp_path / "ledger.json"
    writer = LedgerWriter(path, producer_id="p0", run_id="r")
    writer.generated(12)
    writer.append(_acks(range(0, 4)))
    writer.expired([5, 6])
    writer.rejected([8], "oversize")
    writer.rejected([9], "partition_key_missing")
    ledger = _read_as_if_killed(writer)
    assert ledger.unknown == SeqRanges([(4, 4), (7, 7), (10, 11)])
    total = ledger.acked.count + ledger.expired.count + sum(r.count for r in ledger.rejected.values())
    assert total + ledger.unknown.count == ledger.generated == 12
    assert set(ledger.rejected) == {"oversize", "partition_key_missing"}


def test_unknown_is_empty_when_nothing_was_generated(tmp_path):
    with LedgerWriter(tmp_path / "ledger.json") as writer:
        pass
    ledger = read_ledger(writer.path)
    assert (ledger.generated, ledger.unknown.count, ledger.acked.count) == (0, 0, 0)


@pytest.mark.parametrize("snapshot_every_s", [3600.0, 0.0], ids=["wal-only", "snapshot-each-write"])
def test_reader_has_every_appended_ack_when_writer_is_killed_without_close(tmp_path, snapshot_every_s):
    path = tmp_path / "ledger.json"
    writer = LedgerWriter(path, producer_id="p0", run_id="r", clock=SteppingClock(0.5),
                          snapshot_every_s=snapshot_every_s)
    acked, expired = SeqRanges(), SeqRanges()
    for first in range(0, 500, 50):
        writer.generated(first + 50)
        writer.append(_acks(range(first, first + 50, 2)))  # even seqs acknowledged...
        writer.expired(range(first + 1, first + 50, 4))  # ...some odd ones expired
        acked.add_all(range(first, first + 50, 2))
        expired.add_all(range(first + 1, first + 50, 4))
    ledger = _read_as_if_killed(writer)
    assert not ledger.done and ledger.generated == 500
    assert (ledger.acked, ledger.expired) == (acked, expired)
    assert ledger.unknown.count == 500 - 250 - expired.count and not any(seq in ledger.unknown for seq in (0, 1, 498))
    assert ledger.shards[SHARD] == {"acked": 250, "first": "1000", "last": "1498"}


def test_reader_ignores_a_torn_last_wal_line_and_keeps_every_whole_one(tmp_path):
    path = tmp_path / "ledger.json"
    writer = LedgerWriter(path, producer_id="p0", run_id="r")
    writer.generated(30)
    writer.append(_acks(range(0, 10)))
    writer.append(_acks(range(10, 20)))
    [wal] = _wal_files(path)
    whole = orjson.dumps({"g": 30, "a": [[20, 29]], "s": {SHARD: [30, "1000", "1029"]}})
    with wal.open("ab") as fh:
        fh.write(whole[: len(whole) // 2])  # killed mid-write: no newline
    ledger = _read_as_if_killed(writer)
    assert ledger.acked == SeqRanges([(0, 19)]) and ledger.unknown == SeqRanges([(20, 29)])
    assert ledger.shards[SHARD]["acked"] == 20


def test_replaying_the_wal_twice_changes_nothing_when_a_line_is_duplicated(tmp_path):
    path = tmp_path / "ledger.json"
    writer = LedgerWriter(path, producer_id="p0", run_id="r")
    writer.generated(10)
    writer.append(_acks(range(0, 10)))
    writer.rejected([3], "oversize")  # overlapping outcomes are not dropped by the ledger
    [wal] = _wal_files(path)
    wal.write_bytes(wal.read_bytes() * 2)
    ledger = _read_as_if_killed(writer)
    assert ledger.acked == SeqRanges([(0, 9)]) and ledger.shards[SHARD]["acked"] == 10
    assert ledger.rejected == {"oversize": SeqRanges([(3, 3)])}


def test_shard_first_and_last_follow_numeric_order_when_sequence_numbers_differ_in_length(tmp_path):
    with LedgerWriter(tmp_path / "ledger.json") as writer:
        writer.generated(3)
        writer.append([("e0", "p0", 0, SHARD, "99", 0.0, 1.0), ("e1", "p0", 1, SHARD, "100", 0.0, 1.0)])
        writer.append([("e2", "p0", 2, SHARD, "9", 0.0, 1.0)])
    assert read_ledger(writer.path).shards[SHARD] == {"acked": 3, "first": "9", "last": "100"}


def test_new_writer_replaces_an_old_ledger_and_its_summary_when_the_path_is_reused(tmp_path):
    path = tmp_path / "ledger.json"
    old = LedgerWriter(path, producer_id="p0", run_id="old")
    old.generated(5)
    old.append(_acks(range(5)))
    assert _read_as_if_killed(old).acked.count == 5
    summary_path_for(path).write_text('{"done": true}')
    with LedgerWriter(path, producer_id="p0", run_id="new") as writer:
        writer.generated(1)
    ledger = read_ledger(path)
    assert (ledger.run_id, ledger.generated, ledger.acked.count) == ("new", 1, 0)
    assert not summary_path_for(path).exists() and _wal_files(path) == []


def test_read_ledger_is_none_when_missing_and_raises_one_line_error_when_not_a_ledger(tmp_path):
    assert read_ledger(tmp_path / "never-written.json") is None
    jsonl = tmp_path / "ledger.jsonl"
    jsonl.write_text('{"event_id": "p0-r-0", "seq": 0}\n{"event_id": "p0-r-1", "seq": 1}\n')
    with pytest.raises(ValueError, match="not a ledger"):
        read_ledger(jsonl)
    old_format = tmp_path / "old.json"
    old_format.write_text('{"format": "streamload-ledger/1"}')
    with pytest.raises(ValueError, match="streamload-ledger/2"):
        read_ledger(old_format)
