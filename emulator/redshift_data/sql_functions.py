"""Redshift's JSON functions that PostgreSQL lacks, as SQL functions in ``public`` (installed
on every database the local Data API serves, see ``pools``). ``translate`` rewrites
``JSON_PARSE`` into a call of ``json_parse``; the others keep their Redshift names.
"""
from __future__ import annotations

__all__ = ["HELPER_FUNCTIONS_SQL"]

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
"""
