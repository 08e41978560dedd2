"""Redshift-only session parameters: ``SET``, ``RESET`` and ``SHOW`` kept by the Data API.

PostgreSQL rejects parameters it does not know (``enable_case_sensitive_identifier`` …), and
some of them change how we *translate* SQL, so their values live here, per session: a Data
API session (``SessionId``) keeps them across statements, a statement without one starts from
the defaults (every statement is its own session, as on Redshift). Other parameters go to
PostgreSQL untouched.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .translate import CaseRules, SqlTranslationError, UnsupportedSqlError, _Tokens

__all__ = ["SessionSettings", "SettingCommand", "parse_setting_command", "REDSHIFT_ONLY_PARAMETERS"]

# Parameters PostgreSQL lacks, with Redshift's defaults. Those not about case are accepted and
# only remembered (SHOW returns them): the local stack has no result cache or WLM queues.
REDSHIFT_ONLY_PARAMETERS = {
    "enable_case_sensitive_identifier": "off",
    "enable_case_sensitive_super_attribute": "off",
    "enable_result_cache_for_session": "on",
    "query_group": "default",
    "wlm_query_slot_count": "1",
    # SUPER's lax mode (the default): a failed navigation or cast gives NULL. Strict mode is not
    # supported locally; the parse setting is remembered only.
    "navigate_super_null_on_error": "on",
    "cast_super_null_on_error": "on",
    "parse_super_null_on_error": "off",
}
_BOOLEAN = {"enable_case_sensitive_identifier", "enable_case_sensitive_super_attribute",
            "enable_result_cache_for_session", "navigate_super_null_on_error", "cast_super_null_on_error",
            "parse_super_null_on_error"}
_LAX_ONLY = ("navigate_super_null_on_error", "cast_super_null_on_error")
_TRUE, _FALSE = ("true", "on", "1", "yes"), ("false", "off", "0", "no")


@dataclass
class SessionSettings:
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, REDSHIFT_ONLY_PARAMETERS[name])

    def case_rules(self) -> CaseRules:
        return CaseRules(identifier=self.get("enable_case_sensitive_identifier") == "on",
                         super_attribute=self.get("enable_case_sensitive_super_attribute") == "on")

    def apply(self, command: "SettingCommand") -> str | None:
        """Run SET/RESET; for SHOW return the value."""
        if command.verb == "SHOW":
            return self.get(command.name)
        if command.name == "all":
            self.values.clear()
        elif command.verb == "RESET" or command.value is None:
            self.values.pop(command.name, None)
        else:
            self.values[command.name] = command.value
        return None


@dataclass(frozen=True)
class SettingCommand:
    verb: str  # SET, RESET or SHOW
    name: str  # a REDSHIFT_ONLY_PARAMETERS key, or "all" (RESET ALL)
    value: str | None = None  # SET's normalised value; None for DEFAULT


def parse_setting_command(sql_text: str) -> SettingCommand | None:
    """The SET/RESET/SHOW of a Redshift-only parameter (or RESET ALL), else None."""
    tokens = _Tokens(sql_text)
    verb = tokens.peek_word()
    if verb not in ("SET", "RESET", "SHOW"):
        return None
    tokens.pos += 1
    if verb == "SET":
        tokens.accept("SESSION") or tokens.accept("LOCAL")  # both last the Data API statement or session
    name = tokens.peek_word().lower()
    if verb == "RESET" and name == "all":
        return SettingCommand("RESET", "all")
    if name not in REDSHIFT_ONLY_PARAMETERS:
        return None
    tokens.pos += 1
    if verb != "SET":
        _expect_end(tokens)
        return SettingCommand(verb, name)
    if not (tokens.accept("TO") or tokens.accept("=")):
        raise SqlTranslationError(f'syntax error at or near "{tokens.peek_word() or "end of input"}"')
    if tokens.at_end():
        raise SqlTranslationError("syntax error at end of input")
    raw = tokens.tokens[tokens.pos].text
    tokens.pos += 1
    _expect_end(tokens)
    if raw.upper() == "DEFAULT":
        return SettingCommand("SET", name, None)
    value = _normalise(name, raw)
    if name in _LAX_ONLY and value == "off":
        raise UnsupportedSqlError(f"strict SUPER mode ({name} off)")
    return SettingCommand("SET", name, value)


def _normalise(name: str, raw: str) -> str:
    if name not in _BOOLEAN:
        return raw
    if raw.lower() in _TRUE:
        return "on"
    if raw.lower() in _FALSE:
        return "off"
    raise SqlTranslationError(f'ERROR: invalid value for parameter "{name}": "{raw}"')


def _expect_end(tokens: _Tokens) -> None:
    if not tokens.at_end():
        raise SqlTranslationError(f'syntax error at or near "{tokens.peek_word()}"')
