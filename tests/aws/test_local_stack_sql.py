"""The schema/MV step of provision and teardown against the local stack's Data API (real
PostgreSQL behind it), to check the SQL text and the existence reads, not just a fake."""
from __future__ import annotations

import uuid

import boto3
import pytest

from streamload.aws.sql import drop_sql_objects, observe_sql, sql_config, view_exists
from streamload.aws.waits import Backoff
from streamload.core.config import StreamloadConfig
from streamload.pipeline import external_schema_sql, materialized_view_sql

from .fakes import data_api_client

emulator_server = pytest.importorskip("emulator.redshift_data.server")
LOCAL = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local", "region_name": "us-east-1"}
CHAIN = ["arn:aws:iam::222222222222:role/RedshiftStreamRole", "arn:aws:iam::111111111111:role/KinesisStreamRole"]


@pytest.fixture
def local_data_api(postgres):
    from emulator.kinesis.server import create_app as create_kinesis_app
    from emulator.redshift_data.settings import RedshiftDataSettings
    from emulator.runtime import BackgroundServer

    # one database per test: the tests share the session's PostgreSQL and leave objects behind
    database = postgres.create_database(f"aws_sql_{uuid.uuid4().hex[:10]}").rsplit("/", 1)[1]
    with BackgroundServer(create_kinesis_app) as kinesis:
        boto3.client("kinesis", endpoint_url=kinesis.url, **LOCAL).create_stream(StreamName="my-data-stream", ShardCount=1)
        settings = RedshiftDataSettings(pg_dsn=postgres.dsn, kinesis_endpoint_url=kinesis.url, auto_refresh_interval_s=0)
        with BackgroundServer(lambda: emulator_server.create_app(settings)) as server:
            cfg = StreamloadConfig.model_validate({"redshift": {"workgroup_name": "local", "database": database}})
            yield sql_config(cfg, CHAIN), data_api_client(boto3.client("redshift-data", endpoint_url=server.url, **LOCAL), cfg)


def test_chained_schema_and_view_accepted_and_dropped_when_run_on_local_stack(local_data_api):
    cfg, data_api = local_data_api
    assert not view_exists(data_api, "my_stream_vw")
    data_api.execute(external_schema_sql(cfg), "schema", fetch=False)
    data_api.execute(materialized_view_sql(cfg), "mv", fetch=False)
    assert view_exists(data_api, "my_stream_vw")
    data_api.execute("REFRESH MATERIALIZED VIEW my_stream_vw", "refresh", fetch=False)
    drop_sql_objects(data_api, {"mv": "my_stream_vw"})
    assert not view_exists(data_api, "my_stream_vw")


def test_provision_sql_step_is_idempotent_and_reversible_when_run_on_local_stack(local_data_api):
    cfg, data_api = local_data_api
    created: dict[str, str] = {}
    changes = observe_sql(cfg, data_api, {}, created.__setitem__, Backoff(timeout_s=0))
    assert [c.action for c in changes] == ["create", "create"]
    for change in changes:
        change.apply()
    assert created == {"schema": "schema_stream", "mv": "my_stream_vw"}
    again = observe_sql(cfg, data_api, created, created.__setitem__, Backoff(timeout_s=0))
    assert [c.action for c in again] == ["unchanged", "unchanged"]
    drop_sql_objects(data_api, created)
    assert [c.action for c in observe_sql(cfg, data_api, {}, created.__setitem__, Backoff(timeout_s=0))] == ["create"] * 2
