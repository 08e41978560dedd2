"""Record schemas: what the producer puts in each record.

Public surface::

    gen = make_generator("randomuser", producer_id="p0", seed=42, key_field="login.uuid")
    rec: GeneratedRecord = gen.generate(seq, produced_at)   # .data (JSON bytes), .key

``schema`` is a built-in name (``randomuser``, ``sales``), a path to a ``.json``/``.yaml``
template (see ``template``), or the name of a plug-in registered under the entry point
group ``streamload.schemas`` (see ``plugins``). ``check_schema`` validates one without
building it, for option parsing. Every problem raises ``SchemaError`` (a ``ValueError``)
with a one-line message naming the field.

Modules: ``base`` (envelope, ``RecordGenerator``), ``randomuser`` (+ ``randomuser_pools``,
``randomuser_nats``), ``sales``, ``template``, ``plugins``.
"""
from __future__ import annotations

from pathlib import Path

from producer.schemas.base import ENVELOPE_FIELDS, GeneratedRecord, RecordGenerator, SchemaError
from producer.schemas.plugins import build_plugin, load_plugin, plugin_names
from producer.schemas import randomuser, sales
from producer.schemas.randomuser import RandomUserRecords
from producer.schemas.sales import SalesRecords, sales_rows
from producer.schemas.template import TEMPLATE_SUFFIXES, TemplateRecords, compile_template_file

__all__ = [
    "SCHEMAS", "ENVELOPE_FIELDS", "GeneratedRecord", "RecordGenerator", "SchemaError",
    "RandomUserRecords", "SalesRecords", "TemplateRecords", "sales_rows",
    "make_generator", "check_schema", "describe_schemas", "is_template_path",
]

_BUILTIN = {"randomuser": RandomUserRecords, "sales": SalesRecords}
SCHEMAS = tuple(_BUILTIN)  # the built-in names
_FIELD_PATHS = {"randomuser": randomuser.FIELD_PATHS, "sales": sales.FIELD_PATHS}


def is_template_path(schema: str) -> bool:
    return str(schema).lower().endswith(TEMPLATE_SUFFIXES)


def describe_schemas() -> str:
    """One line for ``--help`` and errors: what ``--schema`` accepts here."""
    plugins = plugin_names()
    text = f"{', '.join(SCHEMAS)}, a path to a .json/.yaml template"
    return text + (f", or a plug-in: {', '.join(plugins)}" if plugins else ", or a plug-in name")


def _unknown(schema: str) -> SchemaError:
    return SchemaError(f"unknown schema {schema!r}; use {describe_schemas()}")


def check_schema(schema: str, key_field: str | None = None) -> None:
    """Raise ``SchemaError`` if ``schema`` (and ``key_field``) cannot be used. Templates are
    compiled here (and cached), so their mistakes surface before a run starts."""
    if not isinstance(schema, str) or not schema:
        raise SchemaError(f"schema must be a non-empty name or path, got {schema!r}")
    if schema in _BUILTIN:
        if key_field and key_field not in _FIELD_PATHS[schema]:
            raise SchemaError(f"{key_field}: key field is not a field of {schema} records")
        return
    if is_template_path(schema):
        compile_template_file(schema, key_field or None)
        return
    if load_plugin(schema) is None:
        raise _unknown(schema)


def make_generator(schema: str, *, producer_id: str, seed: int | None = None, run_id: str | None = None,
                   key_field: str | None = None, template: dict | None = None):
    """A generator for ``schema``; with ``template`` (a parsed template), ``schema`` is only
    its label. Returns an object with ``generate(seq, produced_at) -> GeneratedRecord``,
    ``record(seq, produced_at) -> dict`` (built-ins and ``RecordGenerator`` subclasses) and
    ``run_id``."""
    if template is not None:
        generator = TemplateRecords(producer_id, template, seed, run_id, key_field=key_field)
        generator.schema = schema or "template"
        return generator
    if schema in _BUILTIN:
        return _BUILTIN[schema](producer_id, seed, run_id, key_field=key_field)
    if isinstance(schema, (str, Path)) and is_template_path(str(schema)):
        return TemplateRecords(producer_id, schema, seed, run_id, key_field=key_field)
    factory = load_plugin(schema) if isinstance(schema, str) and schema else None
    if factory is None:
        raise _unknown(schema)
    return build_plugin(schema, factory, producer_id, seed, run_id, key_field)
