"""Two AWS accounts under moto, a Redshift cluster in the second, and a stateful fake of the
Data API (moto's returns canned rows, which cannot tell whether a schema exists).

moto routes a request to the account its access key belongs to: the default credentials
are account 123456789012 (the stream account); credentials from ``sts:AssumeRole`` into
``arn:aws:iam::222222222222:role/...`` act in account 222222222222 (the Redshift account).
"""
from __future__ import annotations

import types

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto import mock_aws

from streamload.aws.accounts import AwsContext, connect
from streamload.aws.config import AwsProvisionConfig
from streamload.aws.waits import Backoff
from streamload.core.config import StreamloadConfig
from tests.support.clock import FakeClock

from .fakes import CLUSTER, REDSHIFT_ACCOUNT, REGION, FakeRedshiftData, data_api_client


def _fill_modify_cluster_iam_roles(session: boto3.Session) -> None:
    """moto 5 lacks ModifyClusterIamRoles: apply it to moto's own cluster model instead, so
    describe_clusters (which moto does implement) reflects it like Redshift would."""
    from moto.redshift.models import redshift_backends

    account = session.client("sts").get_caller_identity()["Account"]

    def before_call(params, **_):
        body = params["body"]
        cluster = redshift_backends[account][REGION].clusters[body["ClusterIdentifier"]]
        added = [v for k, v in body.items() if k.startswith("AddIamRoles.")]
        removed = [v for k, v in body.items() if k.startswith("RemoveIamRoles.")]
        cluster.iam_roles_arn = [a for a in cluster.iam_roles_arn if a not in removed] + added
        return types.SimpleNamespace(status_code=200, headers={}), {"Cluster": {"ClusterIdentifier": cluster.cluster_identifier}}

    session.events.register("before-call.redshift.ModifyClusterIamRoles", before_call)


# One model loader for every session of the suite: a fresh boto3.Session would re-read
# botocore's service JSON (seconds per test otherwise).
_LOADER = botocore.loaders.create_loader()


def make_session(**kwargs) -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, region_name=REGION, **kwargs)


@pytest.fixture
def moto_aws(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # Creating a cluster makes moto build an EC2 backend, which loads ~50k AMIs unless told not to.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/streamload-test-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/streamload-test-aws-credentials")
    with mock_aws():
        yield


def _redshift_account_session() -> boto3.Session:
    creds = make_session().client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{REDSHIFT_ACCOUNT}:role/OrganizationAccountAccessRole",
        RoleSessionName="tests")["Credentials"]
    session = make_session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
    _fill_modify_cluster_iam_roles(session)
    return session


@pytest.fixture
def sessions(moto_aws):
    """Profile name -> session: ``stream`` (account 1), ``redshift`` (account 2), ``solo``
    (the stream account again, for same-account mode)."""
    stream = make_session()
    _fill_modify_cluster_iam_roles(stream)
    redshift = _redshift_account_session()
    for session in (stream, redshift):
        session.client("redshift").create_cluster(
            ClusterIdentifier=CLUSTER, NodeType="ra3.xlplus", MasterUsername="admin",
            MasterUserPassword="Passw0rd-not-real", NumberOfNodes=2)
    return {"stream": stream, "redshift": redshift, "solo": stream}


@pytest.fixture
def session_factory(sessions):
    def make(profile):
        if profile not in sessions:
            raise AssertionError(f"unexpected profile {profile!r}")
        return sessions[profile]
    return make


@pytest.fixture
def cfg():
    return StreamloadConfig.model_validate({
        "target": {"region": REGION},
        "stream": {"name": "my-data-stream", "shards": 2},
        "redshift": {"cluster_identifier": CLUSTER, "db_user": "awsuser"},
        "producer": {"rate": 100, "duration_s": 60},
        "load": {"drain_timeout_s": 0},
    })


@pytest.fixture
def settings():
    return AwsProvisionConfig(run_id="test-run-1", stream_profile="stream", redshift_profile="redshift",
                              iam_propagation_timeout_s=30)


@pytest.fixture
def fake_data_api():
    return FakeRedshiftData()


@pytest.fixture
def clock():
    return FakeClock(start=0.0)


@pytest.fixture
def backoff(clock):
    return Backoff(timeout_s=30, first_delay_s=1, max_delay_s=4, sleep=clock.sleep, clock=clock)


@pytest.fixture
def ctx(cfg, settings, session_factory) -> AwsContext:
    return connect(cfg, settings, session_factory)


@pytest.fixture
def data_api(fake_data_api, cfg):
    return data_api_client(fake_data_api, cfg)
