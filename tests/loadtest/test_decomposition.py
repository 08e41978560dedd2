"""E2E decomposition per record from a synthetic ledger and view rows, and histogram merging."""
import json
import random

import pytest

from loadtest.decomposition import STAGES, StageHistograms, decompose, merge_stage_json
from loadtest.probe import LedgerFollower, ProbeState, format_redshift_timestamp

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _synthetic(n: int, seed: int = 3):
    """n records and the refreshes that ingested them: records are
    (event_id, produced, acked, arrival, refresh_end, seen), all epoch seconds; a refresh
    ends every 0.5 s and is credited with what arrived before it ended."""
    rng = random.Random(seed)
    refresh_ends = [T0 + 0.5 * i + 0.2 for i in range(1, 40)]
    out = []
    for i in range(n):
        produced = T0 + i * 0.013 + rng.random() * 1e-3
        arrival = produced + rng.uniform(0.001, 0.05)
        acked = arrival + rng.uniform(0.0005, 0.02)
        refresh = next(end for end in refresh_ends if end >= arrival)
        seen = refresh + rng.uniform(0.01, 0.6)
        out.append((f"e{i}", produced, acked, arrival, refresh, seen))
    return out, refresh_ends


def test_chain_stages_sum_to_total_for_every_record_when_read_from_ledger_and_view(tmp_path):
    records, refresh_ends = _synthetic(200)
    ledger = tmp_path / "ledger-p0.jsonl"
    ledger.write_text("".join(json.dumps({"event_id": e, "produced_at": p, "acked_at": a}) + "\n"
                              for e, p, a, *_ in records))
    follower = LedgerFollower([ledger])
    probe = ProbeState(run_started_at=T0)

    puts = probe.observe_ledger(follower.poll())
    first_seen, complete = [], []
    for event_id, produced, _acked, arrival, _refresh, seen_at in records:
        row = [json.dumps(event_id), repr(produced), format_redshift_timestamp(arrival)]
        first_seen += probe.observe([row], seen_at=seen_at)
        # The probe then reads the refreshes that had finished by the time it looked.
        history = [[format_redshift_timestamp(end)] for end in refresh_ends if end <= seen_at]
        complete += probe.observe_refreshes(history)

    assert len(first_seen) == len(complete) == len(puts) == 200
    assert probe.pending_refresh == []
    for stages, (_e, produced, _a, _arrival, refresh, _seen) in zip(complete, records):
        assert stages.arrival + stages.refresh_lag + stages.visibility == stages.total
        assert min(stages.arrival, stages.refresh_lag, stages.visibility) > 0
        # credited to the refresh that ingested it
        assert stages.arrival + stages.refresh_lag == round(refresh * 1e6) - round(produced * 1e6)
    assert [s.total for s in first_seen] == [s.total for s in complete]
    # put comes from the ledger: acked_at - produced_at, to the microsecond.
    expected_puts = sorted(round(a * 1e6) - round(p * 1e6) for _e, p, a, *_ in records)
    assert sorted(puts) == expected_puts
    summary = probe.stages.to_json()
    assert {name: summary[name]["count"] for name in STAGES} == {name: 200 for name in STAGES}
    assert all(summary[name]["negative"] == 0 for name in STAGES)
    assert summary["total"]["p50_ms"] <= summary["total"]["p99_ms"]


def test_records_wait_for_their_refresh_when_the_history_lags():
    probe = ProbeState(run_started_at=T0)
    probe.observe([[json.dumps("a"), repr(T0), format_redshift_timestamp(T0 + 0.01)]], seen_at=T0 + 1.0)
    assert probe.observe_refreshes([]) == [] and len(probe.pending_refresh) == 1
    # A refresh that ended before the record arrived cannot have ingested it.
    assert probe.observe_refreshes([[format_redshift_timestamp(T0 + 0.005)]]) == []
    (stages,) = probe.observe_refreshes([[format_redshift_timestamp(T0 + 0.6)]])
    assert (stages.arrival, stages.refresh_lag, stages.visibility) == (10_000, 590_000, 400_000)
    assert "end_time > '2026-01-01 00:00:00.600000'" in probe.refresh_history_sql("public.my_stream_vw")


def test_decompose_keeps_signed_values_and_counts_negatives_when_clocks_disagree():
    # Kinesis's clock runs 30 ms behind the producer: arrival comes out negative.
    stages = decompose(produced_at=T0, seen_at=T0 + 2.0, acked_at=T0 + 0.01, arrival_at=T0 - 0.03,
                       refresh_at=T0 + 1.5)
    assert stages.arrival == -30_000
    assert stages.arrival + stages.refresh_lag + stages.visibility == stages.total == 2_000_000
    hist = StageHistograms()
    hist.record_stages(stages)
    assert hist.negative["arrival"] == 1
    assert hist.to_json()["arrival"]["count"] == 1


def test_decompose_leaves_unknown_stages_empty_when_timestamps_are_missing():
    stages = decompose(produced_at=T0, seen_at=T0 + 1.0)
    assert stages.total == 1_000_000
    assert stages.put is stages.arrival is stages.refresh_lag is stages.visibility is None


@pytest.mark.parametrize("parts", [2, 5])
def test_merged_histograms_equal_one_histogram_of_all_values_when_split_across_processes(parts):
    rng = random.Random(11)
    values = [(rng.choice(STAGES), int(rng.lognormvariate(11, 1.2))) for _ in range(5000)]
    single = StageHistograms()
    shards = [StageHistograms() for _ in range(parts)]
    for i, (stage, us) in enumerate(values):
        single.record(stage, us)
        shards[i % parts].record(stage, us)

    merged = merge_stage_json(s.to_json() for s in shards)
    whole = single.to_json()

    for stage in STAGES:
        assert merged[stage]["count"] == whole[stage]["count"]
        assert merged[stage]["p99_ms"] == whole[stage]["p99_ms"]
        assert StageHistograms.from_json(merged).histograms[stage].equals(single.histograms[stage])


def test_merge_is_not_an_average_of_percentiles_when_processes_differ():
    fast, slow = StageHistograms(), StageHistograms()
    for _ in range(99):
        fast.record("total", 1_000)  # 1 ms
    slow.record("total", 10_000_000)  # one 10 s record on another worker
    merged = merge_stage_json([fast.to_json(), slow.to_json()])
    # p99 of the 100 records together is 1 ms; max is 10 s. An average of p99s would be ~5 s.
    assert merged["total"]["p99_ms"] == pytest.approx(1.0, rel=1e-3)
    assert merged["total"]["max_ms"] == pytest.approx(10_000, rel=1e-3)

