"""Who signed a Data API request, and whether the signature holds (``emulator.sigv4``).

Keys are the settings' ``static_credentials`` (default: the local stack's
``streamload-local``/``streamload-local``) and every live session the local STS issued
(``identity_registry``); a temporary key must come with its session token. Errors as AWS
names them: UnrecognizedClientException for an unknown key, InvalidSignatureException for a
wrong or stale signature, IncompleteSignatureException for an unreadable header and
MissingAuthenticationTokenException for an unsigned request (unless ``allow_unsigned_requests``).
"""
from __future__ import annotations

from collections.abc import Mapping

from emulator import sigv4

from .exceptions import (IncompleteSignatureException, InvalidSignatureException,
                         MissingAuthenticationTokenException, RedshiftDataError, UnrecognizedClientException)
from .settings import RedshiftDataSettings

__all__ = ["RequestAuthenticator"]


class RequestAuthenticator:
    def __init__(self, settings: RedshiftDataSettings) -> None:
        self.settings = settings
        self.registry = settings.identity_registry
        self.verify = sigv4.SigV4Verifier(self._secret_for, settings.max_signature_skew_s,
                                          session_token_for=self._session_token_for) \
            if settings.verify_signatures else None

    def _secret_for(self, access_key_id: str) -> str | None:
        secret = self.settings.static_credentials.get(access_key_id)
        if secret is None and self.registry is not None and self.registry.lookup(access_key_id) is not None:
            secret = self.registry.secret_for(access_key_id)  # live STS sessions only, not expired ones
        return secret

    def _session_token_for(self, access_key_id: str) -> str | None:
        if access_key_id in self.settings.static_credentials or self.registry is None:
            return None
        return self.registry.session_token_for(access_key_id)

    def access_key(self, method: str, path_qs: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """The caller's access key id once its signature checks out (None: unsigned, if allowed)."""
        try:
            auth = sigv4.parse_authorization(headers.get("Authorization"), strict=self.verify is not None)
            if auth is None:
                if self.verify is not None and not self.settings.allow_unsigned_requests:
                    raise MissingAuthenticationTokenException("Missing Authentication Token")
                return None
            if self.verify is not None:
                self.verify(method, path_qs, headers, body, auth)
            return auth.access_key_id
        except sigv4.SigV4Error as error:
            raise _as_data_api_error(error) from None


def _as_data_api_error(error: sigv4.SigV4Error) -> RedshiftDataError:
    return sigv4.as_service_error(error, IncompleteSignatureException, UnrecognizedClientException,
                                  InvalidSignatureException)
