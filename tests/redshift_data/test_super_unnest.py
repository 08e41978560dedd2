"""Unnesting SUPER arrays in the FROM clause (PartiQL), as Redshift's "Unnesting queries"
documents it: ``FROM t AS x, x.array AS element [AT index]``.

Runs against the local stack, and against a warehouse with ``STREAMLOAD_CONTRACT_AWS=1``."""
from __future__ import annotations

import pytest

from .test_super_semantics import Column, query, super_table, super_table_of, warehouse  # noqa: F401

ARRAYS = {
    1: '{"scalar_array": [1, 2.3, 45000000], "multi_level_array": [[1.1, 1.2], [2.1, 2.2], [3.1, 3.2]], '
       '"c_orders": [{"o_orderkey": 3020007, "o_lineitems": [{"l_partkey": 1}, {"l_partkey": 2}]}]}',
}


@pytest.fixture(scope="module")
def array_table(warehouse):
    yield from super_table_of(warehouse, ARRAYS)


def test_unnesting_iterates_over_array_elements_when_array_is_navigated_in_from(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT v.id, t FROM {super_table} v, v.payload.tags t ORDER BY v.id, t")
    assert rows == [[1, '"a"'], [1, '"b"'], [3, '"c"']]  # id 2's empty array gives no row
    assert columns == [Column("id", "int4"), Column("t", "super")]


def test_unnesting_with_at_gives_zero_based_index_when_iterating_scalar_array(warehouse, array_table):
    rows, columns = query(warehouse, f"SELECT index, element FROM {array_table} AS b, "
                                     f"b.payload.scalar_array AS element AT index ORDER BY index")
    assert rows == [[0, "1"], [1, "2.3"], [2, "45000000"]]
    assert [c.label for c in columns] == ["index", "element"] and columns[1].type_name == "super"


def test_unnesting_twice_reaches_inner_arrays_when_array_holds_arrays(warehouse, array_table):
    rows, _ = query(warehouse, f"SELECT arr, el FROM {array_table} AS f, f.payload.multi_level_array AS arr, "
                               f"arr AS el ORDER BY el")
    assert [row[1] for row in rows] == ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2"]
    assert rows[0][0] == "[1.1,1.2]"


def test_unnested_element_navigates_further_when_it_is_an_object(warehouse, array_table):
    rows, columns = query(warehouse, f"SELECT o.o_orderkey, l.l_partkey FROM {array_table} c, c.payload.c_orders o, "
                                     f"o.o_lineitems l ORDER BY l.l_partkey")
    assert rows == [["3020007", "1"], ["3020007", "2"]]
    assert columns == [Column("o_orderkey", "super"), Column("l_partkey", "super")]
