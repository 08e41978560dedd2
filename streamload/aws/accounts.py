"""Sessions for the two accounts, their ids, and the clients built from them.

Credentials only ever come from ``boto3.Session(profile_name=...)`` (or the default chain);
account ids from ``sts:GetCallerIdentity``. Endpoint URLs from ``[target]`` still apply to
Kinesis and the Data API, so the same commands can be pointed at the local stack.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
import botocore.session
from botocore.config import Config as BotoConfig

from streamload.aws.config import AwsProvisionConfig
from streamload.aws.errors import translate_boto_error
from streamload.aws.policies import AccountPair, ResourceNames
from streamload.core.config import StreamloadConfig

__all__ = ["AwsContext", "SessionFactory", "connect", "session_from_credentials"]

Side = Literal["stream", "redshift"]
SessionFactory = Callable[[str | None], boto3.Session]
ENDPOINT_SERVICES = {"kinesis": "kinesis_endpoint_url", "redshift-data": "redshift_data_endpoint_url"}
CLIENT_CONFIG = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


def _default_session(profile: str | None) -> boto3.Session:
    return boto3.Session(profile_name=profile) if profile else boto3.Session()


def session_from_credentials(credentials: dict[str, Any], parent: boto3.Session | None = None) -> boto3.Session:
    """A session for an ``sts:AssumeRole`` result; the keys stay in memory, never in logs.

    Sharing ``parent``'s model loader saves re-reading botocore's service JSON per hop."""
    core = botocore.session.get_session()
    if parent is not None:
        core.register_component("data_loader", parent._session.get_component("data_loader"))
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        botocore_session=core,
    )


@dataclass
class AwsContext:
    """Everything a command needs about the two accounts, resolved once."""

    cfg: StreamloadConfig
    settings: AwsProvisionConfig
    stream_session: boto3.Session
    redshift_session: boto3.Session
    accounts: AccountPair
    stream_caller_arn: str = ""
    redshift_caller_arn: str = ""
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def names(self) -> ResourceNames:
        return ResourceNames(self.accounts, self.settings)

    @property
    def region(self) -> str:
        return self.cfg.target.region

    def client_for(self, session: boto3.Session, service: str) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.region, "config": CLIENT_CONFIG}
        endpoint_field = ENDPOINT_SERVICES.get(service)
        endpoint = getattr(self.cfg.target, endpoint_field) if endpoint_field else None
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        return session.client(service, **kwargs)

    def client(self, side: Side, service: str) -> Any:
        key = (side, service)
        if key not in self._clients:
            session = self.stream_session if side == "stream" else self.redshift_session
            self._clients[key] = self.client_for(session, service)
        return self._clients[key]


def _identity(session: boto3.Session, region: str, who: str) -> dict[str, Any]:
    try:
        return session.client("sts", region_name=region, config=CLIENT_CONFIG).get_caller_identity()
    except Exception as exc:
        raise translate_boto_error(exc, f"credentials of the {who} account") from None


def connect(
    cfg: StreamloadConfig,
    settings: AwsProvisionConfig,
    session_factory: SessionFactory | None = None,
) -> AwsContext:
    """Open both sessions and learn the account ids; raises ``AwsSetupError`` subclasses."""
    make_session = session_factory or _default_session
    redshift_profile = settings.redshift_profile or settings.stream_profile
    try:
        stream_session = make_session(settings.stream_profile)
        redshift_session = make_session(redshift_profile)
    except Exception as exc:
        raise translate_boto_error(exc, "opening the AWS profiles") from None
    stream_id = _identity(stream_session, cfg.target.region, "stream")
    redshift_id = _identity(redshift_session, cfg.target.region, "Redshift")
    partition = stream_id["Arn"].split(":")[1]
    return AwsContext(
        cfg=cfg,
        settings=settings,
        stream_session=stream_session,
        redshift_session=redshift_session,
        accounts=AccountPair(stream_id["Account"], redshift_id["Account"], partition),
        stream_caller_arn=stream_id["Arn"],
        redshift_caller_arn=redshift_id["Arn"],
    )
