"""Column labels of SELECT projections that SUPER translation rewrites.

Redshift names an unaliased projection as PostgreSQL does (``FigureColname``): a column by its
name, a function call by the function, a cast by its operand (else by the type), an operator
expression ``?column?`` — and a SUPER navigation by its last key (``payload.name.first`` is
``first``). Translation turns SUPER expressions into jsonb operators and ``public.super_*``
calls that PostgreSQL would label differently (``?column?``, ``super_add``), so the label is
worked out on the Redshift expression before translation and written as an alias afterwards,
only where the translated projection would otherwise be labelled differently.
"""
from __future__ import annotations

from sqlglot import exp

from .super_paths import PathResolver

__all__ = ["ProjectionLabels"]

_T = exp.DataType.Type
# PostgreSQL's name for a type in a cast label (``SELECT 1::bigint`` is labelled ``int8``).
_TYPE_LABELS = {_T.BIGINT: "int8", _T.INT: "int4", _T.SMALLINT: "int2", _T.DOUBLE: "float8", _T.FLOAT: "float4",
                _T.BOOLEAN: "bool", _T.DECIMAL: "numeric", _T.CHAR: "bpchar", _T.BPCHAR: "bpchar",
                _T.SUPER: "super", _T.JSONB: "jsonb", _T.NVARCHAR: "varchar"}
_NAMED_EXPRESSIONS = {exp.ParseJSON: "json_parse", exp.Coalesce: "coalesce", exp.Nullif: "nullif",
                      exp.Greatest: "greatest", exp.Least: "least", exp.Exists: "exists", exp.Array: "array"}


def figure_label(node: exp.Expression, paths: PathResolver) -> str | None:
    """The label PostgreSQL (and Redshift) gives an unaliased projection; None is ``?column?``."""
    return _figure(node, paths)[0]


def _figure(node: exp.Expression, paths: PathResolver) -> tuple[str | None, int]:
    """(label, strength) as PostgreSQL's FigureColnameInternal: a type name (strength 1) gives way
    to a column or function name (2) found inside a cast."""
    if isinstance(node, exp.Alias):
        return node.alias, 2
    label = paths.label(node)
    if label is not None:
        return label, 2
    if isinstance(node, exp.Column):
        return (None, 0) if isinstance(node.this, exp.Star) else (node.name, 2)
    if isinstance(node, exp.Paren):
        return _figure(node.this, paths)
    if isinstance(node, exp.Cast):
        inner = _figure(node.this, paths)
        return inner if inner[1] > 1 else (_type_label(node.to), 1)
    if isinstance(node, exp.Case):  # CASE … ELSE x END is labelled as x, else "case"
        inner = _figure(node.args["default"], paths) if node.args.get("default") is not None else (None, 0)
        return inner if inner[1] > 1 else ("case", 1)
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):  # schema.function(...)
        return _figure(node.expression, paths)
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and node.this.expressions:
        return _figure(node.this.expressions[0], paths)
    name = _function_name(node)
    return (name, 2) if name else (None, 0)


def _function_name(node: exp.Expression) -> str | None:
    for kind, name in _NAMED_EXPRESSIONS.items():
        if isinstance(node, kind):
            return name
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func) and not isinstance(node, (exp.Binary, exp.Unary, exp.Connector)):
        return node.sql_name().lower()
    return None


def _type_label(data_type: exp.DataType) -> str:
    return _TYPE_LABELS.get(data_type.this, data_type.this.value.lower())


class ProjectionLabels:
    """Labels of a statement's unaliased projections, taken before translation and restored after."""

    def __init__(self, tree: exp.Expression, paths: PathResolver) -> None:
        self.paths = paths
        self.before: list[tuple[exp.Select, int, str | None]] = []
        for select in tree.find_all(exp.Select):
            for index, projection in enumerate(select.expressions):
                if not isinstance(projection, (exp.Alias, exp.Star)):
                    self.before.append((select, index, figure_label(projection, paths)))

    def restore(self) -> None:
        """Alias each translated projection whose label changed with its Redshift label."""
        for select, index, label in self.before:
            projection = select.expressions[index]
            if isinstance(projection, exp.Alias) or figure_label(projection, self.paths) == label:
                continue
            alias = exp.Alias(alias=exp.to_identifier(label or "?column?", quoted=True))
            projection.replace(alias)
            alias.set("this", projection)
