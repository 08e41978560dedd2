"""``--seed``: the same seed, producer id, run id and send times give the same bytes, in
another process too (different hash seed), for every built-in schema and templates."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson

from producer.schemas import make_generator

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = {"customer": "{{name}}", "age": {"$faker": "pyint", "min_value": 1, "max_value": 99},
            "id": {"$uuid": 4}, "at": {"$now": "iso"}, "tags": [{"$choice": ["a", "b"]}, "{{word}}"]}
STREAM_DIGESTS = textwrap.dedent("""
    import hashlib, json, sys
    from producer.schemas import make_generator
    template = json.loads(sys.argv[1])
    for schema in ("randomuser", "sales", "template"):
        gen = make_generator(schema, producer_id="p3", seed=1234, run_id="r9",
                             template=template if schema == "template" else None)
        digest = hashlib.sha256()
        for seq in range(2000):
            digest.update(gen.generate(seq, 1_700_000_000.0 + seq / 1000).data)
        print(schema, digest.hexdigest())
""")


def _start(hash_seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", STREAM_DIGESTS, orjson.dumps(TEMPLATE).decode()],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _digests(process: subprocess.Popen) -> str:
    try:
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    return out


def test_streams_are_byte_identical_across_processes_when_seed_and_run_id_repeat():
    processes = [_start("1"), _start("2")]  # different hash seeds: no set/dict-order luck
    first, second = (_digests(p) for p in processes)
    assert first == second
    assert len(set(first.split())) == 6  # three schemas, three different streams


def _stream(schema: str, seed: int, run_id: str = "r", n: int = 300, **kw) -> list[bytes]:
    gen = make_generator(schema, producer_id="p0", seed=seed, run_id=run_id,
                         template=TEMPLATE if schema == "template" else None, **kw)
    return [gen.generate(i, 1_700_000_000.0 + i).data for i in range(n)]


def test_streams_differ_when_seed_differs():
    for schema in ("randomuser", "sales", "template"):
        a, b = _stream(schema, seed=1), _stream(schema, seed=2)
        assert sum(x != y for x, y in zip(a, b)) == len(a), schema


def _without_run_fields(data: bytes) -> dict:
    doc = orjson.loads(data)
    del doc["event_id"], doc["run_id"]
    return doc


def test_run_id_changes_only_event_id_and_run_id_when_seed_repeats():
    for schema in ("randomuser", "sales", "template"):
        a, b = _stream(schema, seed=3, run_id="one"), _stream(schema, seed=3, run_id="two")
        assert [_without_run_fields(x) for x in a] == [_without_run_fields(y) for y in b], schema
        assert orjson.loads(a[5])["event_id"] == "p0-one-5" and orjson.loads(b[5])["event_id"] == "p0-two-5"
        assert {orjson.loads(x)["run_id"] for x in a} == {"one"} and {orjson.loads(y)["run_id"] for y in b} == {"two"}


def test_key_field_leaves_the_stream_unchanged_when_seed_repeats():
    assert _stream("randomuser", seed=4, key_field="location.city") == _stream("randomuser", seed=4)
    assert _stream("sales", seed=4, key_field="region") == _stream("sales", seed=4)


def test_records_stay_valid_json_when_producer_id_has_quotes_and_backslashes():
    for schema in ("randomuser", "sales", "template"):
        gen = make_generator(schema, producer_id='p"0\\x', seed=1, run_id="r",
                             template=TEMPLATE if schema == "template" else None)
        rec = gen.generate(7, 1_700_000_000.0)
        doc = orjson.loads(rec.data)
        assert doc["event_id"] == rec.event_id == 'p"0\\x-r-7' and doc["producer_id"] == 'p"0\\x', schema
