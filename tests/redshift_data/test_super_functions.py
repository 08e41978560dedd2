"""SUPER type information functions, JSON_SERIALIZE/JSON_SIZE, array functions and arithmetic,
each expectation from Redshift's documentation ("SUPER type information functions", the
JSON_TYPEOF, IS_*, JSON_SERIALIZE, JSON_SIZE pages, "Operators and functions").

Runs against the local stack, and against a warehouse with ``STREAMLOAD_CONTRACT_AWS=1``."""
from __future__ import annotations

from .test_super_semantics import Column, query, super_table, warehouse  # noqa: F401  (fixtures)


def test_json_typeof_names_the_dynamic_type_when_given_super_values(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT JSON_TYPEOF(payload), JSON_TYPEOF(payload.seq), "
                                     f"JSON_TYPEOF(payload.tags), JSON_TYPEOF(payload.gender), "
                                     f"JSON_TYPEOF(payload.ok) FROM {super_table} WHERE id = 1")
    assert rows == [["object", "number", "array", "string", "boolean"]]
    assert columns == [Column("json_typeof", "varchar")] * 5


def test_json_typeof_of_array_and_parsed_object_when_documented_examples(warehouse):
    rows, _ = query(warehouse, "SELECT JSON_TYPEOF(ARRAY(1,2)), JSON_TYPEOF(JSON_PARSE('{\"name\":\"Joe\"}'))")
    assert rows == [["array", "object"]]


def test_type_functions_are_true_for_their_type_when_value_has_it(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT IS_VARCHAR(payload.gender), IS_CHAR(payload.gender), "
                                     f"IS_SMALLINT(payload.seq), IS_INTEGER(payload.seq), IS_BIGINT(payload.seq), "
                                     f"IS_DECIMAL(payload.price), IS_BOOLEAN(payload.ok), IS_ARRAY(payload.tags), "
                                     f"IS_OBJECT(payload.name), IS_SCALAR(payload.name.first) "
                                     f"FROM {super_table} WHERE id = 1")
    assert rows == [[True] * 10]
    assert [c.label for c in columns] == ["is_varchar", "is_char", "is_smallint", "is_integer", "is_bigint",
                                          "is_decimal", "is_boolean", "is_array", "is_object", "is_scalar"]
    assert {c.type_name for c in columns} == {"bool"}


def test_type_functions_are_false_when_value_is_of_another_type_or_null(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT IS_VARCHAR(payload.seq), IS_INTEGER(payload.gender), IS_ARRAY(payload.name), "
                               f"IS_OBJECT(payload.tags), IS_SCALAR(payload.name), IS_BOOLEAN(payload.nope), "
                               f"IS_SCALAR(payload.nope) FROM {super_table} WHERE id = 1")
    assert rows == [[False] * 7]


def test_json_serialize_writes_compact_json_when_given_super(warehouse):
    rows, columns = query(warehouse, "SELECT JSON_SERIALIZE(JSON_PARSE('[10001,10002,\"abc\"]'))")
    assert rows == [["[10001,10002,\"abc\"]"]] and columns == [Column("json_serialize", "varchar")]


def test_json_serialize_of_array_is_its_json_when_a_cast_to_varchar_is_null(warehouse):
    rows, _ = query(warehouse, "SELECT r_nations::varchar, JSON_SERIALIZE(r_nations) "
                               "FROM (SELECT JSON_PARSE('[1,\"abc\",null]') AS r_nations) AS region_nations")
    assert rows == [[None, "[1,\"abc\",null]"]]


def test_json_size_counts_bytes_when_string_holds_multibyte_characters(warehouse):
    rows, columns = query(warehouse, "SELECT JSON_SIZE(JSON_PARSE('[10001,10002,\"⬤\"]'))")
    assert rows == [[19]] and columns[0].label == "json_size"


def test_array_builds_super_array_and_get_array_length_counts_it_when_called(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT ARRAY(1, 'abc', NULL), GET_ARRAY_LENGTH(payload.tags) "
                                     f"FROM {super_table} WHERE id = 1")
    assert rows == [["[1,\"abc\",null]", 2]]
    assert columns[0] == Column("array", "super")


def test_arithmetic_on_super_numbers_gives_super_when_operands_are_numbers(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT payload.seq + 1, payload.seq - 1, payload.seq * 2, -payload.seq "
                                     f"FROM {super_table} WHERE id = 1")
    assert rows == [["6", "4", "10", "-5"]]
    assert columns == [Column("?column?", "super")] * 4


def test_plus_concatenates_super_strings_and_is_null_when_types_mix(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT payload.name.first + payload.name.last, payload.seq + payload.gender, "
                               f"-payload.gender, payload.gender * 2 FROM {super_table} WHERE id = 1")
    assert rows == [['"AnnLee"', None, None, None]]


def test_plus_concatenates_super_string_with_named_parameter_when_parameter_is_text(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT payload.name.first + :suffix FROM {super_table} WHERE id = 1",
                    Parameters=[{"name": "suffix", "value": "!"}])
    assert rows == [['"Ann!"']]


def test_math_functions_round_super_numbers_and_are_null_when_not_numbers(warehouse, super_table):
    rows, columns = query(warehouse, f"SELECT FLOOR(payload.price), CEIL(payload.price), ROUND(payload.price), "
                                     f"FLOOR(payload.gender) FROM {super_table} WHERE id = 1")
    assert rows == [["1", "2", "2", None]]
    assert [c.label for c in columns] == ["floor", "ceil", "round", "floor"]


def test_string_functions_read_super_strings_when_given_navigation(warehouse, super_table):
    rows, _ = query(warehouse, f"SELECT UPPER(payload.gender), payload.name.first || ' ' || payload.name.last "
                               f"FROM {super_table} WHERE id = 1")
    assert rows == [["FEMALE", "Ann Lee"]]
