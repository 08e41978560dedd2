"""PutRecords outcomes: retry only failed records, TTL expiry, oversize rejection,
whole-call errors, fatal target errors. Fake client, no network."""
from __future__ import annotations

import asyncio
import random
import time

import pytest
from botocore.exceptions import EndpointConnectionError
from prometheus_client import REGISTRY

from producer.schemas import GeneratedRecord, RandomUserRecords
from producer.schedule import SendSlots
from producer.sender import MIB, KinesisBatchSender, OutcomeTally, TargetError, split_batches
from producer_test_support import FakeKinesis, client_error, keyed
from streamload.core.ledger import LedgerWriter, read_ledger
from streamload.core.seqranges import SeqRanges

GEN = RandomUserRecords("p0", seed=1, run_id="t")


def _records(n: int, produced_at: float | None = None):
    now = time.time() if produced_at is None else produced_at
    return keyed([GEN.generate(i, now) for i in range(n)])


def _sender(client, tally, **kw) -> KinesisBatchSender:
    kw.setdefault("backoff_base_s", 0.001)
    return KinesisBatchSender(client, "s", "p0", tally, **kw)


def _counter(outcome: str) -> float:
    return REGISTRY.get_sample_value("streamload_producer_records_total", {"outcome": outcome}) or 0.0


def test_sender_resends_only_failed_records_when_put_partially_fails(tmp_path):
    records = _records(10)
    failing = {records[2].partition_key, records[7].partition_key, records[9].partition_key}

    def script(index, keys):
        if index == 0:
            return ["ProvisionedThroughputExceededException" if k in failing else None for k in keys]
        if index == 1:  # second attempt: one still fails, with the other retryable code
            return ["InternalFailure" if k == records[9].partition_key else None for k in keys]
        return [None] * len(keys)

    client, tally = FakeKinesis(script), OutcomeTally(generated=10)
    sent_before = _counter("sent")
    with LedgerWriter(tmp_path / "ledger.json", producer_id="p0", run_id="t") as ledger:
        ledger.generated(10)
        asyncio.run(_sender(client, tally, ledger=ledger).send(records))
    assert [sorted(c) for c in client.calls] == [sorted(r.partition_key for r in records),
                                                 sorted(failing), [records[9].partition_key]]
    assert (tally.sent, tally.expired, tally.rejected) == (10, 0, 0)
    assert (tally.retried, tally.throttled) == (4, 3)
    ledger = read_ledger(tmp_path / "ledger.json")
    # Every record acknowledged exactly once, however many attempts it took.
    assert ledger.acked == SeqRanges([(0, 9)]) and ledger.unknown.count == 0
    # The fake's sequence numbers: call index then position; the first ack is call 0's first
    # record, the last is the third call's only record.
    assert ledger.shards == {"shardId-000000000000": {"acked": 10, "first": f"{0:010d}{0:010d}",
                                                      "last": f"{2:010d}{0:010d}"}}
    assert ledger.put.get_total_count() == 10 and sum(ledger.acked_per_second.values()) == 10
    assert _counter("sent") - sent_before == 10


def test_sender_expires_records_when_throttled_past_ttl(tmp_path):
    client = FakeKinesis(lambda i, keys: ["ProvisionedThroughputExceededException"] * len(keys))
    tally = OutcomeTally(generated=5)
    with LedgerWriter(tmp_path / "ledger.json") as tally.ledger:
        tally.ledger.generated(5)
        asyncio.run(_sender(client, tally, record_ttl_s=0.3, backoff_max_s=0.05).send(_records(5)))
    assert (tally.sent, tally.expired, tally.rejected) == (0, 5, 0)  # gave up instead of retrying forever
    assert len(client.calls) >= 2
    ledger = read_ledger(tmp_path / "ledger.json")
    assert (ledger.acked.count, ledger.expired, ledger.unknown.count) == (0, SeqRanges([(0, 4)]), 0)


def test_sender_expires_without_calling_when_records_already_past_ttl():
    client, tally = FakeKinesis(), OutcomeTally(generated=3)
    asyncio.run(_sender(client, tally, record_ttl_s=1.0).send(_records(3, time.time() - 5)))
    assert client.calls == []
    assert tally.expired == 3


def test_sender_rejects_oversize_record_without_sending_it_when_over_limit(tmp_path):
    records = _records(3)
    huge = keyed([GeneratedRecord("p0-t-huge", 3, time.time(), b"x" * (MIB - 5))])[0]  # + 9-byte key > 1 MiB
    client, tally = FakeKinesis(), OutcomeTally(generated=4)
    rejected_before = _counter("rejected")
    with LedgerWriter(tmp_path / "ledger.json") as tally.ledger:
        tally.ledger.generated(4)
        asyncio.run(_sender(client, tally, ledger=tally.ledger).send([records[0], huge, records[1], records[2]]))
    assert client.calls == [[r.partition_key for r in records]]
    assert (tally.sent, tally.expired, tally.rejected) == (3, 0, 1)
    assert tally.rejected_reasons == {"oversize": 1}
    assert _counter("rejected") - rejected_before == 1
    ledger = read_ledger(tmp_path / "ledger.json")  # the rejected seq, with its reason
    assert (ledger.acked, ledger.rejected) == (SeqRanges([(0, 2)]), {"oversize": SeqRanges([(3, 3)])})


