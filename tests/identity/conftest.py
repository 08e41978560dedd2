"""The local identity server on port 0, and boto3 clients pointed at it."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request

import boto3
import pytest

from emulator.identity import IdentityRegistry
from emulator.identity.server import IDENTITY_BACKEND, create_app
from emulator.identity.settings import (LOCAL_ACCOUNT_ID, LOCAL_APPLICATION_ARN, LOCAL_IDENTITY_ROLE,
                                        LOCAL_WEB_IDENTITY_ROLE, IdentitySettings)
from streamload.core.personas import Persona, default_personas
from emulator.runtime import BackgroundServer

WEB_ROLE_ARN = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{LOCAL_WEB_IDENTITY_ROLE}"
IDENTITY_ROLE_ARN = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{LOCAL_IDENTITY_ROLE}"
IDC_PROVIDER = "arn:aws:iam::aws:contextProvider/IdentityCenter"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LOCAL_KEYS = {"aws_access_key_id": "streamload-local", "aws_secret_access_key": "streamload-local"}
# A persona the identity store knows, in a group no application assignment covers.
LONER = Persona(name="lou", email="lou@example.com", groups=("interns",), allowed_regions=())


class IdentityStack:
    def __init__(self, server: BackgroundServer, registry: IdentityRegistry) -> None:
        self.server, self.registry = server, registry
        self.url = server.url
        self.backend = server.app[IDENTITY_BACKEND]
        self.backend.bind_issuer(self.url)

    def id_token(self, username: str) -> str:
        body = urllib.parse.urlencode({"username": username}).encode()
        with urllib.request.urlopen(f"{self.url}/oidc/token", data=body, timeout=5) as resp:
            return json.loads(resp.read())["id_token"]

    def client(self, service: str, creds: dict | None = None, **keys):
        if creds is not None:
            keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                    "aws_session_token": creds["SessionToken"]}
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", **(keys or LOCAL_KEYS))

    def web_identity(self, username: str = "frank") -> tuple[str, dict]:
        token = self.id_token(username)
        creds = self.client("sts").assume_role_with_web_identity(
            RoleArn=WEB_ROLE_ARN, RoleSessionName=f"s-{username}", WebIdentityToken=token)["Credentials"]
        return token, creds

    def identity_context(self, token: str, creds: dict) -> str:
        granted = self.client("sso-oidc", creds).create_token_with_iam(
            clientId=LOCAL_APPLICATION_ARN, grantType=JWT_BEARER, assertion=token)
        return granted["awsAdditionalDetails"]["identityContext"]


def start_identity(settings: IdentitySettings | None = None) -> IdentityStack:
    registry = IdentityRegistry()
    settings = settings or IdentitySettings(personas=default_personas() + [LONER],
                                            application_groups=("exec-global", "amer-sales", "emea-sales", "apac-sales"))
    server = BackgroundServer(lambda: create_app(settings, registry)).start()
    return IdentityStack(server, registry)


@pytest.fixture(scope="module")
def identity():
    stack = start_identity()
    yield stack
    stack.server.stop()
