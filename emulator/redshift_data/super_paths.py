"""SUPER navigation: ``payload.name.first`` and ``c_orders[0].o_orderkey`` -> jsonb ``->`` chains.

A dotted name is a navigation when its head is a column rather than a table: ``payload.name``
(no table called ``payload``) or ``v.payload.name`` (``v`` a table or alias). Lax mode: a
missing key, an index out of bounds, or a step into a scalar gives NULL, which is what
PostgreSQL's ``->`` gives too. Keys fold to lower case as the session's case rules say.

Redshift labels a navigation by its last key (``SELECT payload.name.first`` -> ``first``),
and a cast keeps its operand's label as PostgreSQL does; :func:`label_projections` writes
those labels as aliases, because the jsonb expressions they become would be ``?column?``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from .translate import CaseRules

__all__ = ["PathResolver", "source_names", "folded"]


def source_names(tree: exp.Expression) -> set[str]:
    """Names a column qualifier can refer to: tables, their aliases, CTEs, subqueries."""
    names: set[str] = set()
    for table in tree.find_all(exp.Table):
        names.add(table.name.lower())
        if table.alias:
            names.add(table.alias.lower())
    for node in tree.find_all(exp.Subquery, exp.CTE):
        if node.alias:
            names.add(node.alias.lower())
    return names


def folded(identifier: exp.Identifier, case: CaseRules) -> exp.Identifier:
    """A copy of a name as Redshift resolves it."""
    if identifier.quoted and not case.identifier:
        return exp.Identifier(this=identifier.this.lower(), quoted=True)
    return identifier.copy()


def _flatten(node: exp.Expression) -> list[exp.Expression] | None:
    """``a.b[0].c`` -> [Identifier a, Identifier b, Literal 0, Identifier c]."""
    if isinstance(node, exp.Column):
        if isinstance(node.this, exp.Star):
            return None
        return [p for p in (node.args.get("catalog"), node.args.get("db"), node.args.get("table"), node.this) if p]
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Identifier):
        head = _flatten(node.this)
        return head + [node.expression] if head else None
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        head = _flatten(node.this)
        index = node.expressions[0]
        if head and isinstance(index, exp.Literal) and not index.is_string:
            return head + [index]
    return None


class PathResolver:
    """Tells navigations from column references in one statement."""

    def __init__(self, sources: set[str], case: CaseRules) -> None:
        self.sources = sources
        self.case = case

    def _split(self, node: exp.Expression):
        """(qualifier parts, column, path steps) when ``node`` navigates into a column, else None."""
        if not isinstance(node, (exp.Column, exp.Dot, exp.Bracket)):
            return None
        parts = _flatten(node)
        if not parts or len(parts) < 2 or not isinstance(parts[0], exp.Identifier):
            return None
        names = [p.name.lower() if isinstance(p, exp.Identifier) else None for p in parts]
        if names[0] in self.sources:
            qualifier, column, path = parts[:1], parts[1], parts[2:]
        elif len(parts) >= 3 and names[1] in self.sources:
            qualifier, column, path = parts[:2], parts[2], parts[3:]
        else:
            qualifier, column, path = [], parts[0], parts[1:]
        if not path or not isinstance(column, exp.Identifier):
            return None
        return qualifier, column, path

    def navigation(self, node: exp.Expression) -> exp.Expression | None:
        """The jsonb expression ``node`` navigates to, or None when it is no navigation."""
        split = self._split(node)
        if split is None:
            return None
        qualifier, column, path = split
        case = self.case
        base = exp.column(folded(column, case), table=folded(qualifier[-1], case) if qualifier else None,
                          db=folded(qualifier[0], case) if len(qualifier) == 2 else None)
        for step in path:
            if isinstance(step, exp.Literal):
                key = exp.JSONPathSubscript(this=int(step.this))
            else:
                keep = case.identifier if step.quoted else case.super_attribute
                key = exp.JSONPathKey(this=step.name if keep else step.name.lower())
            base = exp.JSONExtract(this=base, expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), key]),
                                   only_json_types=True)
        return base

    def label(self, node: exp.Expression) -> str | None:
        """Redshift's column label for a navigation, or a cast of one: its last key (else its column).
        A quoted key keeps its case only under enable_case_sensitive_identifier."""
        while isinstance(node, exp.Cast):
            node = node.this
        split = self._split(node)
        if split is None:
            return None
        _, column, path = split
        keys = [step for step in path if isinstance(step, exp.Identifier)] or [column]
        last = keys[-1]
        return last.name if last.quoted and self.case.identifier else last.name.lower()


def label_projections(tree: exp.Expression, paths: PathResolver) -> None:
    """Alias every unaliased projection that is a navigation (or a cast of one) with its label."""
    for select in tree.find_all(exp.Select):
        for index, projection in enumerate(select.expressions):
            label = paths.label(projection)
            if label is not None:
                select.expressions[index] = exp.alias_(projection, exp.to_identifier(label, quoted=True))
                select.expressions[index].parent = select
