"""A Data API with state: statements run synchronously against a set of schemas and views,
failing the way Redshift does ("already exists", "does not exist")."""
from __future__ import annotations

import re
import uuid
from typing import Any

from streamload.dataapi.client import DataApiClient

REGION = "us-east-1"
STREAM_ACCOUNT = "123456789012"  # moto's default account
REDSHIFT_ACCOUNT = "222222222222"
CLUSTER = "load-test-cluster"


def data_api_client(boto_client: Any, cfg: Any) -> DataApiClient:
    """A DataApiClient that never sleeps."""
    return DataApiClient(boto_client, cfg.redshift, poll_min_s=0, poll_max_s=0, timeout_s=5, sleep=lambda _s: None)


class FakeRedshiftData:
    def __init__(self) -> None:
        self.schemas: dict[str, str] = {}  # name -> IAM_ROLE text
        self.views: set[str] = set()
        self.executed: list[str] = []
        self.fail_next: list[str] = []  # error texts for the next statements, in order
        self._statements: dict[str, dict[str, Any]] = {}

    def _run(self, sql: str) -> tuple[str, str, list[list[Any]]]:
        if self.fail_next:
            return "FAILED", self.fail_next.pop(0), []
        text = " ".join(sql.split())
        if m := re.match(r"CREATE EXTERNAL SCHEMA (\w+) FROM KINESIS IAM_ROLE '([^']*)';", text):
            if m[1] in self.schemas:
                return "FAILED", f'ERROR: Schema "{m[1]}" already exists', []
            self.schemas[m[1]] = m[2]
        elif m := re.match(r"CREATE MATERIALIZED VIEW (\w+) AUTO REFRESH YES AS .* FROM (\w+)\.", text):
            if m[2] not in self.schemas:
                return "FAILED", f'ERROR: schema "{m[2]}" does not exist', []
            if m[1] in self.views:
                return "FAILED", f'ERROR: Relation "{m[1]}" already exists', []
            self.views.add(m[1])
        elif m := re.match(r"SELECT schemaname FROM svv_external_schemas WHERE schemaname = '(\w+)'", text):
            return "FINISHED", "", [[{"stringValue": m[1]}]] if m[1] in self.schemas else []
        elif m := re.match(r"(?:SELECT 1 FROM|REFRESH MATERIALIZED VIEW) (\w+)", text):
            if m[1] not in self.views:
                return "FAILED", f'ERROR: relation "{m[1]}" does not exist', []
        elif m := re.match(r"DROP MATERIALIZED VIEW IF EXISTS (\w+)", text):
            self.views.discard(m[1])
        elif m := re.match(r"DROP SCHEMA IF EXISTS (\w+)", text):
            self.schemas.pop(m[1], None)
        elif text == "SELECT 1":
            return "FINISHED", "", [[{"longValue": 1}]]
        else:
            return "FAILED", f"fake Data API does not understand: {text}", []
        return "FINISHED", "", []

    def execute_statement(self, Sql: str, **_target: Any) -> dict[str, Any]:
        self.executed.append(Sql)
        status, error, rows = self._run(Sql)
        statement_id = str(uuid.uuid4())
        self._statements[statement_id] = {"Status": status, "Error": error, "rows": rows}
        return {"Id": statement_id}

    def describe_statement(self, Id: str) -> dict[str, Any]:
        st = self._statements[Id]
        desc = {"Id": Id, "Status": st["Status"], "HasResultSet": bool(st["rows"]) or st["Status"] == "FINISHED"}
        if st["Error"]:
            desc["Error"] = st["Error"]
        return desc

    def get_statement_result(self, Id: str, **_: Any) -> dict[str, Any]:
        rows = self._statements[Id]["rows"]
        return {"ColumnMetadata": [{"name": "c"}], "Records": rows, "TotalNumRows": len(rows)}
