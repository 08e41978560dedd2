"""One typed configuration for every streamload run, local or AWS.

Loaded from a TOML or YAML file, then overridden by ``STREAMLOAD_<SECTION>__<FIELD>``
environment variables, then by command-line flags. The same file drives a run against the
local stack (endpoint URLs set) and against AWS (endpoint URLs unset: the standard AWS
endpoint and credential chain apply).

Environment variables are read by pydantic-settings: ``__`` separates nesting levels and a
list or dict setting takes JSON, e.g. ``STREAMLOAD_VERDICT__THRESHOLDS='["lost == 0"]'``,
``STREAMLOAD_LOAD__QUERY_RATE_PER_S='{"query": 3}'``; each value is then validated with
the field's type, like the file's.
"""
from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, SecretStr, ValidationError, model_validator
from pydantic_settings import EnvSettingsSource, SettingsError

from streamload.core.aws_config import AwsProvisionConfig
from streamload.core.errors import ConfigError
from streamload.core.personas import PersonasConfig

__all__ = [
    "ConfigError",
    "TargetConfig",
    "StreamConfig",
    "RedshiftConfig",
    "ProducerConfig",
    "LoadConfig",
    "VerdictConfig",
    "PersonasConfig",
    "AwsProvisionConfig",
    "StreamloadConfig",
    "load_config",
]

ENV_PREFIX = "STREAMLOAD_"
ENV_NESTED_DELIMITER = "__"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TargetConfig(_Section):
    """Where the pipeline lives. Endpoint URLs select the local stack; unset means AWS."""

    region: str = "us-east-1"
    profile: str | None = None
    kinesis_endpoint_url: str | None = None
    redshift_data_endpoint_url: str | None = None
    # Explicit keys are for the local stack; against AWS leave them unset and let the
    # standard chain (env, profile, SSO, instance role) provide credentials.
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None

    def client_kwargs(self, service: str) -> dict[str, Any]:
        """Keyword arguments for ``session.create_client``/``boto3.client`` for ``service``."""
        kwargs: dict[str, Any] = {"region_name": self.region}
        endpoint = {
            "kinesis": self.kinesis_endpoint_url,
            "redshift-data": self.redshift_data_endpoint_url,
        }.get(service)
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        if self.access_key_id and self.secret_access_key:
            kwargs["aws_access_key_id"] = self.access_key_id
            kwargs["aws_secret_access_key"] = self.secret_access_key.get_secret_value()
        return kwargs


class StreamConfig(_Section):
    name: str = "my-data-stream"
    shards: int = Field(2, ge=1, le=500)


class RedshiftConfig(_Section):
    database: str = "dev"
    cluster_identifier: str | None = None
    workgroup_name: str | None = None
    db_user: str | None = None
    secret_arn: str | None = None
    external_schema: str = "schema_stream"
    materialized_view: str = "my_stream_vw"
    # The role chain for CREATE EXTERNAL SCHEMA: Redshift's role first, then the stream
    # account's role. Empty means IAM_ROLE default.
    iam_roles: list[str] = Field(default_factory=list)
    # Producers also publish their compact ledgers to this table through the Data API, so a run
    # spread over machines is audited without a shared volume (None: ledger files only).
    ledger_table: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")

    @model_validator(mode="after")
    def _one_target(self) -> "RedshiftConfig":
        if self.cluster_identifier and self.workgroup_name:
            raise ValueError("set either cluster_identifier or workgroup_name, not both")
        return self

    def target_kwargs(self) -> dict[str, str]:
        """The Data API parameters that say which warehouse and user a statement runs as."""
        kwargs = {"Database": self.database}
        if self.workgroup_name:
            kwargs["WorkgroupName"] = self.workgroup_name
        elif self.cluster_identifier:
            kwargs["ClusterIdentifier"] = self.cluster_identifier
        if self.db_user:
            kwargs["DbUser"] = self.db_user
        if self.secret_arn:
            kwargs["SecretArn"] = self.secret_arn
        return kwargs


