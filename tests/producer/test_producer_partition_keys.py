"""Partition-key strategies and explicit hash keys, alone and through a real Kinesis."""
from __future__ import annotations

import asyncio

import orjson
import pytest

from producer import ProducerOptions, run_producer
from producer.partition_keys import MAX_HASH_KEY, PartitionKeys
from producer.schemas import GeneratedRecord, RandomUserRecords
from producer_test_support import LOCAL_CREDENTIALS, REGION, read_all_records

GEN = RandomUserRecords("p0", seed=1, run_id="pk")


def _records(n: int = 20) -> list[GeneratedRecord]:
    return [GEN.generate(i, 0.0) for i in range(n)]


def test_random_strategy_uses_each_records_unique_event_id():
    keyed, rejected = PartitionKeys().wrap_all(_records())
    assert rejected == {}
    assert [k.partition_key for k in keyed] == [k.record.event_id for k in keyed]
    assert all(k.size == len(k.record.data) + len(k.partition_key) for k in keyed)
    assert all("ExplicitHashKey" not in k.entry() for k in keyed)


def test_field_strategy_takes_the_value_at_the_path_when_record_has_it():
    keyed, _ = PartitionKeys("field:login.uuid").wrap_all(_records())
    assert [k.partition_key for k in keyed] == [orjson.loads(k.record.data)["login"]["uuid"] for k in keyed]


def test_field_strategy_prefers_the_generators_key_when_it_provides_one():
    record = GeneratedRecord("e1", 0, 0.0, b'{"login": {"uuid": "from-json"}}', key="from-generator") \
        if "key" in GeneratedRecord.__dataclass_fields__ else None
    if record is None:
        pytest.skip("this GeneratedRecord has no key attribute yet")
    assert PartitionKeys("field:login.uuid").wrap(record).partition_key == "from-generator"


def test_field_strategy_rejects_records_without_the_field_naming_the_reason():
    records = [GeneratedRecord("e1", 0, 0.0, b'{"login": {}}'), GeneratedRecord("e2", 1, 0.0, b'{"login": {"uuid": 7}}'),
               GeneratedRecord("e3", 2, 0.0, orjson.dumps({"login": {"uuid": "u" * 257}}))]
    keyed, rejected = PartitionKeys("field:login.uuid").wrap_all(records)
    assert [k.partition_key for k in keyed] == ["7"]
    assert rejected == {"partition_key_missing": [0], "partition_key_too_long": [2]}  # reason -> seqs


def test_hot_strategy_gives_every_record_one_key():
    assert {k.partition_key for k in PartitionKeys("hot").wrap_all(_records())[0]} == {"hot"}
    assert {k.partition_key for k in PartitionKeys("hot:tenant-42").wrap_all(_records())[0]} == {"tenant-42"}


def test_explicit_hash_key_is_reproducible_and_in_range_when_random():
    first = [k.explicit_hash_key for k in PartitionKeys("hot", "random").wrap_all(_records())[0]]
    second = [k.explicit_hash_key for k in PartitionKeys("hot", "random").wrap_all(_records())[0]]
    assert first == second and len(set(first)) == len(first)
    assert all(0 <= int(h) <= MAX_HASH_KEY for h in first)
    fixed = PartitionKeys("random", "123456789").wrap(_records(1)[0])
    assert fixed.entry()["ExplicitHashKey"] == "123456789" and fixed.hash_key == 123456789


@pytest.mark.parametrize("strategy, hash_key, match", [
    ("uuid", None, "bad partition key strategy 'uuid'"),
    ("field:", None, "bad partition key strategy"),
    ("field:a..b", None, "bad partition key strategy"),
    ("hot:" + "k" * 300, None, "1-256"),
    ("random", "-1", "bad explicit hash key"),
    ("random", str(2**128), "bad explicit hash key"),
])
def test_bad_strategy_raises_one_line_value_error(strategy, hash_key, match):
    with pytest.raises(ValueError, match=match):
        ProducerOptions(stream_name="s", partition_key=strategy, explicit_hash_key=hash_key)


def test_run_stops_with_usage_error_naming_the_field_when_key_field_is_absent(tmp_path):
    out = tmp_path / "out.jsonl"
    with pytest.raises(ValueError, match="login.nope"):  # at the options, or at the first records
        asyncio.run(run_producer(ProducerOptions(stream_name="s", sink=f"file:{out}", rate=100, duration_s=1,
                                                 partition_key="field:login.nope")))
    assert not out.exists() or out.read_bytes() == b""


def _produce(endpoint, stream, **kw):
    opts = ProducerOptions(stream_name=stream, endpoint_url=endpoint, region=REGION, rate=500, total=100,
                           duration_s=10, seed=2, **kw, **LOCAL_CREDENTIALS)
    return asyncio.run(asyncio.wait_for(run_producer(opts), timeout=30))


def test_stream_records_carry_the_chosen_partition_keys_when_sent_to_kinesis(
        local_kinesis_endpoint, local_kinesis_client_factory):
    client, new_stream = local_kinesis_client_factory
    by_field = new_stream(4)
    assert _produce(local_kinesis_endpoint, by_field, partition_key="field:login.uuid").sent == 100
    stored = read_all_records(client, by_field)
    assert all(r["PartitionKey"] == orjson.loads(r["Data"])["login"]["uuid"] for r in stored)
    assert len({r["ShardId"] for r in stored}) == 4

    hot = new_stream(4)
    assert _produce(local_kinesis_endpoint, hot, partition_key="hot:k").sent == 100
    stored = read_all_records(client, hot)
    assert {r["PartitionKey"] for r in stored} == {"k"} and len({r["ShardId"] for r in stored}) == 1

    spread = new_stream(4)  # one hot key, but random explicit hash keys spread it again
    assert _produce(local_kinesis_endpoint, spread, partition_key="hot:k", explicit_hash_key="random").sent == 100
    assert len({r["ShardId"] for r in read_all_records(client, spread)}) == 4
