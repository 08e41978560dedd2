"""Plug-in schemas: generators other packages register under the entry point group
``streamload.schemas``, e.g. in their ``pyproject.toml``::

    [project.entry-points."streamload.schemas"]
    orders = "mypkg.orders:OrderRecords"

The object named there is called as ``factory(producer_id, seed=..., run_id=...,
key_field=...)`` and must return a generator with ``generate(seq, produced_at)`` and
``run_id``; the easy way is to subclass ``producer.schemas.RecordGenerator`` and implement
``body()``. Entry points are read when a schema is asked for, never at import.
"""
from __future__ import annotations

import importlib.metadata

from producer.schemas.base import SchemaError

__all__ = ["GROUP", "plugin_names", "load_plugin", "build_plugin"]

GROUP = "streamload.schemas"


def _entry_points() -> list:
    return list(importlib.metadata.entry_points(group=GROUP))


def plugin_names() -> list[str]:
    """Installed plug-in schema names, sorted."""
    return sorted({ep.name for ep in _entry_points()})


def load_plugin(name: str):
    """The factory registered as ``name``, or None if no plug-in has that name."""
    for entry_point in _entry_points():
        if entry_point.name == name:
            try:
                factory = entry_point.load()
            except Exception as exc:  # the plug-in's own import error: name it, one line
                raise SchemaError(f"plug-in schema {name!r} ({entry_point.value}) failed to load: "
                                  f"{type(exc).__name__}: {exc}") from None
            if not callable(factory):
                raise SchemaError(f"plug-in schema {name!r} ({entry_point.value}) is not callable")
            return factory
    return None


def build_plugin(name: str, factory, producer_id: str, seed: int | None, run_id: str | None,
                 key_field: str | None):
    try:
        generator = factory(producer_id, seed=seed, run_id=run_id, key_field=key_field)
    except SchemaError:
        raise
    except Exception as exc:
        raise SchemaError(f"plug-in schema {name!r} failed to start: {type(exc).__name__}: {exc}") from None
    missing = [attr for attr in ("generate", "run_id") if not hasattr(generator, attr)]
    if missing:
        raise SchemaError(f"plug-in schema {name!r} returned {type(generator).__name__}, "
                          f"which lacks {', '.join(missing)}")
    if getattr(generator, "schema", None) in (None, "custom"):
        generator.schema = name  # so its errors name the schema the user asked for
    return generator
