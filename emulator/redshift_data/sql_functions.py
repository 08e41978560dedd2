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

SUPER_FUNCTIONS_SQL = SUPER_CAST_SQL

# json_parse(bytea) is STABLE like convert_from inside it: PostgreSQL only inlines a SQL function
# whose body is no more volatile than declared, and the inlined call parses a REFRESH's records
# twice as fast as a called one.
HELPER_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION public.json_parse(bytea) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$ SELECT convert_from($1, 'UTF8')::jsonb $$;
CREATE OR REPLACE FUNCTION public.json_parse(text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::jsonb $$;
CREATE OR REPLACE FUNCTION public.json_serialize(jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::text $$;
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
""" + SUPER_FUNCTIONS_SQL
