"""The probe's bookkeeping: first sighting, re-reads, duplicates, completion."""
import json
import time

from loadtest.probe import LedgerFollower, ProbeState, format_redshift_timestamp, parse_redshift_timestamp


def _row(event_id, produced_at, arrival):
    return [json.dumps(event_id), str(produced_at), format_redshift_timestamp(arrival)]


def test_observe_counts_each_record_once_when_windows_overlap():
    now = time.time()
    probe = ProbeState(run_started_at=now - 10, slack_s=5)
    first = probe.observe([_row("a", now - 2, now - 1.9), _row("b", now - 1, now - 0.9)], seen_at=now)
    again = probe.observe([_row("b", now - 1, now - 0.9), _row("c", now - 0.5, now - 0.4)], seen_at=now + 1)

    assert sorted(round(s.total / 1e6, 3) for s in first) == [1.0, 2.0]
    assert [round(s.total / 1e6, 3) for s in again] == [1.5]
    assert probe.duplicates == 0
    assert probe.e2e.get_total_count() == 3
    assert abs(probe.e2e.get_value_at_percentile(100) / 1e6 - 2.0) < 0.01


def test_observe_reports_duplicates_when_a_record_appears_twice_in_one_result():
    now = time.time()
    probe = ProbeState(run_started_at=now - 10)
    probe.observe([_row("a", now - 1, now), _row("a", now - 1, now)], seen_at=now)
    assert probe.duplicates == 1


def test_observe_ignores_rows_when_produced_before_the_run():
    now = time.time()
    probe = ProbeState(run_started_at=now)
    assert probe.observe([_row("old", now - 3600, now - 3600)], seen_at=now) == []
    assert probe.first_seen == {}


def test_probe_sql_reads_back_slack_when_arrivals_seen():
    probe = ProbeState(run_started_at=0, slack_s=10)
    assert "WHERE" not in probe.probe_sql("mv")
    probe.newest_arrival = parse_redshift_timestamp("2026-01-01 00:00:30.000000")
    assert probe.probe_sql("mv").endswith("WHERE approximate_arrival_timestamp >= '2026-01-01 00:00:20.000000'")


def test_ledger_follower_reads_only_whole_lines_when_file_grows(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text('{"event_id": "a", "produced_at": 1.0}\n{"event_id": "b", "produ')
    follower = LedgerFollower([ledger])
    follower.poll()
    assert follower.expected == {"a": 1.0}
    with ledger.open("a") as fh:
        fh.write('ced_at": 2.0}\n')
    follower.poll()
    assert follower.expected == {"a": 1.0, "b": 2.0}
    assert not follower.producers_done()
    (tmp_path / "ledger.jsonl.summary.json").write_text('{"done": true}')
    assert follower.producers_done()
