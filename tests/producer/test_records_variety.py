"""Records stay varied: pools must not make a million records repeat each other."""
from __future__ import annotations

import collections

import orjson
import pytest

from producer.schemas import RandomUserRecords


@pytest.mark.slow
def test_randomuser_has_no_two_identical_records_when_1m_generated_even_without_envelope_and_uuid():
    # event_id and login.uuid differ by construction, so compare what is left: the
    # person, address, login, dates and contacts drawn from the pools.
    gen = RandomUserRecords("p0", seed=8, run_id="variety")
    seen: set[int] = set()
    for seq in range(1_000_000):
        data = gen.generate(seq, 1_700_000_000.0).data
        body = data[data.index(b'"gender"'):]
        cut = body.index(b'"uuid":"') + 8
        seen.add(hash(body[:cut] + body[cut + 36:]))
    assert len(seen) == 1_000_000


def test_randomuser_fields_take_many_values_when_30k_generated():
    gen = RandomUserRecords("p0", seed=8, run_id="variety")
    docs = [orjson.loads(gen.generate(seq, 1_700_000_000.0).data) for seq in range(30_000)]

    def distinct(get) -> int:
        return len({get(d) for d in docs})

    assert distinct(lambda d: (d["name"]["first"], d["name"]["last"])) > 25_000
    assert distinct(lambda d: (d["location"]["street"]["number"], d["location"]["street"]["name"])) > 25_000
    assert distinct(lambda d: d["login"]["username"]) > 20_000
    assert distinct(lambda d: d["login"]["sha256"]) > 4_000
    assert distinct(lambda d: d["dob"]["date"]) > 7_500
    assert distinct(lambda d: d["phone"]) > 5_000
    # No value dominates: the commonest last name is a small share of its nationality.
    per_nat = collections.Counter(d["nat"] for d in docs)
    commonest = collections.Counter((d["nat"], d["name"]["last"]) for d in docs).most_common(1)[0]
    assert commonest[1] < 0.05 * per_nat[commonest[0][0]]
