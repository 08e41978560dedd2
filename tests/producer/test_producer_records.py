"""The record generator: randomuser.me shape, envelope, determinism, uniqueness."""
from __future__ import annotations

import orjson

from producer.schemas import RandomUserRecords


def test_records_identical_when_seed_and_run_id_repeat():
    first = RandomUserRecords("p0", seed=7, run_id="r1")
    second = RandomUserRecords("p0", seed=7, run_id="r1")
    assert [first.generate(i, 100.0 + i).data for i in range(500)] == \
           [second.generate(i, 100.0 + i).data for i in range(500)]


def test_records_differ_when_seed_differs():
    a = RandomUserRecords("p0", seed=1, run_id="r").record(0, 0.0)
    b = RandomUserRecords("p0", seed=2, run_id="r").record(0, 0.0)
    assert (a["name"], a["login"]["uuid"]) != (b["name"], b["login"]["uuid"])


def test_records_have_no_duplicates_when_100k_generated():
    gen = RandomUserRecords("p0", seed=3)
    records = [gen.generate(i, 1.0) for i in range(100_000)]
    assert len({r.event_id for r in records}) == 100_000
    assert len({r.data for r in records}) == 100_000  # event_id alone already differs...
    uuids = {orjson.loads(r.data)["login"]["uuid"] for r in records[:20_000]}
    assert len(uuids) == 20_000  # ...so check a payload field too


def test_event_ids_differ_when_two_runs_reuse_producer_id_and_seed():
    # Otherwise the audit would mistake an earlier run's rows for this run's duplicates.
    a = RandomUserRecords("p0", seed=5).generate(0, 0.0)
    b = RandomUserRecords("p0", seed=5).generate(0, 0.0)
    assert a.event_id != b.event_id


def test_record_has_randomuser_shape_and_envelope_when_decoded():
    gen = RandomUserRecords("loader-3", seed=11, run_id="abc")
    rec = gen.generate(42, 1_700_000_000.125)
    doc = orjson.loads(rec.data)
    assert (doc["event_id"], doc["producer_id"], doc["seq"], doc["produced_at"]) == \
           (rec.event_id, "loader-3", 42, 1_700_000_000.125)
    assert doc["gender"] in ("male", "female")
    assert set(doc["name"]) == {"title", "first", "last"}
    assert set(doc["location"]) == {"street", "city", "state", "country", "postcode", "coordinates", "timezone"}
    assert set(doc["location"]["street"]) == {"number", "name"}
    assert set(doc["location"]["coordinates"]) == {"latitude", "longitude"}
    assert set(doc["location"]["timezone"]) == {"offset", "description"}
    assert set(doc["login"]) == {"uuid", "username", "password", "salt", "md5", "sha1", "sha256"}
    assert (len(doc["login"]["md5"]), len(doc["login"]["sha1"]), len(doc["login"]["sha256"])) == (32, 40, 64)
    assert doc["dob"]["date"].endswith("Z") and 18 <= doc["dob"]["age"] <= 80
    assert set(doc["registered"]) == {"date", "age"}
    assert doc["phone"] and doc["cell"] and "@" in doc["email"]
    assert set(doc["id"]) == {"name", "value"}
    assert set(doc["picture"]) == {"large", "medium", "thumbnail"}
    assert len(doc["nat"]) == 2
    assert 700 < len(rec.data) < 2000  # randomuser.me records are ~1.1 KB
