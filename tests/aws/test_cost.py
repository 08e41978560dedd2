"""The cost estimate, checked against numbers computed by hand from the named prices."""
from __future__ import annotations

import pytest

from streamload.aws.config import AwsProvisionConfig
from streamload.aws.cost import CostInputs, cost_inputs, estimate_cost
from streamload.core.config import StreamloadConfig


def test_cost_sums_shard_hours_put_units_and_node_hours_when_provisioned():
    # 2 shards x 1 h x $0.015 = $0.03; 720,000 records x 1 unit x $0.014/M = $0.01008;
    # 2 ra3.xlplus nodes x 1 h x $1.086 = $2.172.
    est = estimate_cost(CostInputs(duration_s=3600, records=720_000, record_size_bytes=1100,
                                   stream_mode="PROVISIONED", shards=2, warehouse="provisioned",
                                   node_type="ra3.xlplus", nodes=2))
    assert est.shard_hours == pytest.approx(2.0)
    assert est.put_payload_units == 720_000
    assert est.kinesis_usd == pytest.approx(0.04008)
    assert est.redshift_usd == pytest.approx(2.172)
    assert est.total_usd == pytest.approx(2.21208)
    assert "$2.2121" in est.render() and "estimate only" in est.render()


def test_cost_counts_rounded_gigabytes_and_rpu_hours_when_on_demand_and_serverless():
    # 1,000,000 records of 1100 B are billed as 2 KB each: 2.048e9 B = 1.9073486328125 GB;
    # 0.5 stream-hours x $0.04 + 1.9073... GB x ($0.08 in + $0.04 out) = $0.2488818359375.
    # 8 RPU x 0.5 h x $0.375 = $1.5.
    est = estimate_cost(CostInputs(duration_s=1800, records=1_000_000, record_size_bytes=1100,
                                   stream_mode="ON_DEMAND", shards=4, warehouse="serverless", base_rpu=8))
    assert est.ingest_gb == pytest.approx(1.9073486328125)
    assert est.kinesis_usd == pytest.approx(0.2488818359375)
    assert est.redshift_usd == pytest.approx(1.5)
    assert est.shard_hours == 0


def test_cost_bills_serverless_minimum_minute_when_run_shorter():
    est = estimate_cost(CostInputs(duration_s=30, records=0, record_size_bytes=1100, stream_mode="PROVISIONED",
                                   shards=1, warehouse="serverless", base_rpu=8))
    assert est.redshift_usd == pytest.approx(8 * 60 / 3600 * 0.375)  # $0.05


def test_cost_counts_two_put_units_when_record_exceeds_25_kb():
    est = estimate_cost(CostInputs(duration_s=3600, records=1000, record_size_bytes=30 * 1024,
                                   stream_mode="PROVISIONED", shards=1, warehouse="serverless"))
    assert est.put_payload_units == 2000


def test_cost_raises_naming_known_types_when_node_type_unknown():
    with pytest.raises(ValueError, match="no price for node type 'x9.huge'.*ra3.xlplus"):
        estimate_cost(CostInputs(duration_s=60, records=1, record_size_bytes=1, stream_mode="PROVISIONED",
                                 shards=1, warehouse="provisioned", node_type="x9.huge"))


def test_cost_inputs_include_drain_time_and_rate_times_duration_when_from_config():
    cfg = StreamloadConfig.model_validate({"producer": {"rate": 250, "duration_s": 120},
                                           "load": {"drain_timeout_s": 60},
                                           "redshift": {"workgroup_name": "wg"}, "stream": {"shards": 3}})
    inputs = cost_inputs(cfg, AwsProvisionConfig(stream_mode="ON_DEMAND", serverless_base_rpu=16))
    assert (inputs.duration_s, inputs.records, inputs.shards) == (180, 30_000, 3)
    assert (inputs.warehouse, inputs.base_rpu, inputs.stream_mode) == ("serverless", 16, "ON_DEMAND")


def test_run_report_cost_section_matches_the_estimate_printed_before_an_aws_run():
    from streamload.aws.cost import cost_inputs, estimate_cost
    from streamload.core.config import load_config
    from streamload.run import _cost_estimate

    cfg = load_config(None, {"producer": {"rate": 1000, "duration_s": 600}}, environ={})
    printed = estimate_cost(cost_inputs(cfg, cfg.aws))
    section = _cost_estimate(cfg)
    assert section["total_usd"] == round(printed.total_usd, 4) > 0
    assert section["kinesis_usd"] + section["redshift_usd"] == pytest.approx(section["total_usd"], abs=1e-3)
    assert "estimated before the run" in section["note"]
