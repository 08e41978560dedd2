"""Checks of the ``[producer]`` section that need the producer's own parsers (rate profiles,
schemas and their plug-ins, partition keys). The config layer below cannot import them, so
the orchestrator runs these right after loading a config (``streamload.run_config``)."""
from __future__ import annotations

from producer.partition_keys import PartitionKeys
from producer.profiles import parse_profile
from producer.schemas import check_schema

__all__ = ["check_producer_section"]


def check_producer_section(profile: str | None, schema_name: str, partition_key: str) -> None:
    """Raise ValueError naming the problem if the producer could not run these settings."""
    if profile is not None:
        parse_profile(profile)  # ValueError names the problem
    check_schema(schema_name, PartitionKeys(partition_key).key_field)  # SchemaError is a ValueError
