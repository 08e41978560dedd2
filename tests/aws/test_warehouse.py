"""Attaching the role to a warehouse. moto 5 implements neither ModifyClusterIamRoles nor
redshift-serverless, so these use botocore's Stubber: the exact requests are the assertion."""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from streamload.aws.changes import Change
from streamload.aws.errors import AwsConfigError
from streamload.aws.provisioning_plan import observe_attachment
from streamload.aws.waits import Backoff
from streamload.aws.warehouse import ProvisionedCluster, ServerlessNamespace

ROLE = "arn:aws:iam::222222222222:role/RedshiftStreamRole"
OTHER = "arn:aws:iam::222222222222:role/SpectrumRole"


def _client(service):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="stub", aws_secret_access_key="stub")



def _namespace(roles):
    return {"namespace": {"namespaceName": "ns1", "iamRoles": roles}}


def test_serverless_attach_keeps_existing_roles_when_namespace_has_some():
    client = _client("redshift-serverless")
    with Stubber(client) as stub:
        stub.add_response("get_workgroup", {"workgroup": {"workgroupName": "load-wg", "namespaceName": "ns1"}},
                          {"workgroupName": "load-wg"})
        stub.add_response("get_namespace", _namespace([f"IamRole(applyStatus=in-sync, iamRoleArn={OTHER})"]),
                          {"namespaceName": "ns1"})
        stub.add_response("update_namespace", _namespace([]), {"namespaceName": "ns1", "iamRoles": [OTHER, ROLE]})
        ServerlessNamespace(client, "load-wg").attach(ROLE)
        stub.assert_no_pending_responses()


def test_serverless_detach_removes_only_our_role_when_others_attached():
    client = _client("redshift-serverless")
    warehouse = ServerlessNamespace(client, "load-wg")
    with Stubber(client) as stub:
        stub.add_response("get_workgroup", {"workgroup": {"namespaceName": "ns1"}}, {"workgroupName": "load-wg"})
        stub.add_response("get_namespace", _namespace([
            f"IamRole(applyStatus=in-sync, iamRoleArn={OTHER})", f"IamRole(applyStatus=in-sync, iamRoleArn={ROLE})"]),
            {"namespaceName": "ns1"})
        stub.add_response("update_namespace", _namespace([]), {"namespaceName": "ns1", "iamRoles": [OTHER]})
        warehouse.detach(ROLE)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("service, operation, code, warehouse, message", [
    ("redshift-serverless", "get_workgroup", "ResourceNotFoundException",
     lambda client: ServerlessNamespace(client, "load-wg"), "workgroup 'load-wg' not found"),
    ("redshift", "describe_clusters", "ClusterNotFound",
     lambda client: ProvisionedCluster(client, "c1"), "cluster 'c1' not found"),
], ids=["serverless", "cluster"])
def test_warehouse_raises_config_error_naming_it_when_missing(service, operation, code, warehouse, message):
    client = _client(service)
    with Stubber(client) as stub:
        stub.add_client_error(operation, code, "not found")
        with pytest.raises(AwsConfigError, match=message):
            warehouse(client).attached_roles()


def test_serverless_attachment_waits_until_in_sync_when_role_is_adding():
    client = _client("redshift-serverless")
    recorded: list[str] = []
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("get_workgroup", {"workgroup": {"namespaceName": "ns1"}}, {"workgroupName": "load-wg"})
        stub.add_response("get_namespace", _namespace([]), {"namespaceName": "ns1"})  # observe
        stub.add_response("get_namespace", _namespace([]), {"namespaceName": "ns1"})  # attach reads list
        stub.add_response("update_namespace", _namespace([]), {"namespaceName": "ns1", "iamRoles": [ROLE]})
        stub.add_response("get_namespace", _namespace([f"IamRole(applyStatus=adding, iamRoleArn={ROLE})"]),
                          {"namespaceName": "ns1"})
        stub.add_response("get_namespace", _namespace([f"IamRole(applyStatus=in-sync, iamRoleArn={ROLE})"]),
                          {"namespaceName": "ns1"})
        change: Change = observe_attachment(ServerlessNamespace(client, "load-wg"), ROLE, recorded.append,
                                            Backoff(timeout_s=30, first_delay_s=1, sleep=sleeps.append))
        assert change.action == "create"
        change.apply()
        stub.assert_no_pending_responses()
    assert recorded == ["workgroup:load-wg"]
    assert sleeps == [1]


def test_cluster_attach_retries_when_cluster_busy():
    client = _client("redshift")
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("describe_clusters", {"Clusters": [{"ClusterIdentifier": "c1", "IamRoles": []}]},
                          {"ClusterIdentifier": "c1"})
        stub.add_client_error("modify_cluster_iam_roles", "InvalidClusterState", "cluster is modifying")
        stub.add_response("modify_cluster_iam_roles", {"Cluster": {}}, {"ClusterIdentifier": "c1", "AddIamRoles": [ROLE]})
        stub.add_response("describe_clusters", {"Clusters": [{"IamRoles": [{"IamRoleArn": ROLE, "ApplyStatus": "in-sync"}]}]},
                          {"ClusterIdentifier": "c1"})
        change = observe_attachment(ProvisionedCluster(client, "c1"), ROLE, lambda _l: None,
                                    Backoff(timeout_s=30, first_delay_s=2, sleep=sleeps.append))
        change.apply()
        stub.assert_no_pending_responses()
    assert sleeps == [2]
