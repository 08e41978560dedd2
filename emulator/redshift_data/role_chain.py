"""Redshift's ``IAM_ROLE`` chain for streaming ingestion, checked at REFRESH against the local IAM.

``CREATE EXTERNAL SCHEMA … FROM KINESIS IAM_ROLE 'arn1,arn2'`` names a chain Redshift walks
each time it reads the stream:

1. the first role must be attached to the cluster/workgroup and trust ``redshift.amazonaws.com``;
2. each next role must trust the previous one (its trust policy) and the previous one must be
   allowed ``sts:AssumeRole`` on it (its permission policies);
3. the last role must be allowed to read the stream (``kinesis:ListShards``, ``GetShardIterator``,
   ``GetRecords``, ``DescribeStreamSummary`` on the stream's ARN in the last role's account).

``IAM_ROLE default`` is the role marked default on the cluster/workgroup. A broken hop fails
the REFRESH with a Redshift-like message naming the hop and why.

The local IAM is an :class:`IamRoleCatalog` on the identity registry (``registry.iam``). With
no registry, or a registry that carries no catalog, nothing is checked and every chain reads
the stream (the plain emulator's behaviour: it has no IAM to check against).
"""
from __future__ import annotations

import contextvars
import fnmatch
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from emulator.identity.policy import Principal, trust_allows

from .translate import SqlTranslationError

__all__ = ["IamRole", "IamRoleCatalog", "RoleChainError", "RoleChainChecker", "check_role_chain", "policy_allows",
           "reference_iam_catalog", "CURRENT_WAREHOUSE", "STREAM_READ_ACTIONS", "ANY_WAREHOUSE"]

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]{1,64})$")
# What the REFRESH's reader calls on the stream (the Redshift guide's policy grants these and more).
STREAM_READ_ACTIONS = ("kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetShardIterator",
                       "kinesis:GetRecords")
REDSHIFT_SERVICES = ("redshift.amazonaws.com", "redshift-serverless.amazonaws.com")
MAX_CHAIN_LENGTH = 10  # Redshift chains at most 10 roles
ANY_WAREHOUSE = "*"  # attach a role to every cluster/workgroup (the local stack's names are arbitrary)

# The cluster identifier or workgroup name of the statement (or auto refresh) now running.
CURRENT_WAREHOUSE: contextvars.ContextVar[str | None] = contextvars.ContextVar("redshift_warehouse", default=None)


class RoleChainError(SqlTranslationError):
    """A hop of the IAM_ROLE chain is broken; the message names it."""


@dataclass(frozen=True)
class IamRole:
    arn: str
    trust_policy: dict[str, Any]
    policies: tuple[dict[str, Any], ...] = ()  # permission (identity) policies attached to the role


