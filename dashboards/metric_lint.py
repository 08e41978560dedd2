"""The metric naming policy of docs/conventions.md, as a check over declared metrics.

A metric fails when it has no documentation, lacks the ``streamload_`` namespace, is a
summary (percentiles cannot be merged across processes), is a counter whose samples do
not end ``_total`` (or a non-counter whose name does), uses a non-base unit, or carries a
label outside the low-cardinality allow-list. ``run_id`` and friends are allowed only on
``streamload_run_info``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from streamload.core.run_info import RUN_INFO_LABELS, RUN_INFO_NAME

__all__ = ["ALLOWED_LABELS", "RUN_INFO_LABELS", "MetricFacts", "declared_metrics", "facts_from_registry",
           "problems"]

# "operation" is a Kinesis API name (a fixed, small set), as the local Kinesis labels its refusals.
ALLOWED_LABELS = frozenset({"outcome", "persona", "phase", "stage", "kind", "stream", "shard", "operation"})
MIN_DOC_CHARS = 15
_NON_BASE_UNITS = re.compile(r"_(milliseconds|ms|microseconds|us|minutes|hours|kilobytes|kb|megabytes|mb|percent)(_|$)")


@dataclass(frozen=True)
class MetricFacts:
    name: str  # family name as exposed, e.g. streamload_records_lost (counters without _total)
    kind: str  # counter | gauge | histogram | summary | info | ...
    documentation: str
    labels: tuple[str, ...]
    sample_names: tuple[str, ...]  # names the exposition would carry


def _sample_names(name: str, kind: str) -> tuple[str, ...]:
    return {
        "counter": (f"{name}_total",),
        "histogram": (f"{name}_bucket", f"{name}_count", f"{name}_sum"),
        "summary": (f"{name}_count", f"{name}_sum"),
        "info": (f"{name}_info",),
    }.get(kind, (name,))


def declared_metrics(*modules: ModuleType) -> list[MetricFacts]:
    """Facts about every metric object a ``metrics.py`` module declares at module level."""
    out = []
    for module in modules:
        for obj in vars(module).values():
            if not isinstance(obj, MetricWrapperBase):
                continue
            family = obj.describe()[0]  # public: name, type and help text
            # Label names have no public accessor (describe() and collect() carry no samples
            # for a labelled metric before first use), so they still come from _labelnames.
            labels = tuple(obj._labelnames)
            out.append(MetricFacts(family.name, family.type, family.documentation, labels,
                                   _sample_names(family.name, family.type)))
    return out


def facts_from_registry(registry: CollectorRegistry) -> list[MetricFacts]:
    """Facts from what a registry actually exposes (labels only of children that exist)."""
    out = []
    for family in registry.collect():
        labels = sorted({k for s in family.samples for k in s.labels if k not in ("le", "quantile")})
        names = tuple(sorted({s.name for s in family.samples if not s.name.endswith("_created")}))
        out.append(MetricFacts(family.name, family.type, family.documentation, tuple(labels), names))
    return out


def problems(metrics: list[MetricFacts]) -> list[str]:
    """One line per policy breach; empty when every metric complies."""
    found = []
    for m in metrics:
        where = m.name
        if not m.name.startswith("streamload_"):
            found.append(f"{where}: not in the streamload_ namespace")
        if len(m.documentation.strip()) < MIN_DOC_CHARS:
            found.append(f"{where}: no documentation (help text under {MIN_DOC_CHARS} characters)")
        if m.kind == "summary":
            found.append(f"{where}: summary; use a histogram (percentiles must merge across processes)")
        if m.kind == "counter" and not all(n.endswith("_total") for n in m.sample_names):
            found.append(f"{where}: counter whose samples do not end _total")
        if m.kind != "counter" and any(n.endswith("_total") for n in m.sample_names):
            found.append(f"{where}: a {m.kind} named _total; only counters end _total")
        if _NON_BASE_UNITS.search(m.name):
            found.append(f"{where}: non-base unit in the name; use seconds, bytes or ratios")
        sample_name = m.sample_names[0] if m.sample_names else m.name
        allowed = RUN_INFO_LABELS if sample_name == RUN_INFO_NAME else ALLOWED_LABELS
        for label in m.labels:
            if label not in allowed:
                found.append(f"{where}: label {label!r} is not in the low-cardinality allow-list {sorted(allowed)}")
    return found
