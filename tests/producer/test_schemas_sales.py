"""The sales schema for the row-level-security scenario."""
from __future__ import annotations

import collections
from datetime import datetime, timezone
from decimal import Decimal

import orjson
import pytest

from producer.schemas import SchemaError, make_generator, sales_rows

PRODUCED_AT = 1_700_000_000.0


@pytest.fixture(scope="module")
def sales() -> list[dict]:
    gen = make_generator("sales", producer_id="p0", seed=5, run_id="s")
    return [orjson.loads(gen.generate(i, PRODUCED_AT).data) for i in range(6000)]


def test_sales_record_has_the_dashboard_columns_and_envelope_when_decoded(sales):
    assert set(sales[0]) == {"event_id", "run_id", "producer_id", "seq", "produced_at", "region", "country",
                             "product", "category", "quantity", "unit_price", "amount", "sold_at"}
    assert (sales[7]["event_id"], sales[7]["run_id"], sales[7]["seq"], sales[7]["produced_at"]) == \
        ("p0-s-7", "s", 7, PRODUCED_AT)


def test_sales_country_lies_in_its_region_when_decoded(sales):
    region_of = collections.defaultdict(set)
    for row in sales:
        region_of[row["country"]].add(row["region"])
    assert all(len(regions) == 1 for regions in region_of.values())  # a country never changes region
    expected = {"United States": "AMER", "Canada": "AMER", "Brazil": "AMER", "Mexico": "AMER",
                "Germany": "EMEA", "France": "EMEA", "United Kingdom": "EMEA", "South Africa": "EMEA",
                "Japan": "APAC", "India": "APAC", "Australia": "APAC", "Singapore": "APAC"}
    assert {country: region_of[country].pop() for country in expected} == expected


def test_sales_regions_are_about_equally_common_when_6000_generated(sales):
    counts = collections.Counter(row["region"] for row in sales)
    assert set(counts) == {"AMER", "EMEA", "APAC"}
    assert all(1700 < n < 2300 for n in counts.values())


def test_sales_amount_is_quantity_times_unit_price_to_the_cent_when_decoded(sales):
    for row in sales:
        unit, amount = Decimal(str(row["unit_price"])), Decimal(str(row["amount"]))
        assert row["quantity"] >= 1 and unit > 0
        assert amount == row["quantity"] * unit
        assert unit == unit.quantize(Decimal("0.01")) and amount == amount.quantize(Decimal("0.01"))


def test_sales_sold_at_is_within_a_day_before_produced_at_when_decoded(sales):
    for row in sales:
        sold = datetime.strptime(row["sold_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        assert PRODUCED_AT - 86400 <= sold <= PRODUCED_AT


def test_sales_rows_seed_a_table_without_envelope_when_asked():
    rows = list(sales_rows(500, seed=1, end=PRODUCED_AT, window_s=7 * 86400))
    assert len(rows) == 500 and "event_id" not in rows[0] and {"region", "amount"} <= set(rows[0])
    assert rows == list(sales_rows(500, seed=1, end=PRODUCED_AT, window_s=7 * 86400))
    assert rows != list(sales_rows(500, seed=2, end=PRODUCED_AT, window_s=7 * 86400))
    assert min(row["sold_at"] for row in rows) < "2023-11-09"  # spread over the week before


def test_sales_key_is_the_region_when_key_field_is_region():
    gen = make_generator("sales", producer_id="p0", seed=5, run_id="s", key_field="region")
    assert all(r.key == orjson.loads(r.data)["region"] for r in (gen.generate(i, PRODUCED_AT) for i in range(100)))


def test_sales_refuses_key_field_naming_it_when_not_a_field():
    with pytest.raises(SchemaError, match=r"^regio: key field is not a field of sales records"):
        make_generator("sales", producer_id="p0", key_field="regio")
