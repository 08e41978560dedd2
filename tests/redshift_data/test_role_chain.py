"""IAM_ROLE chain validation at REFRESH: the model, then through boto3 with a local IAM."""
from __future__ import annotations

import time
import uuid

import boto3
import pytest

from emulator.identity.registry import IdentityRegistry
from emulator.redshift_data import RedshiftDataSettings, create_app
from emulator.redshift_data.role_chain import (IamRoleCatalog, RoleChainError, check_role_chain, policy_allows,
                                               reference_iam_catalog)
from emulator.runtime import BackgroundServer

from .conftest import LOCAL_CREDENTIALS, run_sql
from .test_streaming import make_stream, put_users

REDSHIFT_ACCOUNT, STREAM_ACCOUNT = "222222222222", "111111111111"
FIRST = f"arn:aws:iam::{REDSHIFT_ACCOUNT}:role/RedshiftStreamRole"
SECOND = f"arn:aws:iam::{STREAM_ACCOUNT}:role/KinesisStreamRole"
CHAIN = f"{FIRST},{SECOND}"
READ_ALL_STREAMS = {"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}


def check(catalog, iam_role=CHAIN, warehouse="wg", stream="my-data-stream"):
    return check_role_chain(catalog, iam_role, warehouse, stream, "us-east-1")


def trust(principal):
    return {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}


def test_chain_is_accepted_when_set_up_as_the_redshift_guide_says():
    assert check(reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT)) == [FIRST, SECOND]


def test_chain_fails_at_hop_1_when_first_role_not_attached_to_workgroup():
    catalog = reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT, warehouse="other-wg")
    with pytest.raises(RoleChainError, match=r"role/RedshiftStreamRole \(hop 1 .*not associated with \"wg\""):
        check(catalog)


def test_chain_fails_at_hop_1_when_first_role_does_not_trust_redshift():
    catalog = reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT)
    catalog.put_role(FIRST, trust({"Service": "ec2.amazonaws.com"}), catalog.role(FIRST).policies)
    with pytest.raises(RoleChainError, match=r"hop 1 .*does not trust redshift.amazonaws.com"):
        check(catalog)


def test_chain_fails_at_hop_2_when_second_role_does_not_trust_the_first():
    catalog = reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT)
    catalog.put_role(SECOND, trust({"AWS": "arn:aws:iam::333333333333:role/Someone"}), catalog.role(SECOND).policies)
    with pytest.raises(RoleChainError, match=r"KinesisStreamRole \(hop 2 .*does not trust .*RedshiftStreamRole"):
        check(catalog)


def test_chain_fails_at_hop_2_when_first_role_may_not_assume_the_second():
    catalog = reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT)
    catalog.put_role(FIRST, catalog.role(FIRST).trust_policy, [])
    with pytest.raises(RoleChainError, match=r"hop 2 .*RedshiftStreamRole is not allowed sts:AssumeRole"):
        check(catalog)


def test_chain_fails_at_last_hop_when_last_role_may_not_read_the_stream():
    catalog = reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT)
    only_other = {"Statement": [{"Effect": "Allow", "Action": "kinesis:*",
                                 "Resource": f"arn:aws:kinesis:*:{STREAM_ACCOUNT}:stream/other-*"}]}
    catalog.put_role(SECOND, catalog.role(SECOND).trust_policy, [only_other])
    with pytest.raises(RoleChainError, match=r"not authorized to perform: kinesis:\w+ on resource: "
                                             r"arn:aws:kinesis:us-east-1:111111111111:stream/my-data-stream \(hop 2"):
        check(catalog)


def test_chain_fails_naming_the_hop_when_a_role_does_not_exist():
    catalog = reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT)
    missing = f"arn:aws:iam::{STREAM_ACCOUNT}:role/Nobody"
    with pytest.raises(RoleChainError, match=r"role/Nobody \(hop 3 of the IAM_ROLE chain\): the role does not exist"):
        check(catalog, f"{CHAIN},{missing}")


def test_chain_fails_when_an_arn_is_malformed_or_spaced():
    with pytest.raises(RoleChainError, match="Invalid IAM role ARN .* at hop 2"):
        check(reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT), f"{FIRST}, {SECOND}")


def test_default_role_is_used_when_iam_role_is_default():
    catalog = IamRoleCatalog()
    with pytest.raises(RoleChainError, match="no default IAM role"):
        check(catalog, "default")
    own = f"arn:aws:iam::{REDSHIFT_ACCOUNT}:role/ClusterDefault"
    catalog.put_role(own, trust({"Service": "redshift.amazonaws.com"}), [READ_ALL_STREAMS])
    catalog.attach("wg", own, default=True)
    assert check(catalog, "default") == [own]


def test_explicit_deny_wins_when_policies_allow_and_deny():
    allow = {"Statement": [{"Effect": "Allow", "Action": "kinesis:Get*", "Resource": "*"}]}
    deny = {"Statement": {"Effect": "Deny", "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:*"}}
    assert policy_allows([allow], "kinesis:GetRecords", "arn:aws:kinesis:us-east-1:1:stream/s")
    assert not policy_allows([allow, deny], "kinesis:GetRecords", "arn:aws:kinesis:us-east-1:1:stream/s")
    assert not policy_allows([allow], "kinesis:ListShards", "arn:aws:kinesis:us-east-1:1:stream/s")


