"""The bounded canary probe: what each tick asks the warehouse, the stages it measures, the
completion check against the producers' compact ledgers."""
import pytest

from loadtest.probe import LedgerFollower, ProbeState, format_redshift_timestamp
from streamload.core.ledger import LedgerWriter
from streamload.core.producer_summary import ProducerSummary

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
SHARD = "shardId-000000000000"


def _row(seq, produced_at, arrival, refresh=None, producer="p0"):
    """A probe result row as the Data API returns it: (producer_id, seq, produced_at, arrival[, refresh_time])."""
    row = [producer, seq, produced_at, format_redshift_timestamp(arrival)]
    return row + [format_redshift_timestamp(refresh)] if refresh is not None else row


def _acked(producer, seqs, produced_at=T0):
    return [(f"{producer}-r1-{seq}", producer, seq, SHARD, str(1000 + seq), produced_at, produced_at + 0.01)
            for seq in seqs]


def test_probe_sql_is_bounded_and_scoped_to_the_run_when_the_view_has_refresh_time():
    probe = ProbeState(run_id="r1", run_started_at=T0, sample_size=25)
    sql = probe.probe_sql("public.my_stream_vw")
    assert "FROM public.my_stream_vw" in sql
    assert "payload.run_id::varchar = 'r1'" in sql
    assert sql.endswith("LIMIT 25")
    # Before anything was seen: a minute before the run started.
    assert f"refresh_time > '{format_redshift_timestamp(T0 - 60)}'" in sql


def test_probe_sql_quotes_the_run_id_when_it_holds_a_quote():
    sql = ProbeState(run_id="o'brien", run_started_at=T0).probe_sql("mv")
    assert "payload.run_id::varchar = 'o''brien'" in sql


def test_observe_advances_the_watermark_and_stages_add_up_when_rows_have_refresh_time():
    probe = ProbeState(run_id="r1", run_started_at=T0)
    seen_at = T0 + 1.0
    stages = probe.observe([_row(0, T0, T0 + 0.01, T0 + 0.6), _row(1, T0 + 0.1, T0 + 0.15, T0 + 0.7)],
                           seen_at=seen_at)

    assert [(s.arrival, s.refresh_lag, s.visibility, s.total) for s in stages] == [
        (10_000, 590_000, 400_000, 1_000_000), (50_000, 550_000, 300_000, 900_000)]
    assert all(s.arrival + s.refresh_lag + s.visibility == s.total for s in stages)
    assert probe.watermark == pytest.approx(T0 + 0.7, abs=1e-6)
    # The next tick asks only for refreshes newer than the newest one already sampled.
    assert f"refresh_time > '{format_redshift_timestamp(T0 + 0.7)}'" in probe.probe_sql("mv")
    report = probe.to_json(expected=2)
    assert report["sampled"] == 2 and report["sampled_by"] == "refresh_time"
    assert report["stages"]["visibility"]["count"] == 2 and report["e2e_max_ms"] >= 999.0


def test_observe_keeps_the_watermark_when_a_tick_returns_older_rows():
    probe = ProbeState(run_id="r1", run_started_at=T0)
    probe.observe([_row(5, T0, T0 + 0.01, T0 + 2.0)], seen_at=T0 + 2.5)
    probe.observe([_row(1, T0, T0 + 0.01, T0 + 1.0)], seen_at=T0 + 2.6)
    assert probe.watermark == pytest.approx(T0 + 2.0, abs=1e-6)


def test_observe_skips_rows_when_produced_at_or_arrival_is_missing():
    probe = ProbeState(run_id="r1", run_started_at=T0)
    rows = [["p0", 0, None, format_redshift_timestamp(T0), format_redshift_timestamp(T0 + 1)],
            ["p0", 1, T0, None, format_redshift_timestamp(T0 + 1)]]
    assert probe.observe(rows, seen_at=T0 + 2) == []
    assert probe.sampled == 0 and probe.watermark == 0.0


