"""Charts as static SVG strings for the HTML reports, drawn by matplotlib.

Every figure is a ``matplotlib.figure.Figure`` saved by the SVG backend, never through
pyplot: no global figure registry, no GUI backend, nothing to close. The style lives in
``STYLE`` and is applied with ``rc_context`` around drawing and saving only, so importing
this module changes nothing for other matplotlib users (the dashboards, tests).

The output is deterministic (same data, same bytes): ``svg.hashsalt`` fixes the element
ids, the metadata carries no date, and text stays text (``svg.fonttype: none``) so the page
stays small and a reader can select and search the numbers. Each chart's ids get a prefix
of their own, because several charts share one HTML page.
"""
from __future__ import annotations

import html
import io
import math
import re
from contextlib import contextmanager
from typing import Iterable, Iterator

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from streamload.charts.units import COLOURS, fmt_count, fmt_ms, fmt_rate, spans_decades

__all__ = ["STYLE", "COLOURS", "chart", "stacked_charts", "to_svg", "legend_above", "fmt_ms", "fmt_count", "fmt_rate",
           "spans_decades", "latency_axis", "count_axis", "rate_axis"]

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.labelsize": 9,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#999999",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e4e4e4",
    "grid.linewidth": 0.6,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "legend.fontsize": 8,
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "streamload-report",
    "path.simplify": True,
}

_ID = re.compile(r'(id="|url\(#|href="#)')
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


@contextmanager
def chart(xlabel: str = "", ylabel: str = "", size: tuple[float, float] = (6.4, 3.3),
          title: str = "") -> Iterator[tuple[Figure, Axes]]:
    """A styled figure with one labelled axes; draw inside the ``with`` block (the style
    applies when artists are created) and call ``to_svg`` there too. The page's card
    carries the title, so charts have none unless asked."""
    with _style():
        # constrained layout keeps legends, tick labels and axis labels from overlapping
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
        if title:
            ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        yield fig, ax


@contextmanager
def stacked_charts(panels: int, xlabel: str, size: tuple[float, float] = (6.4, 4.2),
                   heights: tuple[float, ...] | None = None) -> Iterator[tuple[Figure, list[Axes]]]:
    """Panels one above the other sharing the x axis (labelled once, at the bottom)."""
    with _style():
        fig = Figure(figsize=size, layout="constrained")
        axes = fig.subplots(panels, 1, sharex=True, gridspec_kw={"height_ratios": heights} if heights else None)
        axes = list(axes) if panels > 1 else [axes]
        axes[-1].set_xlabel(xlabel)
        yield fig, axes


def legend_above(ax: Axes, ncols: int = 4, handles=None, labels=None) -> None:
    """The legend in a row above the plot, where it hides no data."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncols=ncols, borderaxespad=0.2,
              handlelength=1.6, columnspacing=1.2, fontsize=7.5)


def to_svg(fig: Figure, chart_id: str, label: str) -> str:
    """The figure as an inline ``<svg>`` element: no XML prologue, ids prefixed with
    ``chart_id``, scalable (viewBox kept, fixed size dropped), labelled for screen readers."""
    buffer = io.StringIO()
    with _style():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    svg = _ID.sub(lambda m: f"{m.group(1)}{chart_id}-", svg)
    svg = _SIZE.sub(r"<svg\1", svg, count=1)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{html.escape(label, quote=True)}" '
                              f'class="chart" data-chart="{html.escape(chart_id, quote=True)}"', 1)
    return svg.strip()


# --- numbers on axes ------------------------------------------------------------------------

def _tick_ms(value: float, _pos=None) -> str:
    if value <= 0:
        return "0"
    if value < 1000:
        return f"{value:g} ms"
    if value < 120_000:
        return f"{value / 1000:g} s"
    return f"{value / 60_000:g} min"


def _tick_count(value: float, _pos=None) -> str:
    if value >= 1_000_000 and value % 100_000 == 0:
        return f"{value / 1_000_000:g} M"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.3g}"


class _ReadableLogLocator(LogLocator):
    """Log ticks at 1-2-5 × 10^k while they fit, then 1-3, then powers of ten only, decided
    from the axis' final limits (a wide span at 1-2-5 crowds the labels into each other)."""

    def __init__(self, max_ticks: int) -> None:
        super().__init__(base=10, subs=(1.0, 2.0, 5.0))
        self.max_ticks = max_ticks

    def tick_values(self, vmin, vmax):
        if vmin > 0 and vmax > 0:
            decades = abs(math.log10(vmax / vmin))
            subs = next((s for s in ((1.0, 2.0, 5.0), (1.0, 3.0)) if len(s) * decades <= self.max_ticks), (1.0,))
            self.set_params(subs=subs)
        return super().tick_values(vmin, vmax)


def _apply(ax, axis: str, values: Iterable[float | None], formatter, log: bool | None, integer: bool = False) -> bool:
    values = list(values)
    use_log = spans_decades(values) if log is None else log
    target = ax.xaxis if axis == "x" else ax.yaxis
    if use_log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        target.set_major_locator(_ReadableLogLocator(6 if axis == "x" else 8))
        target.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
        target.set_minor_formatter(NullFormatter())
    else:
        target.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], min_n_ticks=2 if integer else 3,
                                                     integer=integer))
    target.set_major_formatter(FuncFormatter(formatter))
    return use_log


def latency_axis(ax, axis: str, values: Iterable[float | None], log: bool | None = None) -> bool:
    """Milliseconds on ``axis``, ticks at 1-2-5 steps labelled "200 ms", "1 s"; log when the
    values span decades (or as ``log`` says). Returns whether the axis is logarithmic."""
    return _apply(ax, axis, values, _tick_ms, log)


def count_axis(ax, axis: str, values: Iterable[float | None], log: bool | None = None) -> bool:
    """Whole numbers (no tick at 0.5 of a record), thousands separated; log across decades."""
    return _apply(ax, axis, values, _tick_count, log, integer=True)


def rate_axis(ax, axis: str, values: Iterable[float | None], log: bool | None = None) -> bool:
    """Records/s; the same 1-2-5 ticks, thousands separated."""
    return _apply(ax, axis, values, _tick_count, log)
