"""What an AWS run will roughly cost, printed before anything runs.

ESTIMATES ONLY: list prices of region us-east-1 as published on the AWS pricing pages for
Kinesis Data Streams and Amazon Redshift in 2025, without free tier, savings plans,
reserved nodes, tax, data transfer or storage. Other regions differ; check the pricing
pages before relying on a number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from streamload.aws.config import AwsProvisionConfig
from streamload.core.config import StreamloadConfig

__all__ = ["CostInputs", "CostEstimate", "estimate_cost", "cost_inputs", "PRICES_NOTE"]

PRICES_NOTE = "us-east-1 list prices (2025), estimate only"
KINESIS_SHARD_HOUR_USD = 0.015                 # provisioned mode, per shard-hour
KINESIS_PUT_PAYLOAD_UNITS_PER_MILLION_USD = 0.014
PUT_PAYLOAD_UNIT_BYTES = 25 * 1024             # each record is billed in 25 KB chunks
KINESIS_ON_DEMAND_STREAM_HOUR_USD = 0.04       # on-demand mode, per stream-hour
KINESIS_ON_DEMAND_INGEST_PER_GB_USD = 0.08
KINESIS_ON_DEMAND_RETRIEVAL_PER_GB_USD = 0.04  # Redshift reads every record once
ON_DEMAND_RECORD_ROUNDING_BYTES = 1024         # on-demand rounds each record up to 1 KB
BYTES_PER_GB = 1024 ** 3
REDSHIFT_SERVERLESS_RPU_HOUR_USD = 0.375
REDSHIFT_SERVERLESS_MIN_BILLED_S = 60.0
REDSHIFT_NODE_HOUR_USD = {                     # provisioned, on-demand
    "dc2.large": 0.25,
    "ra3.large": 0.543,
    "ra3.xlplus": 1.086,
    "ra3.4xlarge": 3.26,
    "ra3.16xlarge": 13.04,
}


@dataclass(frozen=True)
class CostInputs:
    duration_s: float
    records: int
    record_size_bytes: int
    stream_mode: Literal["PROVISIONED", "ON_DEMAND"]
    shards: int
    warehouse: Literal["serverless", "provisioned"]
    base_rpu: int = 8
    node_type: str = "ra3.xlplus"
    nodes: int = 2


@dataclass(frozen=True)
class CostEstimate:
    inputs: CostInputs
    hours: float
    shard_hours: float
    put_payload_units: int
    ingest_gb: float
    kinesis_usd: float
    redshift_usd: float
    redshift_basis: str

    @property
    def total_usd(self) -> float:
        return self.kinesis_usd + self.redshift_usd

    def render(self) -> str:
        i = self.inputs
        if i.stream_mode == "PROVISIONED":
            kinesis = (f"{self.shard_hours:.3f} shard-hours + {self.put_payload_units:,} PUT payload units")
        else:
            kinesis = f"{self.hours:.3f} stream-hours + {self.ingest_gb:.4f} GB in and out (on-demand)"
        return "\n".join([
            f"estimated cost of this run ({PRICES_NOTE}): ${self.total_usd:.4f}",
            f"  Kinesis  ${self.kinesis_usd:.4f}: {kinesis}",
            f"  Redshift ${self.redshift_usd:.4f}: {self.redshift_basis}",
            f"  from {i.records:,} records of ~{i.record_size_bytes} B over {i.duration_s:g} s",
        ])


def estimate_cost(i: CostInputs) -> CostEstimate:
    """Pure arithmetic on the named prices above; raises ValueError for an unknown node type."""
    hours = i.duration_s / 3600.0
    units_per_record = math.ceil(i.record_size_bytes / PUT_PAYLOAD_UNIT_BYTES)
    put_units = i.records * units_per_record
    billed_record_bytes = math.ceil(i.record_size_bytes / ON_DEMAND_RECORD_ROUNDING_BYTES) * ON_DEMAND_RECORD_ROUNDING_BYTES
    ingest_gb = i.records * billed_record_bytes / BYTES_PER_GB
    if i.stream_mode == "PROVISIONED":
        shard_hours = i.shards * hours
        kinesis = (shard_hours * KINESIS_SHARD_HOUR_USD
                   + put_units / 1_000_000 * KINESIS_PUT_PAYLOAD_UNITS_PER_MILLION_USD)
    else:
        shard_hours = 0.0
        kinesis = (hours * KINESIS_ON_DEMAND_STREAM_HOUR_USD
                   + ingest_gb * (KINESIS_ON_DEMAND_INGEST_PER_GB_USD + KINESIS_ON_DEMAND_RETRIEVAL_PER_GB_USD))
    if i.warehouse == "serverless":
        # The load test keeps the workgroup busy the whole run, so base capacity is billed throughout.
        rpu_hours = i.base_rpu * max(i.duration_s, REDSHIFT_SERVERLESS_MIN_BILLED_S) / 3600.0
        redshift = rpu_hours * REDSHIFT_SERVERLESS_RPU_HOUR_USD
        basis = f"{rpu_hours:.3f} RPU-hours ({i.base_rpu} RPU base capacity, serverless)"
    else:
        if i.node_type not in REDSHIFT_NODE_HOUR_USD:
            known = ", ".join(sorted(REDSHIFT_NODE_HOUR_USD))
            raise ValueError(f"no price for node type {i.node_type!r}; known: {known}")
        node_hours = i.nodes * hours
        redshift = node_hours * REDSHIFT_NODE_HOUR_USD[i.node_type]
        basis = f"{node_hours:.3f} node-hours of {i.node_type} (a running cluster bills whether used or not)"
    return CostEstimate(i, hours, shard_hours, put_units, ingest_gb, kinesis, redshift, basis)


def cost_inputs(cfg: StreamloadConfig, settings: AwsProvisionConfig) -> CostInputs:
    """The run lasts the producing time plus the drain, when the stream and warehouse still work."""
    producing_s = cfg.producer.duration_s
    records = cfg.producer.total if cfg.producer.total else round(cfg.producer.rate * producing_s)
    return CostInputs(
        duration_s=producing_s + cfg.load.drain_timeout_s,
        records=records,
        record_size_bytes=settings.record_size_bytes,
        stream_mode=settings.stream_mode,
        shards=cfg.stream.shards,
        warehouse="serverless" if cfg.redshift.workgroup_name else "provisioned",
        base_rpu=settings.serverless_base_rpu,
        node_type=settings.redshift_node_type,
        nodes=settings.redshift_nodes,
    )
