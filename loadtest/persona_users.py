"""The sales personas as Locust users: one ``PersonaQueryUser`` subclass per configured persona.

Import this module only from a Locust process (``loadtest/locustfile.py``), like
``loadtest/users.py``: Locust must be imported first (gevent monkey-patching). The checks,
the sign-in cache and the report are Locust-free, in ``loadtest/personas.py``.
"""
from __future__ import annotations

import locust  # noqa: F401  (first: gevent monkey-patching precedes boto3)
from locust import events, task

from loadtest.personas import PersonaProcess
from loadtest.users import DataApiUser
from streamload.core.personas import PersonasConfig
from streamload.core.user_mix import persona_user_name

__all__ = ["PersonaQueryUser", "persona_user_classes", "persona_process"]


def persona_process(environment) -> PersonaProcess:
    """This process's shared persona state, created by its first persona user."""
    process = environment.streamload
    if process.personas is None:
        process.personas = PersonaProcess(process.cfg.personas, process.cfg.target,
                                          fire=environment.events.request.fire)
    return process.personas


class PersonaQueryUser(DataApiUser):
    """Queries ``sales`` as one persona (``persona_name``), every result checked; the
    per-persona subclasses come from ``persona_user_classes``."""

    abstract = True
    persona_name = ""

    def on_start(self) -> None:
        super().on_start()
        shared = persona_process(self.environment)
        self.persona_cfg = shared.cfg
        self.runner = shared.runner(self.persona_name, self.process.cfg.redshift, self.process.cfg.load,
                                    fire=self.environment.events.request.fire)

    def wait_time(self):
        return self.persona_cfg.query_interval_s

    @task(9)
    def query(self) -> None:
        self.runner.query()

    @task(1)
    def column_probe(self) -> None:
        if self.persona_cfg.column_probe:
            self.runner.column_probe()


def persona_user_classes(cfg: PersonasConfig) -> dict[str, type[PersonaQueryUser]]:
    """One ``PersonaQueryUser_<name>`` class per persona, by its ``UserMix`` name
    (``persona-<name>``); none when personas are off. Persona names come from the config,
    so the classes are made here rather than written out."""
    if not cfg.enabled:
        return {}
    return {persona_user_name(p.name): type(f"PersonaQueryUser_{p.name}", (PersonaQueryUser,),
                                            {"persona_name": p.name, "abstract": False})
            for p in cfg.all_personas}


@events.quitting.add_listener
def _write_persona_report(environment, **_kw) -> None:
    """This process's persona report, when a persona user ran here."""
    process = getattr(environment, "streamload", None)
    if process is not None and process.personas is not None:
        process.personas.write_report(process.plan)
