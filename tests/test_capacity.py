"""capacity: the rate search, the step verdict and the evidence report (no stack needed)."""
import json

import pytest

from streamload.capacity import (
    CapacityPlan,
    RateSearch,
    format_table,
    recommend_shards,
    run_capacity,
    step_result,
    write_capacity_report,
)
from streamload.core.config import StreamloadConfig
from streamload.core.ledger import LedgerWriter
from streamload.core.producer_summary import ProducerSummary


def _search_until(plan: CapacityPlan, breaks_above: float) -> list[float]:
    search = RateSearch(plan)
    while (rate := search.next_rate()) is not None:
        search.record(rate, rate <= breaks_above)
    return search.tried


def test_rate_search_doubles_then_bisects_to_resolution_when_pipeline_breaks():
    tried = _search_until(CapacityPlan(start_rate=100, max_rate=10_000, step_duration_s=5, max_steps=20), 700)
    assert tried[:5] == [100, 200, 400, 800, 600]
    held = max(r for r in tried if r <= 700)
    failed = min(r for r in tried if r > 700)
    assert failed - held <= 0.10 * held
    assert len(tried) == len(set(tried))  # never runs the same rate twice


def test_rate_search_stops_at_max_rate_when_everything_holds():
    assert _search_until(CapacityPlan(start_rate=100, max_rate=500, step_duration_s=5), 1e9) == [100, 200, 400, 500]


def test_rate_search_goes_below_start_when_start_rate_fails():
    tried = _search_until(CapacityPlan(start_rate=1000, max_rate=8000, step_duration_s=5, max_steps=4), 300)
    assert tried == [1000, 500, 250, 375]


def test_rate_search_is_bounded_by_max_steps():
    tried = _search_until(CapacityPlan(start_rate=1, max_rate=1e9, step_duration_s=5, max_steps=3), 1e12)
    assert tried == [1, 2, 4]


@pytest.mark.parametrize("kwargs", [dict(start_rate=0), dict(start_rate=10, max_rate=5), dict(max_steps=0), dict(min_achieved=1.5)])
def test_capacity_plan_rejects_nonsense_when_given(kwargs):
    base = dict(start_rate=10, max_rate=100, step_duration_s=5)
    with pytest.raises(ValueError):
        CapacityPlan(**{**base, **kwargs})


def test_recommend_shards_covers_rate_with_headroom_by_records_and_bytes():
    small = CapacityPlan(start_rate=1, max_rate=2, step_duration_s=1, record_bytes=512)
    assert recommend_shards(800, small) == 1      # 800 * 1.25 = 1000 records/s: one shard
    assert recommend_shards(801, small) == 2
    default = CapacityPlan(start_rate=1, max_rate=2, step_duration_s=1)
    assert recommend_shards(800, default) == 2    # 1,100 B records: 953 records/s fill 1 MiB/s
    big = CapacityPlan(start_rate=1, max_rate=2, step_duration_s=1, record_bytes=10_240)
    assert recommend_shards(200, big) == 3        # 102.4 records/s per shard by bytes


def _write_step_ledger(step_dir, achieved, throttled=0, producer_id="p0"):
    """What one producer leaves in a step's folder: its compact ledger and its summary."""
    step_dir.mkdir(parents=True, exist_ok=True)
    with LedgerWriter(step_dir / f"ledger-{producer_id}.json", producer_id=producer_id, run_id="r") as ledger:
        ledger.generated(2)
        ledger.append([(f"{producer_id}-r-{seq}", producer_id, seq, "shardId-000000000000", str(100 + seq), 1.0, 1.01)
                       for seq in range(2)])
        ledger.write_summary(ProducerSummary(producer_id=producer_id, achieved_rate=achieved, throttled=throttled))


def _step_dir(tmp_path, name, achieved, throttled=0):
    d = tmp_path / name
    _write_step_ledger(d, achieved, throttled)
    return d


