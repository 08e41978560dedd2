"""Per-shard awareness: ListShards, MD5 routing that agrees with the server, the token
bucket, resharding, and the limiter against the local Kinesis with throttling on."""
from __future__ import annotations

import asyncio
import threading
import time

import boto3
import pytest

from emulator.kinesis.shards import hash_key_ranges
from producer import ProducerOptions, run_producer
from producer.partition_keys import hash_key_of
from producer.schemas import RandomUserRecords
from producer.sender import KinesisBatchSender, OutcomeTally
from producer.shards import ShardDirectory, ShardMap, ShardPacer, ShardRange, ShardRateLimiter
from producer.target import kinesis_client
from producer_test_support import (LOCAL_CREDENTIALS, REGION, FakeKinesis, create_stream, decoded_seqs, keyed,
                                   read_all_records)
from streamload.core.ledger import read_ledger
from streamload.core.seqranges import SeqRanges

try:
    import emulator.kinesis  # noqa: F401
    HAVE_EMULATOR = True
except ImportError:  # pragma: no cover
    HAVE_EMULATOR = False

needs_emulator = pytest.mark.skipif(not HAVE_EMULATOR, reason="the local Kinesis (emulator.kinesis) is needed")


@pytest.fixture(scope="module")
def throttling_kinesis(kinesis_servers):
    """Our Kinesis with AWS's per-shard write limits on (the default settings)."""
    return kinesis_servers("emulator")


def _boto(endpoint):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name=REGION, **LOCAL_CREDENTIALS)


def test_shard_map_routes_each_hash_key_to_the_shard_owning_its_range():
    ranges = hash_key_ranges(3)
    shard_map = ShardMap([ShardRange(f"shard-{i}", a, b) for i, (a, b) in reversed(list(enumerate(ranges)))])
    assert shard_map.shard_for(0) == "shard-0"
    assert shard_map.shard_for(ranges[1][0]) == "shard-1"
    assert shard_map.shard_for(ranges[1][0] - 1) == "shard-0"
    assert shard_map.shard_for(2**128 - 1) == "shard-2"
    gap = ShardMap([ShardRange("a", 0, 10), ShardRange("b", 20, 30)])
    assert gap.shard_for(15) is None and gap.shard_for(35) is None


def test_rate_limiter_spaces_records_at_the_shard_rate_after_its_burst():
    limiter = ShardRateLimiter(records_per_s=1000, bytes_per_s=10**9, burst_s=0.1)
    ready = [limiter.reserve("s", 100, deadline=1e9, now=0.0) for _ in range(300)]
    assert ready[:101] == pytest.approx([0.0] * 101, abs=1e-12)  # 0.1 s of quota at once
    assert ready[101:] == pytest.approx([i / 1000 - 0.1 for i in range(101, 300)])
    assert limiter.reserve("other", 100, deadline=1e9, now=0.0) == 0.0  # shards are independent


def test_rate_limiter_paces_bytes_and_reserves_nothing_when_a_record_would_miss_its_deadline():
    limiter = ShardRateLimiter(records_per_s=10**6, bytes_per_s=1000, burst_s=0.0)
    assert limiter.reserve("s", 500, deadline=10, now=0.0) == 0.0
    assert limiter.reserve("s", 500, deadline=10, now=0.0) == pytest.approx(0.5)
    assert limiter.reserve("s", 500, deadline=0.9, now=0.0) is None  # would be ready at 1.0
    assert limiter.reserve("s", 500, deadline=10, now=0.0) == pytest.approx(1.0)  # nothing was taken


def test_pacer_sends_records_of_spare_shards_now_and_groups_the_rest_when_one_shard_is_busy():
    directory = ShardDirectory(client=None, stream_name="s")
    directory.map = ShardMap([ShardRange("a", 0, 2**127 - 1), ShardRange("b", 2**127, 2**128 - 1)])
    pacer = ShardPacer(directory, ShardRateLimiter(records_per_s=100, bytes_per_s=10**9, burst_s=0.05),
                       merge_window_s=0.05)
    records = keyed(RandomUserRecords("p0", seed=1, run_id="t").generate(i, 0.0) for i in range(40))
    groups, too_late = pacer.plan(records, deadline_of=lambda r: 1e9, now=0.0)
    assert too_late == []
    now_group = groups[0]
    assert now_group[0] == 0.0
    by_shard = {r.shard for r in records}
    assert by_shard == {"a", "b"}
    assert sum(len(m) for _, m in groups) == 40
    # Each shard sends 6 at once (the first, plus 0.05 s of 100/s), the rest 10 ms apart.
    assert len(now_group[1]) == 12
    assert [at for at, _ in groups] == sorted(at for at, _ in groups)
    for at, members in groups[1:]:
        assert at > 0 and len(members) >= 1


