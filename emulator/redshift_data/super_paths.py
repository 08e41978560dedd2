"""SUPER navigation: ``payload.name.first`` and ``c_orders[0].o_orderkey`` -> jsonb ``->`` chains.

A dotted name is a navigation when its head is a column rather than a table: ``payload.name``
(no table called ``payload``) or ``v.payload.name`` (``v`` a table or alias). The head may also
be an element of an unnested array (``FROM v, v.payload.tags t`` makes ``t`` such a value):
``t.name`` navigates into ``t``. Lax mode: a missing key, an index out of bounds, or a step into
a scalar gives NULL, which is what PostgreSQL's ``->`` gives too. Keys fold to lower case as the
session's case rules say.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from .translate import CaseRules

__all__ = ["PathResolver", "source_names", "folded", "value_aliases"]


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


def value_aliases(tree: exp.Expression, sources: set[str]) -> set[str]:
    """Aliases that name an element of an unnested SUPER array, not a table.

    sqlglot reads ``FROM v, v.payload.tags t`` as ``UNNEST``, ``x AS y AT i`` as ``AtIndex``, and
    ``v JOIN v.payload.tags t`` or ``array AS element`` (an element unnested again) as a table
    whose leading name is an alias already in the FROM clause."""
    values: set[str] = set()
    for node in tree.find_all(exp.Unnest, exp.AtIndex):
        if isinstance(node, exp.AtIndex) and isinstance(node.this, exp.Alias):
            values.add(node.this.alias.lower())  # not the index (AT i): an integer
        elif isinstance(node, exp.Unnest) and node.args.get("alias") is not None:
            columns = node.args["alias"].columns
            if columns:
                values.add(columns[0].name.lower())
    changed = True
    while changed:  # an element unnested again (``array AS element``) is known once ``array`` is
        changed = False
        for table in tree.find_all(exp.Table):
            if unnested_table(table, sources, values) and table.alias and table.alias.lower() not in values:
                values.add(table.alias.lower())
                changed = True
    return values


def unnested_table(table: exp.Table, sources: set[str], values: set[str]) -> bool:
    """A FROM item written as a table that is really an array to unnest: its leading part is an
    unnested value, or (qualified) a table or alias of the same FROM clause."""
    if not isinstance(table.parent, exp.Join):
        return False
    parts = [p.name.lower() for p in table.parts]
    return parts[0] in values or (len(parts) > 1 and parts[0] in sources and table.this.name.lower() not in sources)


def folded(identifier: exp.Identifier, case: CaseRules) -> exp.Identifier:
    """A copy of a name as Redshift resolves it."""
    if identifier.quoted and not case.identifier:
        return exp.Identifier(this=identifier.this.lower(), quoted=True)
    return identifier.copy()


def _flatten(node: exp.Expression) -> list[exp.Expression] | None:
    """``a.b[0].c`` -> [Identifier a, Identifier b, Literal 0, Identifier c]."""
    if isinstance(node, (exp.Column, exp.Table)):
        if isinstance(node.this, exp.Star):
            return None
        return [p for p in (node.args.get("catalog"), node.args.get("db"), node.args.get("table"), node.this)
                if isinstance(p, exp.Identifier)]
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
    """Tells navigations from column references in one statement, and builds them."""

    def __init__(self, sources: set[str], values: set[str], case: CaseRules) -> None:
        self.sources = sources
        self.values = values
        self.case = case

    def split(self, node: exp.Expression):
        """(qualifier parts, column, path steps) when ``node`` navigates into a column, else None."""
        if not isinstance(node, (exp.Column, exp.Dot, exp.Bracket, exp.Table)):
            return None
        parts = _flatten(node)
        if not parts or len(parts) < 2 or not isinstance(parts[0], exp.Identifier):
            return None
        names = [p.name.lower() if isinstance(p, exp.Identifier) else None for p in parts]
        if names[0] in self.values:
            qualifier, column, path = [], parts[0], parts[1:]
        elif names[0] in self.sources:
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
        split = self.split(node)
        if split is None:
            return None
        qualifier, column, path = split
        case = self.case
        base = exp.column(folded(column, case), table=folded(qualifier[-1], case) if qualifier else None,
                          db=folded(qualifier[0], case) if len(qualifier) == 2 else None)
        for step in path:
            base = self.step(base, step)
        return base

    def step(self, base: exp.Expression, step: exp.Expression) -> exp.Expression:
        """``base`` navigated one key (an identifier) or index (an integer literal) further."""
        if isinstance(step, exp.Literal):
            # #> '{n}', not -> n: PostgreSQL's -> 0 reads a scalar as a one-element array ("x" -> 0 is "x"),
            # Redshift's [0] on a scalar is NULL
            return exp.JSONBExtract(this=base, expression=exp.Literal.string(f"{{{int(step.this)}}}"))
        keep = self.case.identifier if step.quoted else self.case.super_attribute
        key = exp.JSONPathKey(this=step.name if keep else step.name.lower())
        return exp.JSONExtract(this=base, expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), key]),
                               only_json_types=True)

    def label(self, node: exp.Expression) -> str | None:
        """Redshift's column label for a navigation: its last key (else its column). A quoted key
        keeps its case only under enable_case_sensitive_identifier."""
        split = self.split(node)
        if split is None:
            return None
        _, column, path = split
        keys = [step for step in path if isinstance(step, exp.Identifier)] or [column]
        last = keys[-1]
        return last.name if last.quoted and self.case.identifier else last.name.lower()
