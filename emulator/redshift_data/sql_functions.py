"""Redshift's JSON functions that PostgreSQL lacks, as SQL functions in ``public`` (installed
on every database the local Data API serves, see ``pools``). ``translate`` rewrites
``JSON_PARSE`` into a call of ``json_parse``; the others keep their Redshift names.

The ``super_*`` functions carry SUPER's semantics over jsonb (casts by dynamic type, NULL
instead of an error in lax mode); translation calls them, users never see their names.
Most are single-expression SQL functions without STRICT so that PostgreSQL inlines them into
the query (a called function costs several times an inlined one per row); CASE keeps the
branch that would fail (``jsonb::numeric`` on a string) from running.
"""
from __future__ import annotations

__all__ = ["HELPER_FUNCTIONS_SQL", "SUPER_FUNCTIONS_SQL"]


def _lax_text_cast(target: str) -> str:
    """A text -> ``target`` cast that yields NULL where PostgreSQL's cast would fail (plpgsql:
    only an exception block can catch the failure, so only strings pay for it)."""
    name = target.replace(" ", "_")
    return (f"CREATE OR REPLACE FUNCTION public.super_text_to_{name}(text) RETURNS {target} LANGUAGE plpgsql "
            f"IMMUTABLE STRICT PARALLEL SAFE AS $$ BEGIN RETURN $1::{target}; "
            f"EXCEPTION WHEN others THEN RETURN NULL; END $$;\n")


def _super_cast(name: str, returns: str, body: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION public.{name}(jsonb) RETURNS {returns} LANGUAGE sql IMMUTABLE "
            f"PARALLEL SAFE AS $$ SELECT {body} $$;\n")


_STRING = "$1 #>> '{}'"
# Casts of a SUPER value (super_casts.py): by dynamic type, NULL where Redshift's lax mode gives NULL.
SUPER_CAST_SQL = "".join([
    *(_lax_text_cast(t) for t in ("bigint", "numeric", "float8", "date", "timestamp", "timestamptz", "time",
                                  "timetz")),
    _super_cast("super_to_varchar", "text",
                f"CASE WHEN jsonb_typeof($1) IN ('object', 'array') THEN NULL ELSE {_STRING} END"),
    # integers: Redshift rounds a decimal like PostgreSQL's numeric -> int; true/false are 1/0
    _super_cast("super_to_integral", "numeric",
                "CASE WHEN jsonb_typeof($1) = 'number' THEN $1::numeric "
                "WHEN jsonb_typeof($1) = 'boolean' THEN CASE WHEN $1::boolean THEN 1 ELSE 0 END "
                f"WHEN jsonb_typeof($1) = 'string' THEN public.super_text_to_bigint({_STRING}) END"),
    _super_cast("super_to_numeric", "numeric",
                "CASE WHEN jsonb_typeof($1) = 'number' THEN $1::numeric "
                f"WHEN jsonb_typeof($1) = 'string' THEN public.super_text_to_numeric({_STRING}) END"),
    _super_cast("super_to_float8", "float8",
                "CASE WHEN jsonb_typeof($1) = 'number' THEN $1::float8 "
                f"WHEN jsonb_typeof($1) = 'string' THEN public.super_text_to_float8({_STRING}) END"),
    # 5::super::bool is true, 5.0::super::bool NULL (scale is not 0): Redshift's documented example
    _super_cast("super_to_boolean", "boolean",
                "CASE WHEN jsonb_typeof($1) = 'boolean' THEN $1::boolean "
                "WHEN jsonb_typeof($1) = 'number' THEN CASE WHEN scale($1::numeric) = 0 THEN $1::numeric <> 0 END "
                "END"),
    *(_super_cast(f"super_to_{t}", t,
                  f"CASE WHEN jsonb_typeof($1) = 'string' THEN public.super_text_to_{t}({_STRING}) END")
      for t in ("date", "timestamp", "timestamptz", "time", "timetz")),
])