@needs_emulator
def test_directory_predicts_the_servers_shard_for_every_key_before_and_after_resharding(throttling_kinesis):
    client = _boto(throttling_kinesis)
    name = create_stream(throttling_kinesis, shards=3)
    keys = [f"key-{i}" for i in range(60)]

    async def predictions():
        async with kinesis_client(REGION, throttling_kinesis, max_pool_connections=2,
                                  credentials=LOCAL_CREDENTIALS) as aio:
            directory = ShardDirectory(aio, name)
            assert await directory.refresh()
            return len(directory.map), [directory.shard_for(hash_key_of(k)) for k in keys]

    def actual():
        return [client.put_record(StreamName=name, PartitionKey=k, Data=b"x")["ShardId"] for k in keys]

    count, predicted = asyncio.run(predictions())
    assert count == 3 and predicted == actual()
    client.update_shard_count(StreamName=name, TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    count, predicted = asyncio.run(predictions())
    assert count == 5  # the three closed parents are not listed as open
    assert predicted == actual()
    assert len(set(predicted)) == 5


def test_sender_asks_for_a_new_shard_listing_when_a_put_lands_elsewhere():
    async def scenario():
        directory = ShardDirectory(client=None, stream_name="s")
        directory.map = ShardMap([ShardRange("shardId-000000000009", 0, 2**128 - 1)])  # stale
        pacer = ShardPacer(directory, ShardRateLimiter())
        tally = OutcomeTally(generated=5)
        sender = KinesisBatchSender(FakeKinesis(), "s", "p0", tally, pacer=pacer)
        await sender.send(keyed(RandomUserRecords("p0", seed=1, run_id="t").generate(i, time.time())
                                for i in range(5)))
        return directory._stale.is_set(), tally

    stale, tally = asyncio.run(scenario())
    assert stale and tally.sent == 5


def _run_over_one_shard(endpoint, tmp_path, shard_limit: bool):
    """2,000 records at 2,000/s with one hot key: twice what a shard takes."""
    name = create_stream(endpoint, shards=2)
    opts = ProducerOptions(stream_name=name, endpoint_url=endpoint, region=REGION, rate=2000, total=2000,
                           partition_key="hot", shard_limit=shard_limit, seed=3,
                           ledger_path=tmp_path / f"ledger-{shard_limit}.json", **LOCAL_CREDENTIALS)
    result = asyncio.run(asyncio.wait_for(run_producer(opts), timeout=60))
    return name, result


@needs_emulator
def test_shard_limiter_avoids_throttling_when_a_hot_key_exceeds_its_shards_quota(throttling_kinesis, tmp_path):
    name, result = _run_over_one_shard(throttling_kinesis, tmp_path, shard_limit=True)
    assert (result.generated, result.sent, result.expired, result.rejected) == (2000, 2000, 0, 0)
    assert result.throttled <= 20  # almost none: the limiter kept the shard under 1,000/s and 1 MiB/s
    assert result.shard_limited > 1000  # ...by holding records back
    assert result.shards == 2
    stored = read_all_records(_boto(throttling_kinesis), name)
    assert len({r["ShardId"] for r in stored}) == 1
    ledger = read_ledger(tmp_path / "ledger-True.json")
    assert ledger.acked == SeqRanges([(0, 1999)]) and sorted(decoded_seqs(stored)) == list(range(2000))
    assert {shard: known["acked"] for shard, known in ledger.shards.items()} == {stored[0]["ShardId"]: 2000}


@needs_emulator
def test_without_shard_limit_kinesis_throttles_and_producer_retries_when_a_hot_key_exceeds_quota(
        throttling_kinesis, tmp_path):
    name, result = _run_over_one_shard(throttling_kinesis, tmp_path, shard_limit=False)
    assert result.throttled > 100 and result.retried >= result.throttled
    assert result.shard_limited == 0
    assert result.sent + result.expired + result.rejected == result.generated == 2000
    assert result.sent == 2000  # the 30 s TTL is far more than the retries need
    assert len(read_all_records(_boto(throttling_kinesis), name)) == 2000


def _reshard_once_both_parents_hold_records(client, name: str, shards: list[str], target: int) -> None:
    """Wait (bounded) until the producer has written to every parent shard, then reshard: the
    split lands mid-run however slowly the producer starts on a loaded machine."""
    iterators = {s: client.get_shard_iterator(StreamName=name, ShardId=s, ShardIteratorType="TRIM_HORIZON")
                 ["ShardIterator"] for s in shards}
    deadline = time.monotonic() + 20
    while iterators and time.monotonic() < deadline:
        for shard, iterator in list(iterators.items()):
            if client.get_records(ShardIterator=iterator, Limit=1)["Records"]:
                del iterators[shard]
        time.sleep(0.05)
    client.update_shard_count(StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING")


@needs_emulator
def test_producer_follows_resharding_when_the_stream_is_resharded_mid_run(throttling_kinesis, tmp_path):
    name = create_stream(throttling_kinesis, shards=2)
    client = _boto(throttling_kinesis)
    parents = [s["ShardId"] for s in client.list_shards(StreamName=name)["Shards"]]
    resharder = threading.Thread(target=_reshard_once_both_parents_hold_records, args=(client, name, parents, 4))
    opts = ProducerOptions(stream_name=name, endpoint_url=throttling_kinesis, region=REGION, rate=400,
                           duration_s=4.0, shard_refresh_s=600, ledger_path=tmp_path / "ledger.json",
                           **LOCAL_CREDENTIALS)
    resharder.start()
    try:
        result = asyncio.run(asyncio.wait_for(run_producer(opts), timeout=60))
    finally:
        resharder.join()
    # The periodic refresh (600 s) never ran: puts landing on new shards triggered the re-list.
    assert result.shards == 4
    assert result.sent == result.generated == 1600
    ledger = read_ledger(tmp_path / "ledger.json")
    assert len(ledger.shards) == 6  # 2 parents before, 4 children after
    assert sum(known["acked"] for known in ledger.shards.values()) == ledger.acked.count == 1600
