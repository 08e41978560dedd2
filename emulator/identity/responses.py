"""Protocol layers of the local identity server: thin parsing and serialising only.

- STS, **query** protocol: form-encoded ``POST /`` with ``Action=...``; XML responses and
  ``<ErrorResponse>`` errors.

Every request is checked against botocore's model of its operation (emulator/service_model.py),
so required members, lengths, patterns and ranges are AWS's: STS answers ``ValidationError``
(``1 validation error detected: Value null at 'roleArn' …``), SSO-OIDC ``InvalidRequestException``.
- SSO-OIDC ``CreateTokenWithIAM``, **rest-json**: ``POST /token?aws_iam=t``; errors carry
  ``x-amzn-ErrorType`` (botocore's error code) and an OAuth body.
- OIDC issuer: ``GET /.well-known/openid-configuration``, ``GET /jwks`` and the local,
  password-less ``POST /oidc/token`` (form or JSON ``username=<persona name or email>``).
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import orjson
from aiohttp import web

from emulator import service_model as model
from emulator.query_protocol import query_input
from emulator.service_errors import json_object_body

from .exceptions import (STS_XMLNS, AccessDeniedException, InvalidAction, InvalidClientTokenId,
                         InvalidParameterValue, InvalidRequestException, MissingAuthenticationToken,
                         SignatureDoesNotMatch, SsoOidcError, StsError, ValidationError)
from .models import IdentityBackend, IssuedCredentials
from .registry import CallerIdentity
from .sigv4 import parse_authorization, signature_is_valid

__all__ = ["IdentityResponses"]

_log = logging.getLogger(__name__)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _credentials_xml(creds: IssuedCredentials) -> str:
    return (f"<AssumedRoleUser><Arn>{escape(creds.assumed_role_arn)}</Arn>"
            f"<AssumedRoleId>{escape(creds.assumed_role_id)}</AssumedRoleId></AssumedRoleUser>"
            f"<Credentials><AccessKeyId>{creds.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{creds.secret_access_key}</SecretAccessKey>"
            f"<SessionToken>{creds.session_token}</SessionToken>"
            f"<Expiration>{_iso(creds.expiration)}</Expiration></Credentials>")


def _sts_input(action: str, params: dict[str, str]) -> dict[str, Any]:
    """The action's form fields, nested, typed and checked against the STS model."""
    operation = model.operation_model("sts", action)
    try:
        return model.validate_input(operation, query_input(operation, params))
    except model.ShapeMismatch as error:
        raise InvalidParameterValue(error.message) from None
    except model.ConstraintViolations as error:
        raise ValidationError(error.message) from None


def _create_token_with_iam_input(payload: Any) -> dict[str, Any]:
    try:
        return model.validate_input(model.operation_model("sso-oidc", "CreateTokenWithIAM"), payload)
    except (model.ShapeMismatch, model.ConstraintViolations) as error:
        raise InvalidRequestException(error.message) from None


