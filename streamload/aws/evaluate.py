"""Just enough IAM policy evaluation for preflight: does a set of identity policies allow an
action on a resource, and does a trust policy let a principal assume the role?

Explicit Deny wins, wildcards match as IAM's do (``*`` and ``?``). Conditions are not
evaluated: a statement with a Condition is taken as not applying, so the check can only
err towards "fix this", never towards a false pass.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

__all__ = ["allows", "trusts", "role_policy_documents"]


def _list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _matches(patterns: list[str], value: str, case_sensitive: bool) -> bool:
    if not case_sensitive:
        value = value.lower()
        patterns = [p.lower() for p in patterns]
    return any(fnmatchcase(value, p) for p in patterns)


def _applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "Condition" in statement:
        return False
    return (_matches(_list(statement.get("Action", [])), action, case_sensitive=False)
            and _matches(_list(statement.get("Resource", [])), resource, case_sensitive=True))


def allows(documents: list[dict[str, Any]], action: str, resource: str) -> bool:
    statements = [s for doc in documents for s in _statements(doc)]
    if any(s.get("Effect") == "Deny" and _applies(s, action, resource) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and _applies(s, action, resource) for s in statements)


def trusts(trust: dict[str, Any], kind: str, principal: str) -> bool:
    """``kind`` is ``AWS`` (a role/account ARN) or ``Service``."""
    for statement in _statements(trust):
        if statement.get("Effect") != "Allow" or "Condition" in statement:
            continue
        if not _matches(_list(statement.get("Action", [])), "sts:AssumeRole", case_sensitive=False):
            continue
        principals = statement.get("Principal", {})
        if principals == "*":
            return True
        if principal in _list(principals.get(kind, [])) or "*" in _list(principals.get(kind, [])):
            return True
    return False


def role_policy_documents(iam: Any, role_name: str) -> list[dict[str, Any]]:
    """Every identity policy of a role: attached managed ones and inline ones."""
    from streamload.aws.iam import attached_policy_arns, policy_document
    from streamload.aws.policies import policy_from_api

    documents = [doc for arn in attached_policy_arns(iam, role_name) if (doc := policy_document(iam, arn))]
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page["PolicyNames"]:
            documents.append(policy_from_api(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]))
    return documents
