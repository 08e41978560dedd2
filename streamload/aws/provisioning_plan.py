"""The provisioning plan: every resource of the cross-account set-up (docs/aws.md) observed in its account and compared
with what the config asks for. Nothing here changes AWS; ``Change.apply`` does, later."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from streamload.dataapi.client import DataApiClient
from streamload.aws.accounts import AwsContext
from streamload.aws.changes import Change
from streamload.aws.config import ATTACHED_TAG, SQL_TAG
from streamload.aws.iam import observe_policy, observe_role, role_tags, tag_role
from streamload.aws.sql import format_sql_tag, observe_sql, parse_sql_tag, sql_config
from streamload.aws.stream import observe_stream
from streamload.aws.waits import Backoff
from streamload.aws.warehouse import IN_SYNC, Warehouse, attach_is_transient, warehouse_for

__all__ = ["ProvisioningPlan", "build_provisioning_plan", "observe_attachment"]


@dataclass
class ProvisioningPlan:
    """What ``streamload aws provision`` would create or update, one ``Change`` a resource.
    (Not the run plan, ``streamload.core.runplan.RunPlan``, that a run hands its children.)"""

    changes: list[Change]
    header: str

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.pending]

    def render(self) -> str:
        counts = Counter(c.action for c in self.changes)
        summary = ", ".join(f"{counts[a]} {a}" for a in ("create", "update", "unchanged", "foreign") if counts[a])
        lines = [self.header] + [f"  {c.describe()}" for c in self.changes] + [f"plan: {summary}"]
        return "\n".join(lines)


class RoleNotInSync(Exception):
    pass


def observe_attachment(
    warehouse: Warehouse, role_arn: str, record_attached: Callable[[str], None], backoff: Backoff
) -> Change:
    roles = warehouse.attached_roles()
    role_name = role_arn.rsplit("/", 1)[1]
    if role_arn in roles:
        return Change("redshift", "role attachment", f"{role_name} -> {warehouse.label}", "unchanged", roles[role_arn])

    def attach() -> None:
        backoff.retry(lambda: warehouse.attach(role_arn), attach_is_transient, f"attach {role_name}")
        record_attached(warehouse.label)

        def in_sync() -> None:
            status = warehouse.attached_roles().get(role_arn, "missing")
            if status != IN_SYNC:
                raise RoleNotInSync(f"{role_name} on {warehouse.label} is {status}")
        # SQL that names the role fails until Redshift has applied the change.
        backoff.retry(in_sync, lambda exc: isinstance(exc, RoleNotInSync), f"{role_name} in-sync")
    return Change("redshift", "role attachment", f"{role_name} -> {warehouse.label}", "create", apply=attach)


def build_provisioning_plan(ctx: AwsContext, data_api: DataApiClient, backoff: Backoff) -> ProvisioningPlan:
    names, settings, run_id = ctx.names, ctx.settings, ctx.settings.run_id
    iam_stream, iam_redshift = ctx.client("stream", "iam"), ctx.client("redshift", "iam")
    same = ctx.accounts.same_account
    warehouse = warehouse_for(ctx.cfg.redshift, lambda service: ctx.client("redshift", service))

    changes = [observe_stream(ctx.client("stream", "kinesis"), ctx.cfg.stream.name, settings.stream_mode,
                              ctx.cfg.stream.shards, run_id, backoff)]
    if not same:
        changes.append(observe_policy(iam_stream, "stream", names.kinesis_policy_arn,
                                      names.kinesis_stream_policy(), run_id))
    changes.append(observe_policy(iam_redshift, "redshift", names.redshift_policy_arn,
                                  names.redshift_stream_policy(), run_id))
    redshift_role = observe_role(iam_redshift, "redshift", settings.redshift_role_name, names.redshift_role_trust(),
                                 names.redshift_policy_arn, run_id, backoff)
    changes.append(redshift_role)
    # The stream role's trust names the Redshift role, so it is created after it.
    if not same:
        changes.append(observe_role(iam_stream, "stream", settings.kinesis_role_name, names.kinesis_role_trust(),
                                    names.kinesis_policy_arn, run_id, backoff))

    role_is_ours = redshift_role.action != "foreign"
    existing_tags = {} if redshift_role.action == "create" else role_tags(iam_redshift, settings.redshift_role_name)

    def record_attached(label: str) -> None:
        if role_is_ours:
            tag_role(iam_redshift, settings.redshift_role_name, ATTACHED_TAG, label)

    def record_sql(kind: str, name: str) -> None:
        if role_is_ours:
            objects = parse_sql_tag(role_tags(iam_redshift, settings.redshift_role_name).get(SQL_TAG))
            objects[kind] = name
            tag_role(iam_redshift, settings.redshift_role_name, SQL_TAG, format_sql_tag(objects))

    changes.append(observe_attachment(warehouse, names.redshift_role_arn, record_attached, backoff))
    changes += observe_sql(sql_config(ctx.cfg, names.iam_role_chain()), data_api,
                           parse_sql_tag(existing_tags.get(SQL_TAG)), record_sql, backoff)
    mode = "same-account" if same else "cross-account"
    header = (f"streamload aws provision ({mode}; stream account {ctx.accounts.stream_account}, "
              f"Redshift account {ctx.accounts.redshift_account}, region {ctx.region}, run id {run_id})")
    return ProvisioningPlan(changes, header)
