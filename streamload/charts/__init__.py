"""Static SVG charts for the run, capacity and compare reports, drawn by matplotlib.

The report writers get their chart module through ``load``: where matplotlib is missing (a
slim image built with ``--no-deps``), every chart becomes a one-line note and the pages
still carry every number in their tables.
"""
from __future__ import annotations

import html
import importlib
from types import ModuleType

__all__ = ["load"]


class _NoCharts:
    """Stands in for a chart module: each chart is a note saying why it is not drawn."""

    def __init__(self, why: str) -> None:
        self.why = why

    def __getattr__(self, name: str):
        def note(*_args, **_kwargs) -> str:
            return (f"<p class='missing'>chart not drawn: {html.escape(self.why)} "
                    "(matplotlib is a dependency of streamload: pip install matplotlib)</p>")
        return note


def load(name: str) -> ModuleType | _NoCharts:
    """``streamload.charts.<name>``, or the stand-in when matplotlib cannot be imported."""
    try:
        return importlib.import_module(f"streamload.charts.{name}")
    except ImportError as exc:
        if "matplotlib" not in str(exc):
            raise
        return _NoCharts(str(exc))
