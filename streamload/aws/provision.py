"""``streamload aws provision``: observe, print the plan, then apply only what differs.

A second run finds everything ``unchanged`` and says so; ``dry_run`` stops after the plan.
"""
from __future__ import annotations

from collections.abc import Callable

from streamload.dataapi.client import DataApiClient
from streamload.aws.accounts import AwsContext
from streamload.aws.errors import AwsSetupError, translate_boto_error
from streamload.aws.provisioning_plan import ProvisioningPlan, build_provisioning_plan
from streamload.aws.sql import make_data_api
from streamload.aws.waits import Backoff

__all__ = ["provision", "default_data_api", "default_backoff"]


def default_data_api(ctx: AwsContext) -> DataApiClient:
    return make_data_api(ctx.client("redshift", "redshift-data"), ctx.cfg)


def default_backoff(ctx: AwsContext) -> Backoff:
    return Backoff(timeout_s=ctx.settings.iam_propagation_timeout_s)


def provision(
    ctx: AwsContext,
    data_api: DataApiClient | None = None,
    backoff: Backoff | None = None,
    dry_run: bool = False,
    out: Callable[[str], None] = print,
) -> ProvisioningPlan:
    """Raises ``AwsSetupError`` (with its exit code) naming the step that failed."""
    data_api = data_api or default_data_api(ctx)
    backoff = backoff or default_backoff(ctx)
    try:
        plan = build_provisioning_plan(ctx, data_api, backoff)
    except AwsSetupError:
        raise
    except Exception as exc:
        raise translate_boto_error(exc, "reading the current state") from None
    out(plan.render())
    if dry_run:
        out("dry run: nothing was changed")
        return plan
    if not plan.pending:
        out("nothing to change: every resource is already as configured")
        return plan
    for change in plan.pending:
        out(f"{change.action} {change.kind} {change.name} ...")
        try:
            change.apply()  # type: ignore[misc]
        except AwsSetupError:
            raise
        except Exception as exc:
            raise translate_boto_error(exc, f"{change.action} {change.kind} {change.name}") from None
    done = len(plan.pending)
    out(f"provisioned: {done} change{'s' if done != 1 else ''} applied; run `streamload aws preflight` next")
    return plan