@pytest.fixture
def iam_registry():
    registry = IdentityRegistry()
    registry.iam = reference_iam_catalog(REDSHIFT_ACCOUNT, STREAM_ACCOUNT, warehouse="local")
    return registry


@pytest.fixture
def checked_client(postgres, kinesis_url, iam_registry):
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, kinesis_endpoint_url=kinesis_url, auto_refresh_interval_s=0,
                                    identity_registry=iam_registry)
    with BackgroundServer(lambda: create_app(settings)) as server:
        yield boto3.client("redshift-data", endpoint_url=server.url, **LOCAL_CREDENTIALS)


def _stream_with_records(kinesis) -> str:
    stream = f"chain-{uuid.uuid4().hex[:8]}"
    make_stream(kinesis, stream, shards=1)
    put_users(kinesis, stream, [("Ann", "Lee"), ("Bo", "Ek")])
    return stream


def _view_over(client, database: str, iam_role: str, stream: str) -> None:
    for sql in (f"CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE {iam_role}",
                f'CREATE MATERIALIZED VIEW v AS SELECT JSON_PARSE(kinesis_data) AS p FROM ks."{stream}"'):
        assert run_sql(client, sql, database=database)["Status"] == "FINISHED"


def test_refresh_reads_stream_when_chain_is_valid(checked_client, kinesis, fresh_database):
    stream = _stream_with_records(kinesis)
    _view_over(checked_client, fresh_database, f"'{CHAIN}'", stream)
    refreshed = run_sql(checked_client, "REFRESH MATERIALIZED VIEW v", database=fresh_database)
    assert refreshed["Status"] == "FINISHED", refreshed.get("Error")
    counted = run_sql(checked_client, "SELECT count(*) FROM v", database=fresh_database)
    assert checked_client.get_statement_result(Id=counted["Id"])["Records"] == [[{"longValue": 2}]]


def test_refresh_fails_naming_the_hop_and_ingests_nothing_when_chain_is_reversed(
        checked_client, kinesis, fresh_database):
    stream = _stream_with_records(kinesis)
    _view_over(checked_client, fresh_database, f"'{SECOND},{FIRST}'", stream)
    refreshed = run_sql(checked_client, "REFRESH MATERIALIZED VIEW v", database=fresh_database)
    assert refreshed["Status"] == "FAILED"
    assert "KinesisStreamRole (hop 1 of the IAM_ROLE chain): the role is not associated with" in refreshed["Error"]
    history = run_sql(checked_client, "SELECT status FROM SYS_MV_REFRESH_HISTORY WHERE mv_name = 'v'",
                      database=fresh_database)
    [[status]] = checked_client.get_statement_result(Id=history["Id"])["Records"]
    assert status["stringValue"].startswith("Refresh failed: ERROR: Not authorized to get credentials of role")
    counted = run_sql(checked_client, "SELECT count(*) FROM v", database=fresh_database)
    assert checked_client.get_statement_result(Id=counted["Id"])["Records"] == [[{"longValue": 0}]]


def test_refresh_checks_no_chain_when_no_iam_is_configured(client, kinesis, fresh_database):
    stream = _stream_with_records(kinesis)
    nobody = "arn:aws:iam::999999999999:role/DoesNotExistAnywhere"
    _view_over(client, fresh_database, f"'{nobody}'", stream)
    refreshed = run_sql(client, "REFRESH MATERIALIZED VIEW v", database=fresh_database)
    assert refreshed["Status"] == "FINISHED", refreshed.get("Error")


def test_auto_refresh_checks_chain_against_the_workgroup_that_created_the_view(
        postgres, kinesis_url, kinesis, iam_registry, fresh_database):
    settings = RedshiftDataSettings(pg_dsn=postgres.dsn, kinesis_endpoint_url=kinesis_url,
                                    auto_refresh_interval_s=0.1, identity_registry=iam_registry)
    stream = _stream_with_records(kinesis)
    with BackgroundServer(lambda: create_app(settings)) as server:
        client = boto3.client("redshift-data", endpoint_url=server.url, **LOCAL_CREDENTIALS)
        for sql in (f"CREATE EXTERNAL SCHEMA ks FROM KINESIS IAM_ROLE '{CHAIN}'",
                    f'CREATE MATERIALIZED VIEW v AUTO REFRESH YES AS SELECT JSON_PARSE(kinesis_data) AS p '
                    f'FROM ks."{stream}"'):
            assert run_sql(client, sql, database=fresh_database)["Status"] == "FINISHED"
        deadline = time.monotonic() + 10
        while True:  # the workgroup "local" has the first role attached: background refreshes succeed
            counted = run_sql(client, "SELECT count(*) FROM v", database=fresh_database)
            if client.get_statement_result(Id=counted["Id"])["Records"] == [[{"longValue": 2}]]:
                break
            assert time.monotonic() < deadline, "auto refresh never ingested through the role chain"
            time.sleep(0.1)