class IamRoleCatalog:
    """Roles by ARN (any account) and the roles attached to each cluster/workgroup; thread-safe."""

    def __init__(self) -> None:
        self._roles: dict[str, IamRole] = {}
        self._attached: dict[str, list[str]] = {}
        self._default: dict[str, str] = {}
        self._lock = threading.Lock()

    def put_role(self, arn: str, trust_policy: dict[str, Any], policies: Iterable[dict[str, Any]] = ()) -> IamRole:
        if _ROLE_ARN.match(arn) is None:
            raise ValueError(f"not an IAM role ARN: {arn}")
        role = IamRole(arn, trust_policy, tuple(policies))
        with self._lock:
            self._roles[arn] = role
        return role

    def attach(self, warehouse: str, role_arn: str, default: bool = False) -> None:
        """Associate ``role_arn`` with a cluster/workgroup (``ANY_WAREHOUSE``: with all of them)."""
        with self._lock:
            attached = self._attached.setdefault(warehouse, [])
            if role_arn not in attached:
                attached.append(role_arn)
            if default:
                self._default[warehouse] = role_arn

    def role(self, arn: str) -> IamRole | None:
        with self._lock:
            return self._roles.get(arn)

    def is_attached(self, warehouse: str | None, role_arn: str) -> bool:
        with self._lock:
            return any(role_arn in self._attached.get(w, ()) for w in (warehouse, ANY_WAREHOUSE) if w)

    def default_role(self, warehouse: str | None) -> str | None:
        with self._lock:
            return self._default.get(warehouse or "") or self._default.get(ANY_WAREHOUSE)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def policy_allows(policies: Iterable[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's rule for identity policies: an explicit Deny wins, else some Allow must match.

    ``Action`` matches case-insensitively with ``*``/``?`` wildcards, ``Resource`` case-sensitively.
    A statement with a ``Condition`` (or NotAction/NotResource) cannot be proven here: it never
    allows, and a Deny of that kind is applied as if it matched, the safe side."""
    allowed = False
    for policy in policies:
        statements = policy.get("Statement", [])
        for st in [statements] if isinstance(statements, dict) else statements:
            provable = not any(k in st for k in ("Condition", "NotAction", "NotResource"))
            matches = (any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(st.get("Action")))
                       and any(fnmatch.fnmatchcase(resource, r) for r in _as_list(st.get("Resource"))))
            if st.get("Effect") == "Deny" and (matches or not provable):
                return False
            if st.get("Effect") == "Allow" and matches and provable:
                allowed = True
    return allowed


def _parse_chain(iam_role: str | None, catalog: IamRoleCatalog, warehouse: str | None) -> list[str]:
    text = (iam_role or "").strip()
    if not text:
        raise RoleChainError("ERROR: the external schema has no IAM_ROLE; streaming ingestion needs one")
    if text.lower() == "default":
        default = catalog.default_role(warehouse)
        if default is None:
            raise RoleChainError(f'ERROR: IAM_ROLE default is used but no default IAM role is set on '
                                 f'"{warehouse or "this cluster"}"')
        return [default]
    chain = text.split(",")
    if len(chain) > MAX_CHAIN_LENGTH:
        raise RoleChainError(f"ERROR: IAM_ROLE chains at most {MAX_CHAIN_LENGTH} roles, not {len(chain)}")
    for hop, arn in enumerate(chain, start=1):
        if _ROLE_ARN.match(arn) is None:
            raise RoleChainError(f"ERROR: Invalid IAM role ARN {arn!r} at hop {hop} of the IAM_ROLE chain "
                                 "(roles are comma-separated, without spaces)")
    return chain


def _hop_error(hop: int, arn: str, why: str) -> RoleChainError:
    return RoleChainError(f"ERROR: Not authorized to get credentials of role {arn} "
                          f"(hop {hop} of the IAM_ROLE chain): {why}")


def check_role_chain(catalog: IamRoleCatalog, iam_role: str | None, warehouse: str | None, stream_name: str,
                     region: str) -> list[str]:
    """The chain's role ARNs if Redshift could walk it and read ``stream_name``; else RoleChainError."""
    chain = _parse_chain(iam_role, catalog, warehouse)
    previous: IamRole | None = None
    for hop, arn in enumerate(chain, start=1):
        role = catalog.role(arn)
        if role is None:
            raise _hop_error(hop, arn, "the role does not exist")
        if previous is None:
            if not catalog.is_attached(warehouse, arn):
                raise _hop_error(hop, arn, f'the role is not associated with "{warehouse or "this cluster"}"')
            if not trust_allows(role.trust_policy, Principal("Service", REDSHIFT_SERVICES), "sts:AssumeRole"):
                raise _hop_error(hop, arn, "its trust policy does not trust redshift.amazonaws.com")
        else:
            if not policy_allows(previous.policies, "sts:AssumeRole", arn):
                raise _hop_error(hop, arn, f"{previous.arn} is not allowed sts:AssumeRole on it")
            if not trust_allows(role.trust_policy, Principal("AWS", (previous.arn,)), "sts:AssumeRole"):
                raise _hop_error(hop, arn, f"its trust policy does not trust {previous.arn}")
        previous = role
    account, name = _ROLE_ARN.match(chain[-1]).group("account", "name")
    stream_arn = f"arn:aws:kinesis:{region}:{account}:stream/{stream_name}"
    for action in STREAM_READ_ACTIONS:
        if not policy_allows(previous.policies, action, stream_arn):
            raise RoleChainError(
                f"ERROR: Kinesis error: User: arn:aws:sts::{account}:assumed-role/{name}/RedshiftStreamingSession "
                f"is not authorized to perform: {action} on resource: {stream_arn} (hop {len(chain)}, the last "
                "role of the IAM_ROLE chain, may not read the stream)")
    return chain


class RoleChainChecker:
    """The REFRESH hook: checks the external schema's chain when the registry carries a catalog."""

    def __init__(self, registry: Any, region: str) -> None:
        self.registry = registry
        self.region = region

    async def __call__(self, conn: psycopg.AsyncConnection, external_schema: str, stream_name: str) -> None:
        catalog = getattr(self.registry, "iam", None) if self.registry is not None else None
        if catalog is None:
            return
        row = await (await conn.execute(
            "SELECT iam_role FROM streamload_catalog.external_schemas WHERE lower(schema_name) = lower(%s)",
            (external_schema,))).fetchone()
        check_role_chain(catalog, row[0] if row else None, CURRENT_WAREHOUSE.get(), stream_name, self.region)


def reference_iam_catalog(redshift_account: str, stream_account: str, warehouse: str = ANY_WAREHOUSE,
                          default: bool = False) -> IamRoleCatalog:
    """The cross-account set-up of docs/aws.md: RedshiftStreamRole (attached, trusted by Redshift, may
    assume KinesisStreamRole) -> KinesisStreamRole (trusts it, KinesisStreamPolicy). ``default``
    also makes RedshiftStreamRole the ``IAM_ROLE default`` (which then cannot read the stream
    itself: it only may assume KinesisStreamRole)."""
    redshift_role = f"arn:aws:iam::{redshift_account}:role/RedshiftStreamRole"
    kinesis_role = f"arn:aws:iam::{stream_account}:role/KinesisStreamRole"
    catalog = IamRoleCatalog()
    catalog.put_role(redshift_role, _trust({"Service": "redshift.amazonaws.com"}), [{
        "Version": "2012-10-17",
        "Statement": [{"Sid": "StsAssumeRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                       "Resource": kinesis_role}]}])
    catalog.put_role(kinesis_role, _trust({"AWS": redshift_role}), [{
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadStream", "Effect": "Allow",
             "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords",
                        "kinesis:DescribeStream"],
             "Resource": f"arn:aws:kinesis:*:{stream_account}:stream/*"},
            {"Sid": "ListStream", "Effect": "Allow", "Action": ["kinesis:ListStreams", "kinesis:ListShards"],
             "Resource": "*"}]}])
    catalog.attach(warehouse, redshift_role, default=default)
    return catalog


def _trust(principal: dict[str, str]) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
