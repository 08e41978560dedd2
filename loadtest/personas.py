"""Sales personas under load: identity-enhanced credentials, RLS checks, the leakage count.

Each persona (docs/identity.md) obtains credentials through the real flow, once per
process, and renews them before they expire:

    ID token (local issuer's /oidc/token, or a token file on AWS)
      -> STS AssumeRoleWithWebIdentity            (web-identity role session)
      -> SSO-OIDC CreateTokenWithIAM, jwt-bearer  (token with sts:identity_context)
      -> STS AssumeRole + ProvidedContexts        (identity-enhanced session)
      -> Redshift Data API as AWSIDC:<email>, roles AWSIDC:<group>

Every result is checked against the persona's allowed regions and columns; a foreign row
or column increments ``streamload_rls_violations_total{persona}``, fails the Locust
request and is written to the per-process persona report (``loadtest/persona_report.py``:
the orchestrator merges those into the run report; any violation fails the run).

Nothing here imports Locust, so the orchestrator and tests import it without gevent's
monkey-patching; the Locust users are in ``loadtest/persona_users.py``.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from streamload.core.personas import SALES_COLUMNS, Persona, PersonasConfig
from loadtest import metrics
from streamload.dataapi.client import DataApiClient, StatementError
from loadtest.persona_auth import (PersonaAuthError, PersonaCredentials, PersonaSessions,  # noqa: F401 (re-exported)
                                   obtain_persona_credentials)
from loadtest.persona_report import (PersonaRecorder, persona_report_path,  # noqa: F401 (re-exported)
                                     read_persona_reports)
from streamload.core.config import LoadConfig, RedshiftConfig, TargetConfig

__all__ = ["PersonasConfig", "PersonaAuthError", "PersonaCredentials", "obtain_persona_credentials",
           "PersonaSessions", "RowCheck", "check_result", "PersonaRecorder", "PersonaQueryRunner",
           "read_persona_reports", "persona_report_path", "init_rls_series", "PersonaProcess"]

log = logging.getLogger("streamload.loadtest.personas")


# -- checks ------------------------------------------------------------------

@dataclass
class RowCheck:
    rows: int = 0
    foreign_rows: int = 0
    foreign_regions: dict[str, int] = field(default_factory=dict)
    foreign_columns: list[str] = field(default_factory=list)
    problem: str | None = None  # the result could not be checked (no region column)

    @property
    def violations(self) -> int:
        return self.foreign_rows + len(self.foreign_columns)

    def describe(self) -> str:
        parts = []
        if self.foreign_rows:
            parts.append(f"{self.foreign_rows} foreign rows {dict(self.foreign_regions)}")
        if self.foreign_columns:
            parts.append(f"foreign columns {self.foreign_columns}")
        return "; ".join(parts) or (self.problem or "ok")


class RlsViolation(Exception):
    """A persona received rows or columns its row- or column-level security should hide."""


def check_result(persona: Persona, columns: list[str], rows: list[list[Any]]) -> RowCheck:
    """Compare a result with what the persona may see: regions per row, columns per result."""
    names = [c.lower() for c in columns]
    check = RowCheck(rows=len(rows), foreign_columns=[c for c in names if c not in persona.allowed_columns])
    if "region" not in names:
        check.problem = "the result has no region column, so its rows cannot be checked"
        return check
    index = names.index("region")
    allowed = set(persona.allowed_regions)
    for row in rows:
        value = row[index]
        region = value.strip().upper() if isinstance(value, str) else "NULL"
        if region not in allowed:
            check.foreign_rows += 1
            check.foreign_regions[region] = check.foreign_regions.get(region, 0) + 1
    return check


def init_rls_series(cfg: PersonasConfig) -> None:
    """Create ``streamload_rls_violations_total{persona}`` at 0 for every configured persona,
    so dashboards and the RLS alert read "0 violations" from the start, not "no data"."""
    for persona in cfg.all_personas:
        metrics.RLS_VIOLATIONS.labels(persona=persona.name)


# -- one persona's queries --------------------------------------------------------------

class _HeldStatementEvent:
    """Pass Data API phase events through, but hold ``statement <name>`` until the rows
    are checked, so a leak fails the very request that carried it."""

    def __init__(self, fire: Callable[..., None]) -> None:
        self._fire, self.held = fire, None

    def __call__(self, **event: Any) -> None:
        if str(event.get("name", "")).startswith("statement "):
            self.held = event
        else:
            self._fire(**event)

    def release(self, exception: Exception | None = None) -> None:
        if self.held is not None:
            self._fire(**{**self.held, "exception": self.held.get("exception") or exception})
            self.held = None


class PersonaQueryRunner:
    """Runs one persona's sales query (or column probe) and checks what comes back."""

    def __init__(self, persona: Persona, cfg: PersonasConfig, sessions: PersonaSessions, redshift: RedshiftConfig,
                 recorder: PersonaRecorder, fire: Callable[..., None] | None = None, timeout_s: float = 60.0,
                 poll_max_s: float = 0.05, sleep: Callable[[float], None] = time.sleep) -> None:
        self.persona, self.cfg, self.sessions, self.recorder = persona, cfg, sessions, recorder
        # Identity-enhanced callers are their own database user: never send DbUser/SecretArn.
        self.redshift = redshift.model_copy(update={"db_user": None, "secret_arn": None})
        self._fire = fire or (lambda **_: None)
        self.timeout_s, self.poll_max_s, self._sleep = timeout_s, poll_max_s, sleep

    @property
    def query_sql(self) -> str:
        return self.cfg.query_sql.format(columns=", ".join(self.persona.allowed_columns), table=self.cfg.table)

    @property
    def forbidden_columns(self) -> list[str]:
        return [c for c in SALES_COLUMNS if c not in self.persona.allowed_columns]

    def _execute(self, sql: str, name: str, hold: _HeldStatementEvent):
        try:
            boto = self.sessions.client(self.persona)
        except PersonaAuthError as exc:
            self.recorder.auth_error(self.persona.name, f"{exc.step}: {exc.code}: {exc.message}")
            raise
        self.recorder.renewals(self.persona.name, self.sessions.renewals(self.persona.name))
        client = DataApiClient(boto, self.redshift, fire=hold, poll_max_s=self.poll_max_s,
                               timeout_s=self.timeout_s, sleep=self._sleep)
        return client.execute(sql, name)

    def query(self) -> RowCheck | None:
        """One checked query; None if it could not run (sign-in or statement failure)."""
        name = f"persona {self.persona.name}"
        hold = _HeldStatementEvent(self._fire)
        started = time.perf_counter()
        outcome, check, seconds = "failed", None, None
        try:
            result = self._execute(self.query_sql, name, hold)
            seconds = time.perf_counter() - started
        except PersonaAuthError:
            return None
        except (StatementError, ClientError, BotoCoreError) as exc:
            log.warning("%s: query failed: %s", self.persona.name, exc)
            hold.release()
        else:
            check = check_result(self.persona, result.columns, result.rows)
            error: Exception | None = None
            if check.violations:
                metrics.RLS_VIOLATIONS.labels(persona=self.persona.name).inc(check.violations)
                error = RlsViolation(f"{self.persona.name} saw {check.describe()}")
                log.error("RLS violation: %s", error)
            elif check.problem:
                error = RlsViolation(check.problem)
            else:
                outcome = "ok"
            hold.release(error)
        finally:
            metrics.QUERY_SECONDS.labels(persona=self.persona.name, outcome=outcome).observe(
                time.perf_counter() - started)
        self.recorder.query(self.persona.name, check, self.query_sql, seconds)
        return check

    def column_probe(self) -> RowCheck | None:
        """Ask for a column the persona must not see; a result holding it is a violation."""
        forbidden = self.forbidden_columns
        if not forbidden:
            return None
        sql = f"SELECT region, {forbidden[0]} FROM {self.cfg.table} LIMIT 1"
        name = f"column-probe {self.persona.name}"
        hold = _HeldStatementEvent(lambda **_: None)  # a denial is the expected outcome, not a failure
        started = time.perf_counter()
        try:
            result = self._execute(sql, name, hold)
        except PersonaAuthError:
            return None
        except (StatementError, ClientError, BotoCoreError) as exc:
            denied = "permission denied" in str(exc).lower()
            self.recorder.column_probe(self.persona.name, denied)
            self._report(name, started, None if denied else exc)
            return RowCheck() if denied else None
        check = check_result(self.persona, result.columns, result.rows)
        self.recorder.column_probe(self.persona.name, False)
        self.recorder.query(self.persona.name, check, sql)
        if check.violations:
            metrics.RLS_VIOLATIONS.labels(persona=self.persona.name).inc(check.violations)
        self._report(name, started, RlsViolation(f"{self.persona.name} saw {check.describe()}")
                     if check.violations else None)
        return check

    def _report(self, name: str, started: float, exception: Exception | None) -> None:
        self._fire(request_type="DataAPI", name=name, response_time=(time.perf_counter() - started) * 1000.0,
                   response_length=0, exception=exception, context={})


