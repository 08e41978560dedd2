"""Just enough IAM trust-policy evaluation for the local STS.

Supports what role trust policies use: ``Effect``, ``Principal`` (``AWS``, ``Federated``,
``Service``, ``"*"``), ``Action`` (strings or lists, ``*`` wildcards), and ``Condition``
with ``StringEquals``/``StringLike`` (and their ``ForAnyValue`` forms are not needed).
An explicit Deny wins; otherwise some Allow must match every part.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Principal", "trust_allows", "role_arn_of_session"]


@dataclass(frozen=True)
class Principal:
    """Who asks: ``kind`` is AWS or Federated; ``arns`` are every ARN that names it."""

    kind: str
    arns: tuple[str, ...]
    context: dict[str, str] = field(default_factory=dict)


def role_arn_of_session(session_arn: str) -> str | None:
    """``arn:aws:sts::A:assumed-role/R/s`` -> ``arn:aws:iam::A:role/R`` (trust policies name roles)."""
    parts = session_arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:aws:iam::{parts[4]}:role/{role}"
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _principal_matches(statement_principal: Any, who: Principal) -> bool:
    if statement_principal == "*":
        return True
    if not isinstance(statement_principal, dict):
        return False
    for pattern in _as_list(statement_principal.get(who.kind)):
        if pattern == "*" or pattern in who.arns:
            return True
        # "arn:aws:iam::<account>:root" (or the bare account id) trusts the whole account.
        if who.kind == "AWS":
            account = pattern if pattern.isdigit() else (pattern.split(":")[4] if pattern.endswith(":root") else None)
            if account and any(arn.split(":")[4] == account for arn in who.arns if arn.count(":") >= 5):
                return True
    return False


def _action_matches(statement_action: Any, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement_action))


def _conditions_hold(conditions: dict[str, Any] | None, context: dict[str, str]) -> bool:
    for operator, tests in (conditions or {}).items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            wanted = _as_list(expected)
            if operator == "StringEquals":
                ok = actual in wanted
            elif operator == "StringLike":
                ok = any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            else:
                return False  # an operator we do not know cannot be proven true
            if not ok:
                return False
    return True


def trust_allows(policy: dict[str, Any], who: Principal, action: str) -> bool:
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        if not (_principal_matches(st.get("Principal"), who) and _action_matches(st.get("Action"), action)
                and _conditions_hold(st.get("Condition"), who.context)):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed
