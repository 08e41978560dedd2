"""E2E decomposition of the records the probe samples from synthetic view rows, and histogram merging."""
import random

import pytest

from loadtest.decomposition import STAGES, StageHistograms, decompose, merge_stage_json, to_us
from loadtest.probe import ProbeState, format_redshift_timestamp

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _synthetic(n: int, seed: int = 3):
    """n records of one producer as the view holds them: (seq, produced, arrival, refresh_time),
    epoch seconds; a refresh ends every 0.5 s and ingests what arrived before it ended."""
    rng = random.Random(seed)
    refresh_ends = [T0 + 0.5 * i + 0.2 for i in range(1, 40)]
    out = []
    for seq in range(n):
        produced = T0 + seq * 0.013 + rng.random() * 1e-3
        arrival = produced + rng.uniform(0.001, 0.05)
        refresh = next(end for end in refresh_ends if end >= arrival)
        out.append((seq, produced, arrival, refresh))
    return out


def _warehouse_answer(records, probe: ProbeState, now: float):
    """What the probe's SQL returns at ``now``: rows of refreshes newer than the watermark that
    had finished by then, newest refresh first, at most ``sample_size``."""
    since = to_us(probe.watermark or probe.run_started_at - 60)
    visible = [r for r in records if since < to_us(r[3]) and r[3] <= now]
    visible.sort(key=lambda r: r[3], reverse=True)
    return [["p0", seq, produced, format_redshift_timestamp(arrival), format_redshift_timestamp(refresh)]
            for seq, produced, arrival, refresh in visible[:probe.sample_size]]


def test_sampled_stages_sum_to_total_and_credit_their_refresh_when_the_probe_ticks_over_a_run():
    records = _synthetic(1000)
    by_seq = {seq: (produced, arrival, refresh) for seq, produced, arrival, refresh in records}
    probe = ProbeState(run_id="r1", run_started_at=T0, sample_size=20)
    sampled, watermarks = [], []
    now = T0
    while now < records[-1][3] + 1.0:
        now += 0.3
        rows = _warehouse_answer(records, probe, now)
        assert len(rows) <= probe.sample_size  # bounded, whatever the rate
        for row, stages in zip(rows, probe.observe(rows, seen_at=now)):
            sampled.append((row[1], stages, now))
        watermarks.append(probe.watermark)

    assert watermarks == sorted(watermarks)
    assert probe.watermark == pytest.approx(records[-1][3], abs=1e-6)  # reached the last refresh
    assert len({seq for seq, _, _ in sampled}) == len(sampled) == probe.sampled  # nothing sampled twice
    assert 0 < len(sampled) < len(records)  # a sample, not the population
    for seq, stages, seen_at in sampled:
        produced, arrival, refresh = by_seq[seq]
        assert stages.arrival + stages.refresh_lag + stages.visibility == stages.total
        assert stages.total == to_us(seen_at) - to_us(produced)
        # credited to the refresh that ingested it, as the view's refresh_time says
        assert stages.arrival + stages.refresh_lag == to_us(refresh) - to_us(produced)
        assert stages.arrival > 0 and stages.refresh_lag > 0 and stages.visibility >= 0
    summary = probe.stages.to_json()
    chain = ("arrival", "refresh_lag", "visibility", "total")
    assert {name: summary[name]["count"] for name in chain} == {name: len(sampled) for name in chain}
    assert summary["put"]["count"] == 0  # put comes from the producers' ledgers, not the probe
    assert all(summary[name]["negative"] == 0 for name in STAGES)
    assert summary["total"]["p50_ms"] <= summary["total"]["p99_ms"]


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

