"""The HTML every report page shares: one self-contained document (inline CSS and SVG, no
scripts, no network), a verdict banner, fact lists, cards and tables.

Cells are escaped here, once: callers pass plain strings (or ``Raw`` for markup they built).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = ["Raw", "page", "banner", "facts", "card", "table", "esc", "missing", "section"]

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;color:#222;max-width:1440px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:0 0 6px}
.verdict{padding:12px 16px;border-radius:6px;margin:12px 0;font-size:16px}
.verdict.pass{background:#e8f5e9;border:1px solid #81c784}.verdict.fail{background:#ffebee;border:1px solid #e57373}
.verdict b{font-size:20px;margin-right:10px}.verdict ul{margin:6px 0 0 0;padding-left:20px;font-size:14px}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:8px 0}
.facts dt{color:#555}.facts dd{margin:0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:16px}
.card{border:1px solid #ddd;border-radius:6px;padding:12px;background:#fff;min-width:0}
.card.wide{max-width:1000px;margin:0 0 16px}.card p.note{color:#555;font-size:12.5px;margin:6px 0 0}
svg.chart{width:100%;height:auto;display:block}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right;vertical-align:top}
th{background:#fafafa;font-weight:600}td:first-child,th:first-child{text-align:left}td.text,th.text{text-align:left}td{white-space:nowrap}td.text{white-space:normal}
.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3a}tr.regressed td{background:#ffebee}
.missing{color:#8a6d3b;background:#fcf8e3;border:1px solid #faebcc;border-radius:4px;padding:8px 10px;margin:6px 0}
.muted{color:#666;font-size:12.5px}.scroll{overflow-x:auto}
"""


@dataclass(frozen=True)
class Raw:
    """Markup that is already HTML (a chart, a link), not to be escaped again."""
    markup: str



def esc(value: object) -> str:
    if isinstance(value, Raw):
        return value.markup
    return html.escape("-" if value is None else str(value))


def page(title: str, body: Iterable[str]) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")


def banner(passed: bool, headline: str, reasons: Sequence[str] = ()) -> str:
    word = "PASSED" if passed else "FAILED"
    items = "".join(f"<li>{esc(r)}</li>" for r in reasons)
    return (f"<div class='verdict {'pass' if passed else 'fail'}'><b>{word}</b>{esc(headline)}"
            f"{f'<ul>{items}</ul>' if items else ''}</div>")


def facts(pairs: Iterable[tuple[str, object]]) -> str:
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    return f"<dl class='facts'>{rows}</dl>"


def card(title: str, content: str, note: str = "") -> str:
    return (f"<div class='card'><h3>{esc(title)}</h3>{content}"
            f"{f'<p class=note>{esc(note)}</p>' if note else ''}</div>")


def section(title: str, content: str) -> str:
    return f"<h2>{esc(title)}</h2>{content}"


def table(head: Sequence[str], rows: Iterable[Sequence[object]], classes: Iterable[str] | None = None,
          text_columns: Sequence[int] = (0,)) -> str:
    """A table; ``classes`` gives each row a CSS class ("" for none), ``text_columns`` are
    left-aligned (numbers are right-aligned)."""
    row_classes = list(classes) if classes is not None else None
    head_html = "".join(f"<th class='text'>{esc(h)}</th>" if i in text_columns else f"<th>{esc(h)}</th>"
                        for i, h in enumerate(head))
    body = []
    for n, row in enumerate(rows):
        cls = row_classes[n] if row_classes and n < len(row_classes) else ""
        cells = "".join(f"<td class='text'>{esc(c)}</td>" if i in text_columns else f"<td>{esc(c)}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr class='{cls}'>{cells}</tr>" if cls else f"<tr>{cells}</tr>")
    return f"<div class='scroll'><table><tr>{head_html}</tr>{''.join(body)}</table></div>"


def missing(what: str, why: str = "not measured in this run") -> str:
    return f"<p class='missing'>{esc(what)}: {esc(why)}</p>"
