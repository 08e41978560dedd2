"""The producer: generated JSON records into a Kinesis stream at an open-loop rate profile.

Public surface (everything else is private)::

    opts = ProducerOptions(stream_name="my-data-stream", endpoint_url=..., rate=200, duration_s=10)
    result: ProducerResult = await run_producer(opts)   # raises TargetError -> exit 3

Modules: ``records`` (generator), ``profiles`` (rate over time), ``schedule`` (open-loop
timing, bounded concurrency), ``partition_keys``, ``shards`` (ListShards, MD5 routing,
per-shard limiter), ``sender`` (PutRecords + per-record retries), ``target`` (client and
fatal errors), ``sinks`` (file/stdout), ``outcomes``/``result`` (totals; the summary
file is ``streamload.core.producer_summary``), ``ledger_publish`` (the ledger table),
``progress``, ``processes`` (``--processes N``), ``metrics``.
"""
from producer.schemas import GeneratedRecord, RandomUserRecords
from producer.runner import ProducerOptions, ProducerResult, run_producer
from producer.sender import TargetError

__all__ = [
    "ProducerOptions",
    "ProducerResult",
    "run_producer",
    "TargetError",
    "RandomUserRecords",
    "GeneratedRecord",
]