def _super_function(name: str, arguments: str, returns: str, body: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION public.{name}({arguments}) RETURNS {returns} LANGUAGE sql IMMUTABLE "
            f"PARALLEL SAFE AS $$ SELECT {body} $$;\n")


def _typed(kind: str) -> str:
    return f"jsonb_typeof($1) = '{kind}'"


_BOTH_NUMBERS = "jsonb_typeof($1) = 'number' AND jsonb_typeof($2) = 'number'"
_COMPARABLE = "jsonb_typeof($1) = jsonb_typeof($2) AND jsonb_typeof($1) IN ('string', 'number', 'boolean')"
_INTEGER_RANGES = {"smallint": 2 ** 15, "integer": 2 ** 31, "bigint": 2 ** 63}
# Operators, type functions, serialisation and unnesting of SUPER values (super_semantics.py).
SUPER_OPERATOR_SQL = "".join([
    # one dynamic type, else NULL: what a string, number or boolean argument of a function sees
    _super_function("super_string", "jsonb", "text", f"CASE WHEN {_typed('string')} THEN $1 #>> '{{}}' END"),
    _super_function("super_number", "jsonb", "numeric", f"CASE WHEN {_typed('number')} THEN $1::numeric END"),
    _super_function("super_bool", "jsonb", "boolean", f"CASE WHEN {_typed('boolean')} THEN $1::boolean END"),
    # <, <=, >, >= compare values of one scalar type; across types they are NULL, not false
    *(_super_function(f"super_{name}", "jsonb, jsonb", "boolean", f"CASE WHEN {_COMPARABLE} THEN $1 {op} $2 END")
      for name, op in (("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="))),
    # arithmetic needs numbers (NULL otherwise); + also joins two strings; integers divide as integers
    _super_function("super_add", "jsonb, jsonb", "jsonb",
                    f"CASE WHEN {_BOTH_NUMBERS} THEN to_jsonb($1::numeric + $2::numeric) "
                    "WHEN jsonb_typeof($1) = 'string' AND jsonb_typeof($2) = 'string' "
                    "THEN to_jsonb(($1 #>> '{}') || ($2 #>> '{}')) END"),
    *(_super_function(f"super_{name}", "jsonb, jsonb", "jsonb",
                      f"CASE WHEN {_BOTH_NUMBERS} THEN to_jsonb({expression}) END")
      for name, expression in (("sub", "$1::numeric - $2::numeric"), ("mul", "$1::numeric * $2::numeric"),
                               ("mod", "mod($1::numeric, $2::numeric)"),
                               ("div", "CASE WHEN scale($1::numeric) = 0 AND scale($2::numeric) = 0 "
                                       "THEN div($1::numeric, $2::numeric) ELSE $1::numeric / $2::numeric END"))),
    _super_function("super_neg", "jsonb", "jsonb", f"CASE WHEN {_typed('number')} THEN to_jsonb(-($1::numeric)) END"),
    # the type functions: false (never NULL) for NULL and for any other type
    *(_super_function(f"is_{kind}", "jsonb", "boolean", f"coalesce({_typed(kind)}, false)")
      for kind in ("boolean", "array", "object")),
    _super_function("is_varchar", "jsonb", "boolean", f"coalesce({_typed('string')}, false)"),
    _super_function("is_char", "jsonb", "boolean",  # CHAR holds ASCII only
                    f"CASE WHEN {_typed('string')} THEN octet_length($1 #>> '{{}}') = char_length($1 #>> '{{}}') "
                    "ELSE false END"),
    _super_function("is_decimal", "jsonb", "boolean", f"coalesce({_typed('number')}, false)"),
    _super_function("is_scalar", "jsonb", "boolean",
                    "coalesce(jsonb_typeof($1) IN ('string', 'number', 'boolean'), false)"),
    *(_super_function(f"is_{kind}", "jsonb", "boolean",
                      f"CASE WHEN {_typed('number')} THEN scale($1::numeric) = 0 "
                      f"AND $1::numeric BETWEEN {-limit} AND {limit - 1} ELSE false END")
      for kind, limit in _INTEGER_RANGES.items()),
    _super_function("super_array_length", "jsonb", "integer",
                    f"CASE WHEN {_typed('array')} THEN jsonb_array_length($1) END"),
    # ORDER BY: Redshift ranks types boolean < number < string < array < object, then values
    _super_function("super_sort_key", "jsonb", "jsonb",
                    "CASE WHEN $1 IS NOT NULL THEN jsonb_build_array(CASE jsonb_typeof($1) WHEN 'boolean' THEN 1 "
                    "WHEN 'number' THEN 2 WHEN 'string' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 5 ELSE 6 END, "
                    "$1) END"),
    # FROM v, v.payload.tags t [AT i]: the elements of an array (none for anything else), index from 0
    _super_function("super_elements", "jsonb", "SETOF jsonb",
                    f"jsonb_array_elements(CASE WHEN {_typed('array')} THEN $1 END)"),
    _super_function("super_elements_at", "jsonb, OUT value jsonb, OUT index integer", "SETOF record",
                    f"e, (o - 1)::integer FROM jsonb_array_elements(CASE WHEN {_typed('array')} THEN $1 END) "
                    "WITH ORDINALITY AS u(e, o)"),
    # JSON_SERIALIZE: compact JSON as Redshift writes it (jsonb's text has blanks after : and ,)
    "CREATE OR REPLACE FUNCTION public.super_serialize(value jsonb) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ BEGIN\n"
    "  IF jsonb_typeof(value) = 'object' THEN RETURN '{' || coalesce((SELECT string_agg(to_jsonb(e.key)::text "
    "|| ':' || public.super_serialize(e.value), ',' ORDER BY e.n) FROM jsonb_each(value) WITH ORDINALITY "
    "AS e(key, value, n)), '') || '}';\n"
    "  ELSIF jsonb_typeof(value) = 'array' THEN RETURN '[' || coalesce((SELECT string_agg(public.super_serialize("
    "e.value), ',' ORDER BY e.n) FROM jsonb_array_elements(value) WITH ORDINALITY AS e(value, n)), '') || ']';\n"
    "  END IF;\n  RETURN value::text;\nEND $$;\n",
])