def test_step_fails_when_producer_could_not_reach_rate_even_if_thresholds_hold(tmp_path):
    plan = CapacityPlan(start_rate=100, max_rate=400, step_duration_s=2)
    report = {"e2e_p50_ms": 500.0, "e2e_p99_ms": 900.0, "lost": 0, "thresholds": [{"threshold": "lost == 0", "value": 0, "ok": True}]}
    slow = step_result(1, 200, report, 0, _step_dir(tmp_path, "a", achieved=120.0, throttled=80), plan)
    assert not slow.held and slow.throttled == 80
    assert "achieved 120.0/s < 95% of 200/s" in slow.why
    fine = step_result(2, 100, report, 0, _step_dir(tmp_path, "b", achieved=99.0), plan)
    assert fine.held and fine.why == []


def test_step_sums_every_producer_summary_when_a_step_ran_several_producers(tmp_path):
    plan = CapacityPlan(start_rate=100, max_rate=400, step_duration_s=2)
    step = tmp_path / "s"
    _write_step_ledger(step, achieved=60.0, throttled=3, producer_id="p0")
    _write_step_ledger(step, achieved=40.0, throttled=4, producer_id="p1")
    result = step_result(1, 100, {"lost": 0, "thresholds": []}, 0, step, plan)
    assert result.held and result.achieved == 100.0 and result.throttled == 7


def test_step_fails_naming_the_threshold_when_one_breaks(tmp_path):
    plan = CapacityPlan(start_rate=100, max_rate=400, step_duration_s=2)
    report = {"e2e_p99_ms": 9000.0, "lost": 3, "thresholds": [{"threshold": "lost == 0", "value": 3, "ok": False}]}
    result = step_result(1, 100, report, 1, _step_dir(tmp_path, "a", achieved=100.0), plan)
    assert not result.held and result.why == ["threshold lost == 0 (value 3)"]


def test_run_capacity_writes_evidence_table_when_pipeline_saturates(tmp_path):
    """A pipeline model that takes at most 300 records/s: the search must find it."""
    cfg = StreamloadConfig.model_validate({"target": {"kinesis_endpoint_url": "http://127.0.0.1:1",
                                                      "redshift_data_endpoint_url": "http://127.0.0.1:2"}})
    seen = []

    def run_step(step_cfg, step_dir):
        seen.append((step_cfg.stream.name, step_cfg.producer.rate, step_cfg.producer.duration_s))
        achieved = min(step_cfg.producer.rate, 300.0)
        _write_step_ledger(step_dir, achieved)
        return {"e2e_p50_ms": 100.0, "e2e_p99_ms": step_cfg.producer.rate, "lost": 0, "thresholds": []}, 0

    plan = CapacityPlan(start_rate=50, max_rate=1000, step_duration_s=3, max_steps=6)
    result = run_capacity(cfg, tmp_path, plan, run_step, announce=lambda _: None)
    assert [s.rate for s in result.steps] == [50, 100, 200, 400, 300, 350]
    assert result.held_rate == 300 and result.failed_rate == 350
    assert {name for name, _, _ in seen} == {f"my-data-stream-s{i:02d}" for i in range(1, 7)}  # each step its own stream
    assert all(duration == 3 for _, _, duration in seen)
    table = format_table(result)
    assert "highest rate that held: 300 records/s" in table and "between 300 and 350" in table
    path = write_capacity_report(result, plan, tmp_path, ["lost == 0"])
    data = json.loads(path.read_text())
    assert [s["held"] for s in data["steps"]] == [True, True, True, False, True, False]
    assert data["recommended_shards"] == 1
    page = (tmp_path / "report.html").read_text()
    assert page.count("<tr>") == 7 and "<svg" in page


def test_run_capacity_stops_when_next_step_would_exceed_time_budget(tmp_path):
    cfg = StreamloadConfig()
    now = [0.0]

    def run_step(step_cfg, step_dir):
        now[0] += 40.0  # every step takes 40 s of wall time
        return {"e2e_p99_ms": 1.0, "lost": 0, "thresholds": []}, 0

    plan = CapacityPlan(start_rate=10, max_rate=1e6, step_duration_s=30, max_total_s=100)
    result = run_capacity(cfg, tmp_path, plan, run_step, announce=lambda _: None, clock=lambda: now[0])
    assert len(result.steps) == 2
    assert result.stopped_because.startswith("time budget")
