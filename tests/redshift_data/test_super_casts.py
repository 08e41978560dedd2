"""Casting SUPER values, as Redshift documents it ("Limitations" of SUPER, "Lax semantics" in
"Querying semistructured data"), through the Data API: a SUPER string cast to VARCHAR is the
string without JSON quotes, numbers and booleans cast to their types, and a cast that cannot
succeed gives NULL (lax mode) rather than an error.

Like every ``test_super_*`` module, it runs against the local stack and, with
``STREAMLOAD_CONTRACT_AWS=1``, against a real warehouse too (see ``test_contract``).
"""
from __future__ import annotations

from .test_super_semantics import Column, query, super_table, warehouse  # noqa: F401  (fixtures)


def test_super_string_casts_to_varchar_without_quotes_when_cast_to_varchar_text_or_char(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT payload.run_id::varchar, CAST(payload.run_id AS VARCHAR(2)) AS short, "
                                     f"CAST(payload.run_id AS TEXT) AS t, CAST(payload.nat AS CHAR(3)) AS c "
                                     f"FROM {super_table} WHERE id = 1")
    assert rows == [["abc", "ab", "abc", "NO "]]
    assert columns == [Column("run_id", "varchar"), Column("short", "varchar"), Column("t", "varchar"),
                       Column("c", "bpchar")]


def test_super_numbers_and_booleans_cast_to_their_types_when_cast(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT payload.seq::bigint, payload.seq::int AS i, "
                                     f"payload.produced_at::float8 AS at, payload.ok::boolean, "
                                     f"payload.price::decimal(5,2) AS price FROM {super_table} WHERE id = 1")
    assert rows == [[5, 5, 1733300000.25, True, "1.50"]]
    assert columns == [Column("seq", "int8"), Column("i", "int4"), Column("at", "float8"), Column("ok", "bool"),
                       Column("price", "numeric")]


def test_super_scalars_cast_to_varchar_as_text_when_not_strings(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT payload.seq::varchar, payload.ok::varchar AS ok "
                               f"FROM {super_table} WHERE id = 1")
    assert rows == [["5", "true"]]


def test_super_cast_gives_null_when_value_cannot_be_cast(warehouse, super_table):
    # 'Good'::integer, an object or array to VARCHAR, 5.0 to BOOLEAN, a missing path: NULL, no error
    rows, _ = query(warehouse, f"SELECT payload.status::integer, payload.name::varchar AS n, "
                               f"payload.tags::varchar AS t, payload.five_point_oh::boolean AS b, "
                               f"payload.nope::varchar AS missing FROM {super_table} WHERE id = 1")
    assert rows == [[None, None, None, None, None]]


def test_super_integer_casts_to_boolean_when_scale_is_zero(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT payload.seq::boolean FROM {super_table} WHERE id = 1")
    assert rows == [[True]]


def test_super_string_casts_to_date_when_it_holds_a_date(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT payload.day::date FROM {super_table} WHERE id = 1")
    assert rows == [["2001-09-08"]] and columns == [Column("day", "date")]


def test_cast_of_super_casts_chains_when_cast_twice(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT payload.seq::varchar::int + 1 AS next FROM {super_table} WHERE id = 1")
    assert rows == [[6]]