class IdentityResponses:
    def __init__(self, backend: IdentityBackend) -> None:
        self.backend = backend

    # -- authentication shared by STS and SSO-OIDC ------------------------------------------
    def _authenticate(self, request: web.Request, body: bytes) -> CallerIdentity:
        auth = parse_authorization(request.headers.get("Authorization"))
        if auth is None:
            raise MissingAuthenticationToken("Request is missing Authentication Token")
        secret = self.backend.secret_for(auth.access_key_id)
        if secret is None:
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        caller = self.backend.caller(auth.access_key_id)
        expected_token = self.backend.registry.session_token_for(auth.access_key_id)
        if expected_token is not None and request.headers.get("X-Amz-Security-Token") != expected_token:
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        if not signature_is_valid(request.method, request.path_qs, request.headers, body, auth, secret):
            raise SignatureDoesNotMatch("The request signature we calculated does not match the signature you "
                                        "provided. Check your AWS Secret Access Key and signing method.")
        return caller

    def _bind(self, request: web.Request) -> None:
        self.backend.bind_issuer(str(request.url.origin()))

    # -- STS ----------------------------------------------------------------------------
    async def sts(self, request: web.Request) -> web.Response:
        request_id = str(uuid.uuid4())
        try:
            self._bind(request)
            body = await request.read()
            params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            action = params.get("Action", "")
            if action == "AssumeRoleWithWebIdentity":  # unsigned by design: the token is the proof
                given = _sts_input(action, params)
                creds, claims = self.backend.assume_role_with_web_identity(
                    given["RoleArn"], given["RoleSessionName"], given["WebIdentityToken"],
                    given.get("DurationSeconds"))
                inner = (f"<SubjectFromWebIdentityToken>{escape(str(claims.get('sub')))}</SubjectFromWebIdentityToken>"
                         f"<Audience>{escape(str(claims.get('aud')))}</Audience>{_credentials_xml(creds)}"
                         f"<Provider>{escape(self.backend.oidc_provider_arn)}</Provider>")
            elif action == "AssumeRole":
                caller = self._authenticate(request, body)
                given = _sts_input(action, params)
                creds = self.backend.assume_role(
                    caller, given["RoleArn"], given["RoleSessionName"], given.get("DurationSeconds"),
                    given.get("ProvidedContexts", []))
                inner = _credentials_xml(creds)
            elif action == "GetCallerIdentity":
                caller = self._authenticate(request, body)
                inner = (f"<Arn>{escape(caller.arn)}</Arn><UserId>{escape(caller.access_key_id)}</UserId>"
                         f"<Account>{caller.account_id}</Account>")
            else:
                raise InvalidAction(f"Could not find operation {action or '(no Action parameter)'} for version "
                                    f"{params.get('Version', '')}")
            xml = (f'<{action}Response xmlns="{STS_XMLNS}"><{action}Result>{inner}</{action}Result>'
                   f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>")
            return web.Response(text=xml, content_type="text/xml", headers={"x-amzn-RequestId": request_id})
        except StsError as exc:
            return web.Response(status=exc.status, text=exc.xml(request_id), content_type="text/xml",
                                headers={"x-amzn-RequestId": request_id})
        except Exception:  # a bug still answers like AWS, never with a traceback
            _log.exception("unexpected error in STS")
            error = StsError("Internal error in the local STS.")
            error.sender_fault = False
            return web.Response(status=500, text=error.xml(request_id), content_type="text/xml")

    # -- SSO-OIDC -----------------------------------------------------------------------
    async def sso_oidc_token(self, request: web.Request) -> web.Response:
        if request.query.get("aws_iam") != "t":
            return self._oidc_error(InvalidRequestException("Only CreateTokenWithIAM (POST /token?aws_iam=t) is served."))
        try:
            self._bind(request)
            body = await request.read()
            try:
                caller = self._authenticate(request, body)
            except StsError as exc:
                raise AccessDeniedException(exc.message) from None
            given = _create_token_with_iam_input(json_object_body(body, InvalidRequestException))
            result = self.backend.create_token_with_iam(caller, given["clientId"], given["grantType"],
                                                        given.get("assertion"), given.get("scope"))
            return web.json_response(result, dumps=lambda v: orjson.dumps(v).decode())
        except SsoOidcError as exc:
            return self._oidc_error(exc)
        except Exception:
            _log.exception("unexpected error in SSO-OIDC")
            return web.json_response({"error": "server_error", "error_description": "Internal error."}, status=500,
                                     headers={"x-amzn-ErrorType": "InternalServerException"})

    @staticmethod
    def _oidc_error(exc: SsoOidcError) -> web.Response:
        return web.json_response(exc.body(), status=exc.status, headers={"x-amzn-ErrorType": exc.code})

    # -- OIDC issuer ----------------------------------------------------------------------
    async def openid_configuration(self, request: web.Request) -> web.Response:
        self._bind(request)
        return web.json_response(self.backend.openid_configuration())

    async def jwks(self, request: web.Request) -> web.Response:
        self._bind(request)
        return web.json_response(self.backend.jwks())

    async def issuer_token(self, request: web.Request) -> web.Response:
        """Password-less login for local personas: ``username`` -> ``{"id_token": ...}``."""
        self._bind(request)
        raw = await request.read()
        fields: dict[str, Any]
        if request.content_type == "application/json":
            try:
                fields = orjson.loads(raw) if raw else {}
            except orjson.JSONDecodeError:
                fields = {}
        else:
            fields = dict(parse_qsl(raw.decode("utf-8", "replace")))
        username = fields.get("username") if isinstance(fields, dict) else None
        if not isinstance(username, str) or not username:
            return web.json_response({"error": "invalid_request", "error_description": "username is required"},
                                     status=400)
        if self.backend.persona(username) is None:
            return web.json_response({"error": "invalid_grant",
                                      "error_description": f"no local persona named {username!r}"}, status=400)
        token = self.backend.issue_id_token(username)
        return web.json_response({"id_token": token, "token_type": "N_A",
                                  "expires_in": self.backend.settings.token_ttl_s})

    async def not_found(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "not_found", "error_description": f"{request.method} {request.path}"},
                                 status=404)