# -- one Locust process's persona state --------------------------------------------------

class PersonaProcess:
    """What every persona user of one Locust process shares: one sign-in cache, one report.

    Kept on the process's ``LoadProcess`` (``environment.streamload.personas``) by the first
    persona user (``loadtest/persona_users.py``); ``fire`` reports a failed sign-in to Locust.
    """

    def __init__(self, cfg: PersonasConfig, target: TargetConfig, fire: Callable[..., None]) -> None:
        def fire_auth_failure(exc: PersonaAuthError) -> None:
            fire(request_type="Auth", name=f"sign-in {exc.persona}", response_time=0, response_length=0,
                 exception=exc, context={})

        self.cfg = cfg
        self.recorder = PersonaRecorder()
        self.sessions = PersonaSessions(cfg, target, max_pool_connections=max(10, max(1, cfg.users_per_persona) * 2),
                                        on_error=fire_auth_failure)

    def runner(self, persona: str, redshift: RedshiftConfig, load: LoadConfig,
               fire: Callable[..., None]) -> PersonaQueryRunner:
        """One persona user's query runner, on this process's sessions and recorder."""
        return PersonaQueryRunner(self.cfg.persona(persona), self.cfg, self.sessions, redshift, self.recorder,
                                  fire=fire, timeout_s=load.statement_timeout_s, poll_max_s=load.poll_interval_s)

    def write_report(self, plan) -> None:
        """This process's persona report, for the orchestrator to merge (``persona_report.py``)."""
        path = persona_report_path(plan)
        if path is not None:
            self.recorder.write(path)
