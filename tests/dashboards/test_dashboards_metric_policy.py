"""Exported metrics follow docs/conventions.md, and the dashboards read only real metrics."""
from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, Summary

from dashboards.inventory import all_expressions, metric_names
from dashboards.metric_lint import declared_metrics, facts_from_registry, problems
from loadtest import metrics as loadtest_metrics
from producer import metrics as producer_metrics

MODULES = (loadtest_metrics, producer_metrics)


def _exposed_names() -> set[str]:
    return {name for m in declared_metrics(*MODULES) for name in m.sample_names}


def test_declared_metrics_follow_naming_policy_when_both_modules_are_walked():
    declared = declared_metrics(*MODULES)
    assert len(declared) >= 15  # both modules were really walked
    assert problems(declared) == []


def test_exported_samples_follow_naming_policy_when_registry_is_collected():
    # What the default registry really exposes, streamload's families only (the client's
    # own process_*/python_* collectors are not ours to rename).
    from prometheus_client import REGISTRY

    ours = [f for f in facts_from_registry(REGISTRY) if f.name.startswith("streamload")]
    assert {f.name for f in ours} >= {"streamload_e2e_latency_seconds", "streamload_producer_records"}
    assert problems(ours) == []


@pytest.mark.parametrize("declare, expected", [
    (lambda r: Counter("streamload_things", "", registry=r), "no documentation"),
    (lambda r: Gauge("things_in_flight", "Things currently in flight somewhere.", registry=r), "namespace"),
    (lambda r: Summary("streamload_wait_seconds", "How long the wait took, as a summary.", registry=r), "summary"),
    (lambda r: Gauge("streamload_sent_total", "Records sent so far, as a gauge by mistake.", registry=r),
     "only counters end _total"),
    (lambda r: Histogram("streamload_put_milliseconds", "PutRecords duration in milliseconds.", registry=r),
     "non-base unit"),
    (lambda r: Counter("streamload_seen", "Records seen, one series per record.", ["event_id"], registry=r)
     .labels(event_id="e1").inc(), "'event_id'"),
    (lambda r: Gauge("streamload_lag_seconds", "Refresh lag of the current run.", ["run_id"], registry=r)
     .labels(run_id="r1").set(1), "'run_id'"),
])
def test_policy_reports_the_breach_when_a_metric_breaks_it(declare, expected):
    registry = CollectorRegistry()
    declare(registry)
    found = problems(facts_from_registry(registry))
    assert any(expected in line for line in found), found


def test_policy_allows_run_id_when_it_is_on_run_info():
    registry = CollectorRegistry()
    Info("run", "The run this process belongs to.", namespace="streamload", registry=registry).info(
        {"run_id": "20250101T000000-abcdef", "stream": "s"})
    assert problems(facts_from_registry(registry)) == []


def test_dashboards_read_only_exported_metrics_when_queries_are_parsed():
    exposed = _exposed_names() | {"streamload_run_info"}
    unknown = {(e.where, name) for e in all_expressions() for name in metric_names(e.expr) if name not in exposed}
    assert not unknown, f"queries read metrics nobody exports: {sorted(unknown)}"


def test_every_exported_metric_is_on_a_dashboard_or_rule_when_queries_are_parsed():
    read = {name for e in all_expressions() for name in metric_names(e.expr)}
    read_families = {n.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum") for n in read}
    unused = [m.name for m in declared_metrics(*MODULES)
              if not (set(m.sample_names) & read) and m.name not in read_families
              and m.sample_names[0] != "streamload_run_info"]
    assert not unused, f"exported but shown nowhere: {unused}"