class ProducerConfig(_Section):
    rate: float = Field(200.0, gt=0, description="records per second")
    duration_s: float = Field(30.0, gt=0)
    total: int | None = Field(None, ge=1)
    schema_name: str = Field("randomuser", alias="schema")
    seed: int | None = None
    producer_id: str = "p0"
    record_ttl_s: float = Field(30.0, gt=0)
    metrics_port: int = Field(9100, ge=0, le=65535)
    # Rate profile instead of `rate`, e.g. "ramp:100:2000:60s" (README: "Rate profiles").
    profile: str | None = None
    partition_key: str = "random"  # random | field:PATH | hot[:KEY]
    shard_limit: bool = True  # pace each shard under 1,000 records/s and 1 MiB/s
    # Producer processes sharing the rate (ids p0..pN-1, a ledger each, metrics on port + k).
    processes: int = Field(1, ge=1, le=64)

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


class LoadConfig(_Section):
    # interval: REFRESH every refresh_interval_s; back-to-back: the next starts when the last
    # ends; auto: no REFRESH from streamload, observe the MV's AUTO REFRESH only.
    refresh_mode: Literal["interval", "back-to-back", "auto"] = "interval"
    refresh_users: int = Field(1, ge=0)
    query_users: int = Field(2, ge=0)
    probe: bool = True
    refresh_interval_s: float = Field(1.0, ge=0)
    query_interval_s: float = Field(1.0, ge=0)
    probe_interval_s: float = Field(0.5, gt=0)
    # Ignored since the probe is a canary sampling by refresh_time (docs/measurement.md);
    # still accepted so that older config files load.
    probe_slack_s: float = Field(10.0, ge=0)
    # The canary probe samples at most this many newly visible records per tick, whatever the rate.
    probe_sample_per_tick: int = Field(50, ge=1, le=10_000)
    # Once the producers are done: how often the probe asks the warehouse how many records arrived.
    probe_count_interval_s: float = Field(2.0, gt=0)
    drain_timeout_s: float = Field(60.0, ge=0)
    poll_interval_s: float = Field(0.02, gt=0)
    statement_timeout_s: float = Field(60.0, gt=0)
    metrics_port: int = Field(9646, ge=0, le=65535)
    # Locust workers on this machine (0: one Locust process). Worker i serves metrics on
    # metrics_port + i.
    workers: int = Field(0, ge=0, le=64)
    # closed: query_users Locust users each wait for their query (Locust's model). open:
    # queries arrive at query_rate_per_s (a total split evenly, or {class: rate}) on a fixed
    # schedule, latency from the intended start; late and dropped starts are counted
    # (loadtest/open_model.py). open_max_concurrency is per class and per process.
    query_model: Literal["closed", "open"] = "closed"
    query_rate_per_s: PositiveFloat | dict[str, PositiveFloat] = 2.0
    open_max_concurrency: int = Field(20, ge=1)
    open_max_start_delay_s: float = Field(1.0, ge=0)
    open_late_tolerance_s: float = Field(0.01, ge=0)
    # After the audit, serve its lost/duplicated counts on metrics_port until Prometheus
    # scrapes them once, at most this long (only if it scraped the load test during the run).
    final_scrape_timeout_s: float = Field(90.0, ge=0)
    query_sql: str = (
        "SELECT payload.name.first, payload.name.last, payload.dob.date AS dob, payload.cell "
        "FROM {mv}"
    )


class VerdictConfig(_Section):
    """What makes a run pass: thresholds, and optionally a baseline to compare with."""

    thresholds: list[str] = Field(default_factory=lambda: ["lost == 0"])
    baseline: Path | None = None
    max_increase: float = Field(0.10, ge=0)
    noise_k: float = Field(3.0, ge=0)
    min_delta_ms: float = Field(50.0, ge=0)

    @model_validator(mode="after")
    def _parse(self) -> "VerdictConfig":
        from streamload.core.thresholds import parse_threshold

        for text in self.thresholds:
            parse_threshold(text)  # raises with the offending line
        return self


