"""Who is calling: the sessions the local STS issued, looked up by access key id.

The STS server (``emulator/identity``) registers every session it issues; the Redshift
Data API server looks the caller's access key up to decide which database user a
statement runs as, as Redshift does:

- identity-enhanced session (``identity_context`` set) -> ``AWSIDC:<email>`` with roles
  ``AWSIDC:<group>`` for each group;
- ``DbUser`` parameter given -> that user;
- assumed-role session -> ``IAMR:<role name>``;
- anything else (the local stack's own keys) -> the admin user.

Both servers run in one process (the local stack), so the registry is a thread-safe
in-memory map shared by reference.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallerIdentity", "IdentityRegistry"]


@dataclass(frozen=True)
class CallerIdentity:
    access_key_id: str
    account_id: str
    arn: str
    role_name: str | None = None
    # For identity-enhanced sessions: the Identity Center user and its groups.
    user_email: str | None = None
    groups: tuple[str, ...] = ()
    expires_at: float | None = None

    @property
    def identity_enhanced(self) -> bool:
        return self.user_email is not None


@dataclass
class IdentityRegistry:
    _sessions: dict[str, tuple[CallerIdentity, str, str | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # The local IAM's roles for Redshift IAM_ROLE chains (emulator.redshift_data.role_chain.IamRoleCatalog);
    # None: streaming REFRESH checks no role chain.
    iam: Any = None

    def register(self, identity: CallerIdentity, secret_access_key: str, session_token: str | None) -> None:
        with self._lock:
            self._sessions[identity.access_key_id] = (identity, secret_access_key, session_token)

    def lookup(self, access_key_id: str, now: float | None = None) -> CallerIdentity | None:
        """The live session for this key, or None (unknown or expired)."""
        with self._lock:
            entry = self._sessions.get(access_key_id)
        if entry is None:
            return None
        identity = entry[0]
        if identity.expires_at is not None and identity.expires_at <= (time.time() if now is None else now):
            return None
        return identity

    def session_token_for(self, access_key_id: str) -> str | None:
        """The session token issued with this key (a request must carry it as X-Amz-Security-Token)."""
        with self._lock:
            entry = self._sessions.get(access_key_id)
        return entry[2] if entry else None

    def secret_for(self, access_key_id: str) -> str | None:
        """The secret key of an issued session (for SigV4 verification)."""
        with self._lock:
            entry = self._sessions.get(access_key_id)
        return entry[1] if entry else None