def test_probe_samples_by_arrival_when_the_view_has_no_refresh_time():
    probe = ProbeState(run_id="r1", run_started_at=T0, sample_size=10, has_refresh_time=False)
    sql = probe.probe_sql("mv")
    assert "refresh_time" not in sql and "payload.run_id::varchar = 'r1'" in sql and sql.endswith("LIMIT 10")
    assert f"approximate_arrival_timestamp > '{format_redshift_timestamp(T0 - 60)}'" in sql

    (stages,) = probe.observe([_row(0, T0, T0 + 0.02)], seen_at=T0 + 1.0)
    assert (stages.arrival, stages.total) == (20_000, 1_000_000)
    assert stages.refresh_lag is None and stages.visibility is None
    assert probe.watermark == pytest.approx(T0 + 0.02, abs=1e-6)
    assert f"approximate_arrival_timestamp > '{format_redshift_timestamp(T0 + 0.02)}'" in probe.probe_sql("mv")
    assert probe.to_json(expected=1)["sampled_by"] == "approximate_arrival_timestamp"


def test_completion_counts_pending_against_the_ledgers_acked_counts_when_records_arrive(tmp_path):
    paths = [tmp_path / "ledger-p0.json", tmp_path / "ledger-p1.json"]
    for producer, path, acked in (("p0", paths[0], 5), ("p1", paths[1], 3)):
        with LedgerWriter(path, producer_id=producer, run_id="r1") as ledger:
            ledger.generated(acked + 1)
            ledger.append(_acked(producer, range(acked)))
            ledger.expired([acked])  # never acknowledged: not expected in the view
    follower = LedgerFollower(paths)
    assert follower.poll() == {"p0": 5, "p1": 3} and follower.expected == 8

    probe = ProbeState(run_id="r1", run_started_at=T0)
    sql = probe.completion_sql("mv")
    assert "payload.run_id::varchar = 'r1'" in sql and "COUNT(DISTINCT payload.seq::bigint)" in sql
    assert probe.observe_found([["p0", 4], ["p1", 1]]) == 5
    assert probe.missing(follower.expected) == 3
    assert probe.observe_found([["p0", 5], ["p1", 3]]) == 3  # counts replace, they do not add up
    assert probe.missing(follower.expected) == 0
    assert probe.to_json(follower.expected)["found"] == 8


def test_ledger_follower_counts_acks_of_a_ledger_still_being_written(tmp_path):
    path = tmp_path / "ledger-p0.json"
    follower = LedgerFollower([path])
    assert follower.poll() == {} and follower.expected == 0  # the producer has not started yet

    writer = LedgerWriter(path, producer_id="p0", run_id="r1")  # no close(): still running
    writer.generated(10)
    writer.append(_acked("p0", range(4)))
    assert follower.poll() == {"p0": 4}
    writer.append(_acked("p0", range(4, 7)))
    assert follower.poll() == {"p0": 7}
    # A write torn halfway (the producer died mid-line) is not counted.
    wal = next(tmp_path.glob("ledger-p0.json.wal.*"))
    with wal.open("ab") as fh:
        fh.write(b'{"g": 10, "a": [[7, 9]')
    assert follower.poll() == {"p0": 7}
    assert not follower.producers_done()
    writer.close()


def test_producers_done_only_when_every_producer_wrote_a_done_summary(tmp_path):
    writers = [LedgerWriter(tmp_path / f"ledger-p{i}.json", producer_id=f"p{i}", run_id="r1") for i in range(2)]
    follower = LedgerFollower([w.path for w in writers])
    writers[0].close()
    writers[0].write_summary(ProducerSummary(producer_id="p0", done=True))
    assert not follower.producers_done()
    writers[1].close()
    writers[1].write_summary(ProducerSummary(producer_id="p1", done=False))  # stopped before its duration
    assert not follower.producers_done()
    writers[1].write_summary(ProducerSummary(producer_id="p1", done=True))
    assert follower.producers_done()
    assert sorted(s.producer_id for s in follower.summaries()) == ["p0", "p1"]


def test_found_counter_gets_each_record_once_when_live_counts_precede_the_final_count():
    probe = ProbeState(run_id="r1", run_started_at=1_000.0)
    assert "refresh_time > '1970-01-01 00:15:40.000000'" in probe.live_count_sql("vw")  # a minute before the run
    assert probe.observe_live_count([[300, "2026-12-04 10:00:01.000000"]]) == 300
    assert "refresh_time > '2026-12-04 10:00:01.000000'" in probe.live_count_sql("vw")
    assert probe.observe_live_count([[0, None]]) == 0  # nothing new since: the watermark stays
    assert probe.observe_live_count([[200, "2026-12-04 10:00:02.000000"]]) == 200
    assert probe.missing(600) == 100
    # The exact distinct count at the end adds only what the live counts had not reported.
    assert probe.observe_found([["p0", 350], ["p1", 250]]) == 100
    assert probe.missing(600) == 0 and probe.reported_found == 600
