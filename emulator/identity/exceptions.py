"""AWS errors of the local STS and SSO-OIDC, one class per error code.

    IdentityError
    ├── StsError                      (query protocol: XML <ErrorResponse>)
    │   ├── InvalidIdentityToken            400  token forged, malformed, wrong issuer/audience
    │   ├── ExpiredTokenException           400  token (or identity context) expired
    │   ├── AccessDenied                    403  trust policy does not allow the caller
    │   ├── InvalidParameterValue           400  bad ProvidedContexts, duration, ...
    │   ├── MissingParameter                400
    │   ├── ValidationError                 400  a member breaks the STS model's constraints, in AWS's
    │   │                                         words; DurationSeconds above the role's maximum
    │   ├── InvalidClientTokenId            403  unknown access key or session token
    │   ├── MissingAuthenticationToken      403  unsigned request to a signed action
    │   ├── SignatureDoesNotMatch           403
    │   ├── NoSuchEntity                    404  role does not exist (AWS answers AccessDenied
    │   │                                         for AssumeRole; kept for the IAM side)
    │   └── InvalidAction                   400
    └── SsoOidcError                  (rest-json: {"error": ..., "error_description": ...})
        ├── InvalidClientException          401  clientId is not the application
        ├── InvalidGrantException           400  assertion rejected, user unknown
        ├── UnsupportedGrantTypeException   400
        ├── AccessDeniedException           400  user not assigned to the application
        └── InvalidRequestException         400  includes a request that breaks the SSO-OIDC model
"""
from __future__ import annotations

from xml.sax.saxutils import escape

__all__ = [
    "IdentityError", "StsError", "SsoOidcError", "InvalidIdentityToken", "ExpiredTokenException", "AccessDenied",
    "InvalidParameterValue", "MissingParameter", "ValidationError", "InvalidClientTokenId", "MissingAuthenticationToken", "SignatureDoesNotMatch", "InvalidAction",
    "InvalidClientException", "InvalidGrantException", "UnsupportedGrantTypeException", "AccessDeniedException",
    "InvalidRequestException", "STS_XMLNS",
]

STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


class IdentityError(Exception):
    code = "InternalFailure"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StsError(IdentityError):
    sender_fault = True

    def xml(self, request_id: str) -> str:
        kind = "Sender" if self.sender_fault else "Receiver"
        return (f'<ErrorResponse xmlns="{STS_XMLNS}"><Error><Type>{kind}</Type><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")


class InvalidIdentityToken(StsError):
    code, status = "InvalidIdentityToken", 400


class ExpiredTokenException(StsError):
    code, status = "ExpiredTokenException", 400


class AccessDenied(StsError):
    code, status = "AccessDenied", 403


class InvalidParameterValue(StsError):
    code, status = "InvalidParameterValue", 400


class MissingParameter(StsError):
    code, status = "MissingParameter", 400


class ValidationError(StsError):
    code, status = "ValidationError", 400


class InvalidClientTokenId(StsError):
    code, status = "InvalidClientTokenId", 403


class MissingAuthenticationToken(StsError):
    code, status = "MissingAuthenticationToken", 403


class SignatureDoesNotMatch(StsError):
    code, status = "SignatureDoesNotMatch", 403


class InvalidAction(StsError):
    code, status = "InvalidAction", 400


class SsoOidcError(IdentityError):
    oauth_error = "invalid_request"

    def body(self) -> dict[str, str]:
        return {"error": self.oauth_error, "error_description": self.message}


class InvalidClientException(SsoOidcError):
    code, status, oauth_error = "InvalidClientException", 401, "invalid_client"


class InvalidGrantException(SsoOidcError):
    code, status, oauth_error = "InvalidGrantException", 400, "invalid_grant"


class UnsupportedGrantTypeException(SsoOidcError):
    code, status, oauth_error = "UnsupportedGrantTypeException", 400, "unsupported_grant_type"


class AccessDeniedException(SsoOidcError):
    code, status, oauth_error = "AccessDeniedException", 400, "access_denied"


class InvalidRequestException(SsoOidcError):
    code, status, oauth_error = "InvalidRequestException", 400, "invalid_request"
