"""The aiohttp application of the local identity stack: OIDC issuer, STS and SSO-OIDC on
one loopback port.

Routing: ``POST /`` is STS (query protocol, ``Action`` form field); ``POST /token`` is
SSO-OIDC (``?aws_iam=t``: CreateTokenWithIAM); ``/.well-known/openid-configuration``,
``/jwks`` and ``POST /oidc/token`` are the OIDC issuer. boto3 clients for ``sts`` and
``sso-oidc`` both take this server's URL as ``endpoint_url``.

``python -m emulator.identity --port 0`` serves it alone and prints ``IDENTITY_URL=...``.
"""
from __future__ import annotations

import argparse

from aiohttp import web

from emulator.runtime import LOOPBACK, serve_in_foreground, serve_until_signalled
from streamload.core.errors import reports_errors

from .models import IdentityBackend
from .registry import IdentityRegistry
from .responses import IdentityResponses
from .settings import IdentitySettings

__all__ = ["IDENTITY_BACKEND", "create_app", "main"]

IDENTITY_BACKEND = web.AppKey("identity_backend", IdentityBackend)
MAX_BODY_BYTES = 256 * 1024  # tokens and policies are a few KB


async def create_app(settings: IdentitySettings | None = None,
                     registry: IdentityRegistry | None = None) -> web.Application:
    """The identity application; share ``registry`` with the Data API server."""
    backend = IdentityBackend(settings or IdentitySettings(), registry if registry is not None else IdentityRegistry())
    responses = IdentityResponses(backend)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[IDENTITY_BACKEND] = backend
    app.router.add_post("/", responses.sts)
    app.router.add_post("/token", responses.sso_oidc_token)
    app.router.add_get("/.well-known/openid-configuration", responses.openid_configuration)
    app.router.add_get("/jwks", responses.jwks)
    app.router.add_post("/oidc/token", responses.issuer_token)
    app.router.add_route("*", "/{tail:.*}", responses.not_found)
    return app


async def _serve(host: str, port: int) -> None:
    app = await create_app()
    # Tokens name the issuer; bind it to the URL we print, not to whatever Host a client sends.
    await serve_until_signalled(app, host, port, "IDENTITY_URL",
                                on_started=lambda server: app[IDENTITY_BACKEND].bind_issuer(server.url))


@reports_errors("python -m emulator.identity")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.identity",
                                     description="Local OIDC issuer, STS and SSO-OIDC for the sales personas.")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    return serve_in_foreground(_serve(args.host, args.port), "the identity stack", args.host, args.port)