SUPER_FUNCTIONS_SQL = SUPER_CAST_SQL + SUPER_OPERATOR_SQL

# json_parse(bytea) is STABLE like convert_from inside it: PostgreSQL only inlines a SQL function
# whose body is no more volatile than declared, and the inlined call parses a REFRESH's records
# twice as fast as a called one.
HELPER_FUNCTIONS_SQL = SUPER_FUNCTIONS_SQL + """
CREATE OR REPLACE FUNCTION public.json_parse(bytea) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$ SELECT convert_from($1, 'UTF8')::jsonb $$;
CREATE OR REPLACE FUNCTION public.json_parse(text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::jsonb $$;
CREATE OR REPLACE FUNCTION public.json_serialize(jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT public.super_serialize($1) $$;
CREATE OR REPLACE FUNCTION public.can_json_parse(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ BEGIN PERFORM $1::jsonb; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$;
CREATE OR REPLACE FUNCTION public.can_json_parse(bytea) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ BEGIN PERFORM convert_from($1, 'UTF8')::jsonb; RETURN true;
    EXCEPTION WHEN others THEN RETURN false; END $$;
CREATE OR REPLACE FUNCTION public.is_valid_json(text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ SELECT public.can_json_parse($1) AND jsonb_typeof($1::jsonb) = 'object' $$;
CREATE OR REPLACE FUNCTION public.is_valid_json_array(text) RETURNS boolean LANGUAGE sql IMMUTABLE STRICT
    PARALLEL SAFE AS $$ SELECT public.can_json_parse($1) AND jsonb_typeof($1::jsonb) = 'array' $$;
CREATE OR REPLACE FUNCTION public.json_extract_path_text(text, VARIADIC text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::jsonb #>> $2 $$;
"""
