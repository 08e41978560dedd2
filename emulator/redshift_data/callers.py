"""Which database user a Data API caller runs as, decided the way Redshift decides it.

- identity-enhanced session (Identity Center) -> ``AWSIDC:<email>`` with roles ``AWSIDC:<group>``;
- ``DbUser`` given -> that user (a superuser name such as ``awsuser`` -> the admin);
- assumed-role session -> ``IAMR:<role name>``;
- anyone else, and everyone when no identity registry is configured -> the admin (None).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DatabaseUser", "resolve_database_user", "IDC_PREFIX", "IAM_ROLE_PREFIX"]

IDC_PREFIX = "AWSIDC:"
IAM_ROLE_PREFIX = "IAMR:"


@dataclass(frozen=True)
class DatabaseUser:
    """A non-superuser login role and the roles it must be a member of."""

    name: str
    roles: tuple[str, ...] = ()


def resolve_database_user(registry, access_key_id: str | None, db_user: str | None,
                          superuser_names: tuple[str, ...] = ()) -> DatabaseUser | None:
    if registry is None:
        return None
    identity = registry.lookup(access_key_id) if access_key_id else None
    if identity is not None and identity.identity_enhanced:
        return DatabaseUser(IDC_PREFIX + identity.user_email,
                            tuple(IDC_PREFIX + group for group in identity.groups))
    if db_user:
        return None if db_user in superuser_names else DatabaseUser(db_user)
    if identity is not None and identity.role_name:
        return DatabaseUser(IAM_ROLE_PREFIX + identity.role_name)
    return None
