"""The external schema and the streaming MV in the Redshift account, through the Data API.

The SQL text is ``streamload.pipeline``'s (the tutorial's), with IAM_ROLE set to the role
chain provision manages. Existence is read the Redshift way: ``svv_external_schemas`` for
the schema, and a ``SELECT ... LIMIT 0`` on the view, which fails with "does not exist".
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from streamload.dataapi.client import DataApiClient, StatementError
from streamload.aws.changes import Change
from streamload.aws.errors import AwsConfigError
from streamload.aws.waits import Backoff
from streamload.core.config import StreamloadConfig
from streamload.pipeline import external_schema_sql, materialized_view_sql

__all__ = [
    "sql_config", "schema_exists", "view_exists", "observe_sql", "drop_sql_objects",
    "parse_sql_tag", "format_sql_tag", "propagation_pending",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# Until IAM has propagated and the role is in-sync on the warehouse, Redshift answers
# CREATE EXTERNAL SCHEMA with errors like these; they are worth retrying, nothing else is.
_PROPAGATION_HINTS = ("not authorized", "accessdenied", "access denied", "unable to assume",
                      "not associated", "is not attached", "invalid iam role", "assumerole")


def _identifier(value: str, field: str) -> str:
    if not _IDENTIFIER.match(value):
        raise AwsConfigError(f"{field} {value!r} is not a plain SQL identifier (letters, digits, _ and $)")
    return value


def sql_config(cfg: StreamloadConfig, iam_role_chain: list[str]) -> StreamloadConfig:
    """A copy of ``cfg`` whose ``redshift.iam_roles`` is the chain provision manages."""
    _identifier(cfg.redshift.external_schema, "redshift.external_schema")
    _identifier(cfg.redshift.materialized_view, "redshift.materialized_view")
    copy = cfg.model_copy(deep=True)
    copy.redshift.iam_roles = list(iam_role_chain)
    return copy


def propagation_pending(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, StatementError) and any(hint in text for hint in _PROPAGATION_HINTS)


def schema_exists(data_api: DataApiClient, schema: str) -> bool:
    result = data_api.execute(f"SELECT schemaname FROM svv_external_schemas WHERE schemaname = '{schema}'", "aws schema exists")
    return bool(result.rows)


def view_exists(data_api: DataApiClient, view: str) -> bool:
    try:
        data_api.execute(f"SELECT 1 FROM {view} LIMIT 0", "aws view exists", fetch=False)
    except StatementError as exc:
        if "does not exist" in str(exc).lower():
            return False
        raise
    return True


def parse_sql_tag(value: str | None) -> dict[str, str]:
    """``"schema:schema_stream mv:my_stream_vw"`` -> ``{"schema": ..., "mv": ...}``.

    Spaces separate because IAM tag values allow no commas."""
    out: dict[str, str] = {}
    for item in (value or "").split():
        kind, _, name = item.partition(":")
        if name:
            out[kind] = name
    return out


def format_sql_tag(objects: dict[str, str]) -> str:
    return " ".join(f"{kind}:{name}" for kind, name in sorted(objects.items()))


def observe_sql(
    cfg: StreamloadConfig,
    data_api: DataApiClient,
    created_by_us: dict[str, str],
    record_created: Callable[[str, str], None],
    backoff: Backoff,
) -> list[Change]:
    """Changes for the external schema and the MV; ``record_created(kind, name)`` notes a creation."""
    schema, view = cfg.redshift.external_schema, cfg.redshift.materialized_view
    wanted = [
        ("schema", "external schema", schema, external_schema_sql(cfg), lambda: schema_exists(data_api, schema)),
        ("mv", "materialized view", view, materialized_view_sql(cfg), lambda: view_exists(data_api, view)),
    ]
    changes = []
    for kind, label, name, statement, exists in wanted:
        if exists():
            ours = created_by_us.get(kind) == name
            changes.append(Change("redshift", label, name, "unchanged" if ours else "foreign",
                                  "" if ours else "exists, not created by this run id; left as is"))
            continue

        def create(kind: str = kind, name: str = name, statement: str = statement) -> None:
            backoff.retry(lambda: data_api.execute(statement, f"aws create {kind}", fetch=False),
                          propagation_pending, f"create {kind} {name}")
            record_created(kind, name)
        changes.append(Change("redshift", label, name, "create", " ".join(statement.split()), apply=create))
    return changes


def drop_sql_objects(data_api: DataApiClient, objects: dict[str, str]) -> list[str]:
    """Drop the MV before the schema it reads from; returns what was dropped."""
    dropped = []
    if "mv" in objects:
        name = _identifier(objects["mv"], "materialized view")
        data_api.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}", "aws drop mv", fetch=False)
        dropped.append(f"materialized view {name}")
    if "schema" in objects:
        name = _identifier(objects["schema"], "external schema")
        data_api.execute(f"DROP SCHEMA IF EXISTS {name}", "aws drop schema", fetch=False)
        dropped.append(f"external schema {name}")
    return dropped


def make_data_api(boto_client: Any, cfg: StreamloadConfig) -> DataApiClient:
    return DataApiClient(boto_client, cfg.redshift, timeout_s=cfg.load.statement_timeout_s)
