"""``streamload aws preflight``: check every hop of the cross-account set-up (docs/aws.md) and say how to fix each.

Hops, in order: credentials of both profiles -> stream ACTIVE -> the IAM documents of both
roles -> role attached to the warehouse -> the role chain assumed live (``sts:AssumeRole``
twice) -> a Kinesis read with the chained credentials -> the Data API -> external schema
and MV present -> Redshift itself reading the stream (REFRESH). A step whose prerequisite
failed is skipped, not run into a confusing second error.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from streamload.dataapi.client import DataApiClient
from streamload.aws.accounts import AwsContext, session_from_credentials
from streamload.aws.errors import AwsSetupError, AwsUnreachable, error_code, translate_boto_error
from streamload.aws.evaluate import allows, role_policy_documents, trusts
from streamload.aws.iam import role_trust
from streamload.aws.policies import KINESIS_LIST_ACTIONS, KINESIS_READ_ACTIONS, REDSHIFT_SERVICE
from streamload.aws.sql import schema_exists, view_exists
from streamload.aws.stream import stream_summary
from streamload.aws.warehouse import IN_SYNC, warehouse_for

__all__ = ["StepResult", "PreflightReport", "run_preflight"]

Status = Literal["pass", "fail", "skip"]
PROVISION_FIX = "run `streamload aws provision` (add --dry-run to see what it would change)"


class CheckFailed(Exception):
    def __init__(self, detail: str, fix: str = PROVISION_FIX) -> None:
        super().__init__(detail)
        self.fix = fix


class CheckSkipped(Exception):
    def __init__(self, detail: str, fix: str = "") -> None:
        super().__init__(detail)
        self.fix = fix


@dataclass
class StepResult:
    name: str
    status: Status
    detail: str = ""
    fix: str = ""

    def render(self) -> str:
        line = f"{self.status.upper():<4} {self.name}" + (f": {self.detail}" if self.detail else "")
        return line + (f"\n     fix: {self.fix}" if self.fix and self.status != "pass" else "")


@dataclass
class PreflightReport:
    steps: list[StepResult] = field(default_factory=list)
    unreachable: bool = False

    @property
    def exit_code(self) -> int:
        if self.unreachable:
            return AwsUnreachable.exit_code
        return 1 if any(s.status == "fail" for s in self.steps) else 0

    def render(self) -> str:
        counts = {s: sum(1 for r in self.steps if r.status == s) for s in ("pass", "fail", "skip")}
        tail = f"preflight: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
        return "\n".join([r.render() for r in self.steps] + [tail])


class _Checks:
    """The steps; each returns a one-line detail or raises CheckFailed / CheckSkipped."""

    def __init__(self, ctx: AwsContext, data_api: DataApiClient) -> None:
        self.ctx, self.data_api = ctx, data_api
        self.names = ctx.names
        self.chain_session: Any = None

    def stream_active(self) -> str:
        name = self.ctx.cfg.stream.name
        summary = stream_summary(self.ctx.client("stream", "kinesis"), name)
        if summary is None:
            raise CheckFailed(f"stream {name} not found in account {self.ctx.accounts.stream_account}")
        if summary["StreamStatus"] != "ACTIVE":
            raise CheckFailed(f"stream {name} is {summary['StreamStatus']}", "wait a minute and re-run preflight")
        mode = summary.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
        return f"{name} ACTIVE ({mode}, {summary.get('OpenShardCount')} open shards)"

    def _role_docs(self, side: str, role_name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        iam = self.ctx.client(side, "iam")  # type: ignore[arg-type]
        trust = role_trust(iam, role_name)
        if trust is None:
            raise CheckFailed(f"role {role_name} not found in the {side} account")
        return trust, role_policy_documents(iam, role_name)

    def _check_stream_reads(self, documents: list[dict[str, Any]], role_name: str, policy_name: str) -> None:
        accounts = self.ctx.accounts
        stream_arn = (f"arn:{accounts.partition}:kinesis:{self.ctx.region}:{accounts.stream_account}"
                      f":stream/{self.ctx.cfg.stream.name}")
        missing = [a for a in KINESIS_READ_ACTIONS if not allows(documents, a, stream_arn)]
        missing += [a for a in KINESIS_LIST_ACTIONS if not allows(documents, a, "*")]
        if missing:
            raise CheckFailed(f"{role_name}'s policies do not allow {', '.join(missing)}",
                              f"attach {policy_name} (statements ReadStream, ListStream) to {role_name}, "
                              f"or {PROVISION_FIX}")

    def kinesis_role(self) -> str:
        settings = self.ctx.settings
        if self.ctx.accounts.same_account:
            raise CheckSkipped("same-account set-up: no KinesisStreamRole in the chain")
        trust, documents = self._role_docs("stream", settings.kinesis_role_name)
        if not trusts(trust, "AWS", self.names.redshift_role_arn):
            raise CheckFailed(f"{settings.kinesis_role_name} does not trust {self.names.redshift_role_arn}",
                              f"set its trust policy principal to {self.names.redshift_role_arn}, or {PROVISION_FIX}")
        self._check_stream_reads(documents, settings.kinesis_role_name, settings.kinesis_policy_name)
        return f"{self.names.kinesis_role_arn} trusts {settings.redshift_role_name} and may read the stream"

    def redshift_role(self) -> str:
        settings = self.ctx.settings
        trust, documents = self._role_docs("redshift", settings.redshift_role_name)
        if not trusts(trust, "Service", REDSHIFT_SERVICE):
            raise CheckFailed(f"{settings.redshift_role_name} is not trusted by {REDSHIFT_SERVICE}",
                              f"add principal Service {REDSHIFT_SERVICE} to its trust policy, or {PROVISION_FIX}")
        if self.ctx.accounts.same_account:
            self._check_stream_reads(documents, settings.redshift_role_name, settings.redshift_policy_name)
            return f"{self.names.redshift_role_arn} is trusted by Redshift and may read the stream"
        if not allows(documents, "sts:AssumeRole", self.names.kinesis_role_arn):
            raise CheckFailed(f"{settings.redshift_role_name} may not assume {self.names.kinesis_role_arn}",
                              f"attach {settings.redshift_policy_name} (sts:AssumeRole on that ARN), or {PROVISION_FIX}")
        return f"{self.names.redshift_role_arn} is trusted by Redshift and may assume {settings.kinesis_role_name}"

    def attachment(self) -> str:
        warehouse = warehouse_for(self.ctx.cfg.redshift, lambda service: self.ctx.client("redshift", service))
        status = warehouse.attached_roles().get(self.names.redshift_role_arn)
        if status is None:
            raise CheckFailed(f"{self.names.redshift_role_arn} is not attached to {warehouse.label}")
        if status != IN_SYNC:
            raise CheckFailed(f"role on {warehouse.label} is {status}", "wait until it is in-sync and re-run")
        return f"attached to {warehouse.label} ({status})"

    def role_chain(self) -> str:
        settings, accounts = self.ctx.settings, self.ctx.accounts
        sts = self.ctx.client("redshift", "sts")
        try:
            hop1 = sts.assume_role(RoleArn=self.names.redshift_role_arn, RoleSessionName="streamload-preflight")
        except Exception as exc:
            if error_code(exc) != "AccessDenied" or settings.preflight_principal_arn:
                raise
            raise CheckSkipped(
                f"{settings.redshift_role_name} trusts only {REDSHIFT_SERVICE}, so this profile cannot take the "
                "first hop; the REFRESH step below still proves the chain from Redshift's side",
                f"to check it here too, set aws.preflight_principal_arn = \"{self.ctx.redshift_caller_arn}\" "
                "(a role or user ARN) and re-run provision") from None
        session = session_from_credentials(hop1["Credentials"], self.ctx.redshift_session)
        hops = [self.names.redshift_role_arn]
        if not accounts.same_account:
            sts2 = self.ctx.client_for(session, "sts")
            hop2 = sts2.assume_role(RoleArn=self.names.kinesis_role_arn, RoleSessionName="streamload-preflight")
            session = session_from_credentials(hop2["Credentials"], self.ctx.redshift_session)
            hops.append(self.names.kinesis_role_arn)
        account = self.ctx.client_for(session, "sts").get_caller_identity()["Account"]
        if account != accounts.stream_account:
            raise CheckFailed(f"the chain ends in account {account}, not the stream account {accounts.stream_account}")
        self.chain_session = session
        return " -> ".join(hops)

    def kinesis_read(self) -> str:
        kinesis = self.ctx.client_for(self.chain_session, "kinesis")
        name = self.ctx.cfg.stream.name
        shards = kinesis.list_shards(StreamName=name)["Shards"]
        if not shards:
            raise CheckFailed(f"stream {name} has no shards", "wait until it is ACTIVE")
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shards[0]["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"]
        return f"ListShards, GetShardIterator, GetRecords on {shards[0]['ShardId']} ({len(records)} of at most 1 record read)"

    def data_api_reachable(self) -> str:
        self.data_api.execute("SELECT 1", "aws preflight")
        return f"SELECT 1 ran on {self.ctx.cfg.redshift.target_kwargs()}"

    def schema_present(self) -> str:
        schema = self.ctx.cfg.redshift.external_schema
        if not schema_exists(self.data_api, schema):
            raise CheckFailed(f"external schema {schema} not found")
        return schema

    def view_present(self) -> str:
        view = self.ctx.cfg.redshift.materialized_view
        if not view_exists(self.data_api, view):
            raise CheckFailed(f"materialized view {view} not found")
        return view

    def refresh(self) -> str:
        view = self.ctx.cfg.redshift.materialized_view
        try:
            self.data_api.execute(f"REFRESH MATERIALIZED VIEW {view}", "aws preflight refresh", fetch=False)
        except Exception as exc:
            raise CheckFailed(f"Redshift could not read the stream: {exc}",
                              "the IAM_ROLE chain of the external schema must match the roles above; "
                              "check the trust policies and that the role is in-sync on the warehouse") from None
        return f"REFRESH MATERIALIZED VIEW {view} succeeded"


def _run_step(report: PreflightReport, passed: set[str], name: str, check: Callable[[], str],
              needs: tuple[str, ...] = ()) -> None:
    missing = [n for n in needs if n not in passed]
    if missing:
        report.steps.append(StepResult(name, "skip", f"needs: {', '.join(missing)}"))
        return
    try:
        report.steps.append(StepResult(name, "pass", check()))
        passed.add(name)
    except CheckSkipped as exc:
        report.steps.append(StepResult(name, "skip", str(exc), exc.fix))
    except CheckFailed as exc:
        report.steps.append(StepResult(name, "fail", str(exc), exc.fix))
    except Exception as exc:
        error = exc if isinstance(exc, AwsSetupError) else translate_boto_error(exc, name)
        report.unreachable = report.unreachable or isinstance(error, AwsUnreachable)
        fix = "check the profile's permissions for this call" if error_code(exc) else "see the message"
        report.steps.append(StepResult(name, "fail", str(error), fix))


def run_preflight(connect_accounts: Callable[[], AwsContext],
                  data_api_for: Callable[[AwsContext], DataApiClient]) -> PreflightReport:
    report = PreflightReport()
    try:
        ctx = connect_accounts()
    except AwsSetupError as exc:
        report.unreachable = isinstance(exc, AwsUnreachable)
        report.steps.append(StepResult("credentials", "fail", str(exc),
                                       "log in to both profiles (`aws sso login --profile <p>`) or fix aws.*_profile"))
        return report
    report.steps.append(StepResult(
        "credentials", "pass", f"stream account {ctx.accounts.stream_account}, "
        f"Redshift account {ctx.accounts.redshift_account}"))
    checks = _Checks(ctx, data_api_for(ctx))
    passed = {"credentials"}
    _run_step(report, passed, "stream ACTIVE", checks.stream_active)
    _run_step(report, passed, "KinesisStreamRole trust and policy", checks.kinesis_role)
    _run_step(report, passed, "RedshiftStreamRole trust and policy", checks.redshift_role)
    _run_step(report, passed, "role attached to the warehouse", checks.attachment)
    _run_step(report, passed, "role chain assumable", checks.role_chain)
    _run_step(report, passed, "Kinesis read through the chained role", checks.kinesis_read,
              needs=("stream ACTIVE", "role chain assumable"))
    _run_step(report, passed, "Data API reachable", checks.data_api_reachable)
    _run_step(report, passed, "external schema present", checks.schema_present, needs=("Data API reachable",))
    _run_step(report, passed, "materialized view present", checks.view_present, needs=("external schema present",))
    _run_step(report, passed, "Redshift reads the stream", checks.refresh,
              needs=("materialized view present", "stream ACTIVE"))
    return report
