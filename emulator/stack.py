"""The local stack: PostgreSQL, the Kinesis server, the Redshift Data API server and the
identity server (OIDC issuer, STS, SSO-OIDC), on loopback with free ports, started and
stopped as one unit.

The identity server and the Data API share one ``IdentityRegistry``: the sessions STS
issues are the callers the Data API maps to database users (``AWSIDC:<email>`` with roles
``AWSIDC:<group>`` for identity-enhanced sessions), which is what the persona users need.

``LocalStack`` is what ``streamload demo`` and the end-to-end tests use; ``streamload
stack`` runs it in the foreground for users who point their own runs at it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from streamload.core.personas import Persona
from emulator.identity.registry import IdentityRegistry
from emulator.runtime import LOOPBACK, BackgroundServer

__all__ = ["LOCAL_ACCESS_KEY", "LOCAL_SECRET_KEY", "LocalStack"]

# Credentials the local stack accepts. They open nothing outside this machine.
LOCAL_ACCESS_KEY = "streamload-local"
LOCAL_SECRET_KEY = "streamload-local"
# The tutorial's two accounts, local stand-ins: the chain RedshiftStreamRole (attached to every
# local warehouse) -> KinesisStreamRole (may read the stream) is checked at each REFRESH.
LOCAL_REDSHIFT_ACCOUNT = "222222222222"
LOCAL_STREAM_ACCOUNT = "111111111111"


@dataclass
class LocalStack:
    data_dir: Path | None = None
    host: str = LOOPBACK
    kinesis_port: int = 0
    redshift_data_port: int = 0
    identity_port: int = 0
    auto_refresh_interval_s: float = 1.0
    # Who the local identity store knows; None: the four default personas.
    personas: list[Persona] | None = None
    _pg: object | None = field(default=None, init=False)
    _servers: list[BackgroundServer] = field(default_factory=list, init=False)
    registry: IdentityRegistry = field(default_factory=IdentityRegistry, init=False)
    kinesis_url: str = field(default="", init=False)
    redshift_data_url: str = field(default="", init=False)
    identity_url: str = field(default="", init=False)

    @property
    def pg_dsn(self) -> str:
        return self._pg.dsn  # type: ignore[union-attr]

    def start(self) -> "LocalStack":
        from emulator.identity.server import IDENTITY_BACKEND
        from emulator.identity.server import create_app as create_identity_app
        from emulator.identity.settings import IdentitySettings
        from emulator.kinesis.server import create_app as create_kinesis_app
        from emulator.postgres import PostgresServer
        from emulator.redshift_data.role_chain import reference_iam_catalog
        from emulator.redshift_data.server import RedshiftDataSettings
        from emulator.redshift_data.server import create_app as create_redshift_app

        # sqlglot warns when it keeps a statement it cannot parse (CREATE ROLE "AWSIDC:...") as
        # a command; the Data API translates those itself, so the warning is only noise here.
        logging.getLogger("sqlglot").setLevel(logging.ERROR)
        self.registry.iam = reference_iam_catalog(LOCAL_REDSHIFT_ACCOUNT, LOCAL_STREAM_ACCOUNT)
        try:
            self._pg = PostgresServer(data_dir=self.data_dir / "postgres" if self.data_dir else None)
            self._pg.start()
            kinesis = BackgroundServer(create_kinesis_app, host=self.host, port=self.kinesis_port).start()
            self._servers.append(kinesis)
            self.kinesis_url = kinesis.url
            settings = RedshiftDataSettings(
                pg_dsn=self._pg.dsn,
                kinesis_endpoint_url=self.kinesis_url,
                auto_refresh_interval_s=self.auto_refresh_interval_s,
                identity_registry=self.registry,
            )

            async def make_redshift_app():
                return await create_redshift_app(settings)

            redshift = BackgroundServer(make_redshift_app, host=self.host, port=self.redshift_data_port).start()
            self._servers.append(redshift)
            self.redshift_data_url = redshift.url
            identity_settings = IdentitySettings(**({"personas": self.personas} if self.personas is not None else {}))

            async def make_identity_app():
                return await create_identity_app(identity_settings, self.registry)

            identity = BackgroundServer(make_identity_app, host=self.host, port=self.identity_port).start()
            self._servers.append(identity)
            self.identity_url = identity.url
            # Tokens name the issuer: bind it to the URL clients are given, whatever Host they send.
            identity.app[IDENTITY_BACKEND].bind_issuer(self.identity_url)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
        if self._pg is not None:
            self._pg.stop()
            self._pg = None

    def point_config_at_stack(self, cfg) -> None:
        """Aim a ``StreamloadConfig`` at this stack: endpoints (the identity server for the
        personas' STS, SSO-OIDC and ID tokens), local keys, a workgroup and the tutorial's
        role chain where the config names none."""
        cfg.target.kinesis_endpoint_url = self.kinesis_url
        cfg.target.redshift_data_endpoint_url = self.redshift_data_url
        if self.identity_url:  # unset on a stack that was never started (config defaults only)
            cfg.personas.sts_endpoint_url = self.identity_url
            cfg.personas.sso_oidc_endpoint_url = self.identity_url
            cfg.personas.issuer_token_url = f"{self.identity_url}/oidc/token"
        if cfg.personas.setup is None:  # the local stack starts empty: set up the sales scenario
            cfg.personas.setup = True
        cfg.target.access_key_id = LOCAL_ACCESS_KEY
        cfg.target.secret_access_key = LOCAL_SECRET_KEY
        if not cfg.redshift.cluster_identifier and not cfg.redshift.workgroup_name:
            cfg.redshift.workgroup_name = "local"
        if not cfg.redshift.iam_roles:
            cfg.redshift.iam_roles = [
                f"arn:aws:iam::{LOCAL_REDSHIFT_ACCOUNT}:role/RedshiftStreamRole",
                f"arn:aws:iam::{LOCAL_STREAM_ACCOUNT}:role/KinesisStreamRole",
            ]

    def endpoints(self) -> dict[str, str]:
        return {"kinesis": self.kinesis_url, "redshift_data": self.redshift_data_url, "identity": self.identity_url}

    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