def test_sender_rejects_records_when_kinesis_returns_non_retryable_record_error(tmp_path):
    client = FakeKinesis(lambda i, keys: ["ValidationException"] + [None] * (len(keys) - 1))
    tally = OutcomeTally(generated=4)
    records = _records(4)
    with LedgerWriter(tmp_path / "ledger.json") as tally.ledger:
        tally.ledger.generated(4)
        asyncio.run(_sender(client, tally, ledger=tally.ledger).send(records))
    assert len(client.calls) == 1
    assert (tally.sent, tally.rejected, tally.rejected_reasons) == (3, 1, {"ValidationException": 1})
    first_sent = next(r.record.seq for r in records if r.partition_key == client.calls[0][0])
    ledger = read_ledger(tmp_path / "ledger.json")
    assert ledger.rejected == {"ValidationException": SeqRanges([(first_sent, first_sent)])}
    assert ledger.acked.count == 3 and ledger.unknown.count == 0


@pytest.mark.parametrize("error", [
    client_error("ThrottlingException"),
    client_error("InternalFailure", status=500),
    EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
])
def test_sender_retries_whole_batch_when_call_fails_transiently(error):
    def script(index, keys):
        if index == 0:
            raise error
        return [None] * len(keys)

    client, tally = FakeKinesis(script), OutcomeTally(generated=6)
    asyncio.run(_sender(client, tally).send(_records(6)))
    assert len(client.calls) == 2 and client.calls[0] == client.calls[1]
    assert (tally.sent, tally.retried) == (6, 6)


@pytest.mark.parametrize("code", ["ResourceNotFoundException", "UnrecognizedClientException",
                                  "AccessDeniedException"])
def test_sender_raises_target_error_when_target_refuses_all_calls(code):
    def script(index, keys):
        raise client_error(code)

    client, tally = FakeKinesis(script), OutcomeTally(generated=2)
    with pytest.raises(TargetError, match=code.replace("ResourceNotFoundException", "not found")):
        asyncio.run(_sender(client, tally).send(_records(2)))
    assert len(client.calls) == 1
    assert tally.finished == 2


def test_sender_stops_retrying_when_aborted():
    async def scenario():
        abort = asyncio.Event()
        client = FakeKinesis(lambda i, keys: ["ProvisionedThroughputExceededException"] * len(keys))
        tally = OutcomeTally(generated=3)
        sender = _sender(client, tally, abort=abort, backoff_base_s=10, backoff_max_s=10)
        asyncio.get_running_loop().call_later(0.1, abort.set)
        await asyncio.wait_for(sender.send(_records(3)), timeout=2)
        return tally

    assert asyncio.run(scenario()).expired == 3


def test_split_batches_respects_record_and_byte_limits_when_splitting():
    records = _records(1200)
    by_count = list(split_batches(records, max_records=500))
    assert [len(b) for b in by_count] == [500, 500, 200]
    limit = 4000  # about three ~1.2 KB records
    by_bytes = list(split_batches(records[:10], max_bytes=limit))
    assert len(by_bytes) >= 3
    assert all(sum(len(r.record.data) + len(r.partition_key) for r in b) <= limit for b in by_bytes)
    assert [r for b in by_bytes for r in b] == records[:10]


class _LongestBackoff(random.Random):
    def uniform(self, a, b):  # full jitter always picks its ceiling: deterministic waits
        return b


def test_sender_frees_its_call_slot_while_backing_off_when_another_batch_is_due():
    records = _records(6)
    first, second = records[:3], records[3:]

    def script(index, keys):  # the first call is throttled, everything after succeeds
        return ["ProvisionedThroughputExceededException"] * len(keys) if index == 0 else [None] * len(keys)

    async def scenario():
        client, tally = FakeKinesis(script), OutcomeTally(generated=6)
        sender = _sender(client, tally, slots=SendSlots(1), backoff_base_s=0.5, backoff_max_s=0.5,
                         rng=_LongestBackoff())
        retrying = asyncio.create_task(sender.send(first))
        while not client.calls:
            await asyncio.sleep(0.001)
        await sender.send(second)  # one slot only: this would wait 0.5 s if the backoff held it
        calls_before_retry = len(client.calls)
        await retrying
        return client.calls, calls_before_retry, tally

    calls, calls_before_retry, tally = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    keys = [r.partition_key for r in first], [r.partition_key for r in second]
    assert calls == [keys[0], keys[1], keys[0]] and calls_before_retry == 2
    assert (tally.sent, tally.retried, tally.throttled) == (6, 3, 3)
