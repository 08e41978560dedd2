"""AWS's write limits of one Kinesis shard (docs/kinesis.md): 1,000 records and 1 MiB of data per
second. The producer's per-shard limiter paces by them and the capacity search sizes shards by
them; the local Kinesis enforces its own copy as part of the service it models."""
from __future__ import annotations

__all__ = ["SHARD_RECORDS_PER_S", "SHARD_BYTES_PER_S"]

SHARD_RECORDS_PER_S = 1000.0
SHARD_BYTES_PER_S = 1024.0 * 1024.0
