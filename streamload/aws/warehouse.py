"""Attach RedshiftStreamRole to the warehouse: a provisioned cluster
(``modify_cluster_iam_roles``) or a serverless workgroup's namespace (``update_namespace``,
which replaces the whole role list, so the current list is always read first)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from botocore.exceptions import ClientError

from streamload.aws.errors import AwsConfigError, error_code
from streamload.core.config import RedshiftConfig

__all__ = ["Warehouse", "ProvisionedCluster", "ServerlessNamespace", "warehouse_for", "attach_is_transient"]

IN_SYNC = "in-sync"
# get_namespace returns entries like "IamRole(applyStatus=in-sync, iamRoleArn=arn:...)".
_SERVERLESS_ROLE = re.compile(r"applyStatus=(?P<status>[\w-]+),\s*iamRoleArn=(?P<arn>[^,)\s]+)")


class Warehouse(Protocol):
    label: str

    def attached_roles(self) -> dict[str, str]:
        """Role ARN -> apply status (``in-sync`` once usable)."""

    def attach(self, role_arn: str) -> None: ...

    def detach(self, role_arn: str) -> None: ...


def attach_is_transient(exc: Exception) -> bool:
    # Right after the role is created, or while a previous modification is applying,
    # Redshift refuses; both clear up by themselves.
    code = error_code(exc)
    if code in ("InvalidClusterState", "InvalidClusterStateFault", "ConflictException"):
        return True
    return code in ("InvalidParameterValue", "ValidationException") and "role" in str(exc).lower()


@contextmanager
def _missing_is_a_config_error(code: str, message: str) -> Iterator[None]:
    """AWS's not-found ``code`` for the warehouse the config names becomes an ``AwsConfigError``
    saying which keys to check (exit 2); any other refusal passes through."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == code:
            raise AwsConfigError(message) from None
        raise


class ProvisionedCluster:
    def __init__(self, redshift: Any, cluster_identifier: str) -> None:
        self._client = redshift
        self.cluster_identifier = cluster_identifier
        self.label = f"cluster:{cluster_identifier}"

    def attached_roles(self) -> dict[str, str]:
        with _missing_is_a_config_error("ClusterNotFound", f"Redshift cluster {self.cluster_identifier!r} not found "
                                        "in the Redshift account (check redshift.cluster_identifier and target.region)"):
            cluster = self._client.describe_clusters(ClusterIdentifier=self.cluster_identifier)["Clusters"][0]
        return {r["IamRoleArn"]: r.get("ApplyStatus", IN_SYNC) for r in cluster.get("IamRoles", [])}

    def attach(self, role_arn: str) -> None:
        self._client.modify_cluster_iam_roles(ClusterIdentifier=self.cluster_identifier, AddIamRoles=[role_arn])

    def detach(self, role_arn: str) -> None:
        self._client.modify_cluster_iam_roles(ClusterIdentifier=self.cluster_identifier, RemoveIamRoles=[role_arn])


class ServerlessNamespace:
    def __init__(self, serverless: Any, workgroup_name: str) -> None:
        self._client = serverless
        self.workgroup_name = workgroup_name
        self._namespace: str | None = None
        self.label = f"workgroup:{workgroup_name}"

    def namespace_name(self) -> str:
        if self._namespace is None:
            with _missing_is_a_config_error(
                    "ResourceNotFoundException", f"Redshift Serverless workgroup {self.workgroup_name!r} not found "
                    "in the Redshift account (check redshift.workgroup_name and target.region)"):
                workgroup = self._client.get_workgroup(workgroupName=self.workgroup_name)["workgroup"]
            self._namespace = workgroup["namespaceName"]
        return self._namespace

    def attached_roles(self) -> dict[str, str]:
        namespace = self._client.get_namespace(namespaceName=self.namespace_name())["namespace"]
        roles: dict[str, str] = {}
        for entry in namespace.get("iamRoles", []):
            match = _SERVERLESS_ROLE.search(entry)
            if match:
                roles[match["arn"]] = match["status"]
            elif entry.startswith("arn:"):
                roles[entry] = IN_SYNC
        return roles

    def _set_roles(self, arns: list[str]) -> None:
        self._client.update_namespace(namespaceName=self.namespace_name(), iamRoles=arns)

    def attach(self, role_arn: str) -> None:
        current = list(self.attached_roles())
        if role_arn not in current:
            self._set_roles(current + [role_arn])

    def detach(self, role_arn: str) -> None:
        current = list(self.attached_roles())
        if role_arn in current:
            self._set_roles([arn for arn in current if arn != role_arn])


def warehouse_for(redshift_cfg: RedshiftConfig, make_client) -> Warehouse:
    """``make_client(service)`` builds a client in the Redshift account."""
    if redshift_cfg.cluster_identifier:
        return ProvisionedCluster(make_client("redshift"), redshift_cfg.cluster_identifier)
    if redshift_cfg.workgroup_name:
        return ServerlessNamespace(make_client("redshift-serverless"), redshift_cfg.workgroup_name)
    raise AwsConfigError("set redshift.cluster_identifier or redshift.workgroup_name: the stream role must be "
                         "attached to a cluster or a serverless namespace")
