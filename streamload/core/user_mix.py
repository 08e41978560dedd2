"""Which Locust users a run starts, how many of each, and which query classes arrive on the
open model instead: decided once, here, from the configuration.

Config validation (no Locust users at all is an error), the orchestrator (``-u``/``-r``
for ``locust``) and the locustfile (which classes it binds) all read this one plan, so
they cannot disagree. Names, not classes: the core layer does not import Locust, and the
locustfile maps each name to its class.

Names: ``refresh``, ``query``, ``probe``, and ``persona-<name>`` for each persona; an
open-model arrival class goes by the same name (``[load] query_rate_per_s`` keys it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config.py imports this module for its validator
    from streamload.core.config import StreamloadConfig

__all__ = ["UserMix", "planned_users", "persona_user_name"]


def persona_user_name(persona: str) -> str:
    """The user (and open-model arrival) name of one persona's queries."""
    return f"persona-{persona}"


@dataclass(frozen=True)
class UserMix:
    """``closed``: Locust users by name with their fixed count (only counts above 0, since
    Locust treats a fixed count of 0 as "use weights"); ``open``: the query classes that
    become open-model arrivals at ``query_rate_per_s`` (not Locust users)."""

    closed: dict[str, int] = field(default_factory=dict)
    open: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """How many Locust users the run spawns (``locust -u``)."""
        return sum(self.closed.values())

    @property
    def has_locust_users(self) -> bool:
        return self.total > 0


def planned_users(cfg: "StreamloadConfig") -> UserMix:
    """The run's users from its config.

    Refresh users only when streamload refreshes the view (not ``refresh_mode = "auto"``);
    one probe user when ``probe``; the query classes (``query``, one per persona when
    personas are enabled with ``users_per_persona`` > 0) are closed-model users with their
    configured counts, or, with ``query_model = "open"``, open-model arrivals. The ``query``
    class always arrives in an open-model run, whatever ``query_users`` says.
    """
    load, personas = cfg.load, cfg.personas
    persona_names = ([persona_user_name(p.name) for p in personas.all_personas]
                     if personas.enabled and personas.users_per_persona > 0 else [])
    closed = {"refresh": 0 if load.refresh_mode == "auto" else load.refresh_users,
              "query": load.query_users if load.query_model == "closed" else 0,
              "probe": int(load.probe)}
    if load.query_model == "open":
        return UserMix(closed=_positive(closed), open=("query", *persona_names))
    closed.update(dict.fromkeys(persona_names, personas.users_per_persona))
    return UserMix(closed=_positive(closed))


def _positive(counts: dict[str, int]) -> dict[str, int]:
    return {name: count for name, count in counts.items() if count > 0}
