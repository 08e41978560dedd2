"""Kept as an import path: the generators live in ``producer.schemas`` now.

``from producer.records import GeneratedRecord, RandomUserRecords, SCHEMAS`` keeps working.
"""
from producer.schemas import (
    SCHEMAS,
    GeneratedRecord,
    RandomUserRecords,
    SalesRecords,
    SchemaError,
    TemplateRecords,
    check_schema,
    make_generator,
)

__all__ = ["SCHEMAS", "GeneratedRecord", "RandomUserRecords", "SalesRecords", "SchemaError",
           "TemplateRecords", "check_schema", "make_generator"]
