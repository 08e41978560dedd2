"""IAM policies and roles: observe against the wanted document, create or converge, find by
tag, delete. Only resources tagged with this run id are ever modified or deleted."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from streamload.aws.changes import Change
from streamload.aws.config import RUN_ID_TAG
from streamload.aws.errors import error_code, none_if_missing
from streamload.aws.policies import canonical_policy, policy_from_api
from streamload.aws.waits import Backoff

__all__ = [
    "observe_policy", "observe_role", "role_tags", "tag_role", "policy_document", "role_trust",
    "tagged_roles", "tagged_policies", "delete_role", "delete_policy", "attached_policy_arns",
]

MAX_POLICY_VERSIONS = 5


def _tag_list(run_id: str) -> list[dict[str, str]]:
    return [{"Key": RUN_ID_TAG, "Value": run_id}]


def _tags_to_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def policy_document(iam: Any, arn: str) -> dict[str, Any] | None:
    policy = none_if_missing("NoSuchEntity", lambda: iam.get_policy(PolicyArn=arn)["Policy"])
    if policy is None:
        return None
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    return policy_from_api(version["PolicyVersion"]["Document"])


def role_trust(iam: Any, name: str) -> dict[str, Any] | None:
    role = none_if_missing("NoSuchEntity", lambda: iam.get_role(RoleName=name)["Role"])
    return None if role is None else policy_from_api(role["AssumeRolePolicyDocument"])


def role_tags(iam: Any, name: str) -> dict[str, str]:
    return _tags_to_dict(iam.list_role_tags(RoleName=name).get("Tags"))


def tag_role(iam: Any, name: str, key: str, value: str) -> None:
    iam.tag_role(RoleName=name, Tags=[{"Key": key, "Value": value}])


def attached_policy_arns(iam: Any, role_name: str) -> list[str]:
    pages = iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
    return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]


def _set_policy_document(iam: Any, arn: str, document: dict[str, Any]) -> None:
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= MAX_POLICY_VERSIONS:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)


def observe_policy(iam: Any, account: str, arn: str, document: dict[str, Any], run_id: str) -> Change:
    name = arn.rsplit("/", 1)[1]
    current = policy_document(iam, arn)
    if current is None:
        return Change(account, "iam policy", name, "create", json.dumps(document), apply=lambda: iam.create_policy(
            PolicyName=name, PolicyDocument=json.dumps(document), Tags=_tag_list(run_id),
            Description=f"streamload run {run_id}: Redshift streaming ingestion"))
    ours = _tags_to_dict(iam.list_policy_tags(PolicyArn=arn).get("Tags")).get(RUN_ID_TAG) == run_id
    same = canonical_policy(current) == canonical_policy(document)
    if not ours:
        return Change(account, "iam policy", name, "foreign", _foreign_detail(run_id, same))
    if same:
        return Change(account, "iam policy", name, "unchanged")
    return Change(account, "iam policy", name, "update", "new default version: " + json.dumps(document),
                  apply=lambda: _set_policy_document(iam, arn, document))


def _foreign_detail(run_id: str, same: bool) -> str:
    where = "matches" if same else "DIFFERS from"
    return f"exists without tag {RUN_ID_TAG}={run_id}; left as is (it {where} the set-up of docs/aws.md)"


def _invalid_principal(exc: Exception) -> bool:
    # A trust policy naming a role another account created seconds ago is refused until
    # IAM has propagated it.
    return error_code(exc) == "MalformedPolicyDocument" and "principal" in str(exc).lower()


def observe_role(
    iam: Any, account: str, name: str, trust: dict[str, Any], policy_arn: str, run_id: str, backoff: Backoff
) -> Change:
    current = role_trust(iam, name)
    if current is None:
        def create() -> None:
            backoff.retry(lambda: iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=_tag_list(run_id),
                Description=f"streamload run {run_id}: Redshift streaming ingestion"),
                _invalid_principal, f"create role {name}")
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        return Change(account, "iam role", name, "create", f"trust {json.dumps(trust)}; attach {policy_arn}", apply=create)
    ours = role_tags(iam, name).get(RUN_ID_TAG) == run_id
    same_trust = canonical_policy(current) == canonical_policy(trust)
    attached = policy_arn in attached_policy_arns(iam, name)
    if not ours:
        return Change(account, "iam role", name, "foreign", _foreign_detail(run_id, same_trust and attached))
    if same_trust and attached:
        return Change(account, "iam role", name, "unchanged")
    todo = ([] if same_trust else [f"trust -> {json.dumps(trust)}"]) + ([] if attached else [f"attach {policy_arn}"])

    def update() -> None:
        if not same_trust:
            backoff.retry(lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust)),
                          _invalid_principal, f"update trust of {name}")
        if not attached:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return Change(account, "iam role", name, "update", "; ".join(todo), apply=update)


def tagged_roles(iam: Any, run_id: str) -> Iterator[str]:
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role_tags(iam, role["RoleName"]).get(RUN_ID_TAG) == run_id:
                yield role["RoleName"]


def tagged_policies(iam: Any, run_id: str) -> Iterator[str]:
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            tags = _tags_to_dict(iam.list_policy_tags(PolicyArn=policy["Arn"]).get("Tags"))
            if tags.get(RUN_ID_TAG) == run_id:
                yield policy["Arn"]


def delete_role(iam: Any, name: str) -> None:
    for arn in attached_policy_arns(iam, name):
        iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for inline in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=inline)
    for profile in iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]:
        iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    iam.delete_role(RoleName=name)


def delete_policy(iam: Any, arn: str) -> None:
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    for role in entities.get("PolicyRoles", []):
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    for user in entities.get("PolicyUsers", []):
        iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
    for group in entities.get("PolicyGroups", []):
        iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)
