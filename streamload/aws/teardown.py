"""``streamload aws teardown``: delete exactly what provision created, found by the run-id tag.

Untagged (foreign) resources are never touched. What provision did to things it does not
own — attaching RedshiftStreamRole to the warehouse, creating the schema and MV — is
recorded in tags on that role, and undone from there. Order: SQL objects, the warehouse
attachment, roles, policies, streams (each step removes what the next one depends on).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streamload.dataapi.client import DataApiClient
from streamload.aws.accounts import AwsContext
from streamload.aws.config import ATTACHED_TAG, SQL_TAG
from streamload.aws.errors import AwsSetupError, translate_boto_error
from streamload.aws.iam import delete_policy, delete_role, role_tags, tagged_policies, tagged_roles
from streamload.aws.sql import drop_sql_objects, parse_sql_tag
from streamload.aws.stream import delete_stream, tagged_streams
from streamload.aws.warehouse import ProvisionedCluster, ServerlessNamespace, Warehouse

__all__ = ["Doomed", "find_provisioned", "teardown"]


@dataclass
class Doomed:
    account: str
    kind: str
    name: str
    delete: Callable[[], object]

    def describe(self) -> str:
        return f"[{self.account}] {self.kind} {self.name}"


def _warehouse_from_label(ctx: AwsContext, label: str) -> Warehouse | None:
    kind, _, name = label.partition(":")
    if kind == "cluster":
        return ProvisionedCluster(ctx.client("redshift", "redshift"), name)
    if kind == "workgroup":
        return ServerlessNamespace(ctx.client("redshift", "redshift-serverless"), name)
    return None


def find_provisioned(ctx: AwsContext, data_api: DataApiClient) -> list[Doomed]:
    run_id = ctx.settings.run_id
    sides = ["stream"] if ctx.accounts.same_account else ["stream", "redshift"]
    sql: list[Doomed] = []
    detach: list[Doomed] = []
    roles: list[Doomed] = []
    policies: list[Doomed] = []
    for side in sides:
        iam = ctx.client(side, "iam")  # type: ignore[arg-type]
        for name in tagged_roles(iam, run_id):
            tags = role_tags(iam, name)
            objects = parse_sql_tag(tags.get(SQL_TAG))
            if objects:
                sql.append(Doomed(side, "sql objects", " ".join(f"{k}:{v}" for k, v in sorted(objects.items())),
                                  lambda objects=objects: drop_sql_objects(data_api, objects)))
            warehouse = _warehouse_from_label(ctx, tags.get(ATTACHED_TAG, ""))
            if warehouse is not None:
                arn = iam.get_role(RoleName=name)["Role"]["Arn"]
                detach.append(Doomed(side, "role attachment", f"{name} -> {warehouse.label}",
                                     lambda w=warehouse, arn=arn: w.detach(arn)))
            roles.append(Doomed(side, "iam role", name, lambda iam=iam, name=name: delete_role(iam, name)))
        for arn in tagged_policies(iam, run_id):
            policies.append(Doomed(side, "iam policy", arn, lambda iam=iam, arn=arn: delete_policy(iam, arn)))
    kinesis = ctx.client("stream", "kinesis")
    streams = [Doomed("stream", "kinesis stream", name, lambda name=name: delete_stream(kinesis, name))
               for name in tagged_streams(kinesis, run_id)]
    return sql + detach + roles + policies + streams


def teardown(
    ctx: AwsContext,
    data_api: DataApiClient,
    confirm: Callable[[str], bool],
    assume_yes: bool = False,
    out: Callable[[str], None] = print,
) -> list[Doomed]:
    """Returns what was deleted (empty if nothing carries the run id).

    Raises ``AwsSetupError`` if the user declines or naming the resource whose deletion failed."""
    run_id = ctx.settings.run_id
    try:
        doomed = find_provisioned(ctx, data_api)
    except AwsSetupError:
        raise
    except Exception as exc:
        raise translate_boto_error(exc, f"finding resources tagged with run id {run_id}") from None
    if not doomed:
        out(f"nothing to tear down: no resource carries run id {run_id}")
        return []
    out(f"resources provisioned by run id {run_id}:")
    for item in doomed:
        out(f"  {item.describe()}")
    if not assume_yes and not confirm(f"delete these {len(doomed)}? [y/N] "):
        out("teardown cancelled: nothing was deleted")
        raise AwsSetupError("teardown cancelled by the user")
    for item in doomed:
        try:
            item.delete()
        except Exception as exc:
            raise translate_boto_error(exc, f"deleting {item.describe()}") from None
        out(f"deleted {item.describe()}")
    out(f"teardown done: {len(doomed)} removed; untagged resources were left alone")
    return doomed