class StreamloadConfig(_Section):
    target: TargetConfig = Field(default_factory=TargetConfig)
    stream: StreamConfig = Field(default_factory=StreamConfig)
    redshift: RedshiftConfig = Field(default_factory=RedshiftConfig)
    producer: ProducerConfig = Field(default_factory=ProducerConfig)
    load: LoadConfig = Field(default_factory=LoadConfig)
    verdict: VerdictConfig = Field(default_factory=VerdictConfig)
    # Sales personas querying through identity-enhanced sessions, every row checked (RLS).
    personas: PersonasConfig = Field(default_factory=PersonasConfig)
    # Provisioning in your AWS accounts and the cost estimate (docs/aws.md); unused locally.
    aws: AwsProvisionConfig = Field(default_factory=AwsProvisionConfig)
    out_dir: Path = Path("out")

    @model_validator(mode="after")
    def _locust_has_users(self) -> "StreamloadConfig":
        """Locust refuses to start without a user class; say why here instead. (Open-model
        query arrivals run inside the Locust process but are not users of their own.) A
        per-class ``query_rate_per_s`` must name open-model classes, or the run would fail
        only once Locust starts."""
        from streamload.core.user_mix import planned_users

        mix = planned_users(self)
        if not mix.has_locust_users:
            raise ValueError("load: nothing for Locust to run -- keep probe = true, a refresh user "
                             "(refresh_mode other than auto), or closed-model query users")
        rates = self.load.query_rate_per_s
        unknown = sorted(set(rates) - set(mix.open)) if mix.open and isinstance(rates, dict) else []
        if unknown:
            raise ValueError(f"load.query_rate_per_s names {unknown}, which are not open-model query classes "
                             f"of this run; known: {list(mix.open)}")
        return self


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"config file {path} is not valid: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table of sections")
    _warn_if_secrets_readable(path, data)
    return data


_SECRET_WORDS = ("secret", "password", "token")


def _warn_if_secrets_readable(path: Path, data: dict[str, Any]) -> None:
    """One warning line when [target] holds a secret and others may read the file (ssh's
    rule; a file in a directory that group/others cannot enter, like a mkdtemp one, is safe)."""
    target = data.get("target")
    secrets = sorted(k for k, v in target.items() if v and any(w in str(k).lower() for w in _SECRET_WORDS)) \
        if isinstance(target, dict) else []
    if not secrets:
        return
    mode = path.stat().st_mode & 0o777
    folder = path.resolve().parent.stat().st_mode
    reachable = (mode & 0o070 if folder & 0o010 else 0) | (mode & 0o007 if folder & 0o001 else 0)
    if reachable:
        logging.getLogger("streamload.core.config").warning(
            "config file %s holds %s in [target] but is readable by group/others (mode %03o): chmod 600 %s",
            path, ", ".join(secrets), mode, path)


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """``STREAMLOAD_PRODUCER__RATE=500`` -> ``{"producer": {"rate": "500"}}``, lists and dicts
    decoded from JSON (``STREAMLOAD_REDSHIFT__IAM_ROLES='["arn:..."]'`` -> a list).

    pydantic-settings' own parser, fed ``environ`` instead of ``os.environ`` (tests pass a
    dict): its public ``env_vars`` mapping is what it reads, keys lower-cased as it does for
    case-insensitive settings. Variables naming no section (``STREAMLOAD_RUN_FILE``) are not ours.
    """
    source = EnvSettingsSource(StreamloadConfig, case_sensitive=False, env_prefix=ENV_PREFIX,  # type: ignore[arg-type]
                               env_nested_delimiter=ENV_NESTED_DELIMITER)
    source.env_vars = {key.lower(): value for key, value in environ.items() if key.upper().startswith(ENV_PREFIX)}
    try:
        return source()
    except SettingsError as exc:  # a list or dict setting that is not JSON
        what = str(exc).split(" from source")[0]  # 'error parsing value for field "redshift"'
        raise ConfigError(f"invalid environment: {what}: a list or dict setting takes JSON, "
                          f"e.g. {ENV_PREFIX}VERDICT__THRESHOLDS='[\"lost == 0\"]' ({exc.__cause__})") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is not None:
            merged[key] = value
    return merged


def format_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "config"
    message = err["msg"].removeprefix("Value error, ")  # pydantic's wording for a raised ValueError
    return f"invalid config: {where}: {message}"


def load_config(
    path: Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> StreamloadConfig:
    """File, then environment, then ``overrides`` (flags), validated once at the end."""
    data: dict[str, Any] = _read_file(path) if path else {}
    data = _merge(data, _env_overrides(dict(os.environ if environ is None else environ)))
    data = _merge(data, overrides or {})
    try:
        return StreamloadConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None
