"""The producer: generated JSON records into a Kinesis stream at a fixed, open-loop rate.

Public surface (everything else is private)::

    opts = ProducerOptions(stream_name="my-data-stream", endpoint_url=..., rate=200, duration_s=10)
    result: ProducerResult = await run_producer(opts)   # raises TargetError -> exit 3

Modules: ``records`` (generator), ``schedule`` (open-loop timing, bounded concurrency),
``sender`` (PutRecords + per-record retries), ``ledger`` (JSONL + summary), ``metrics``.
"""
from producer.records import GeneratedRecord, RandomUserRecords
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
