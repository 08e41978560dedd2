"""Unnesting SUPER arrays in the FROM clause (PartiQL): ``FROM v, v.payload.tags AS t [AT i]``.

``t`` iterates over the elements of the array ``v.payload.tags`` (each one a SUPER value) and
``i`` over their positions from 0. A value that is not an array (or NULL, or missing) gives no
rows. The FROM item becomes a call of ``public.super_elements`` (``super_elements_at`` with AT)
aliased ``t(t)`` (``t(t, i)``), so both ``t`` and ``t.name`` (navigation into ``t``) resolve to the
element. Object unpivoting (``UNPIVOT v.payload AS value AT attribute``) is not supported.
"""
from __future__ import annotations

from sqlglot import exp

from .sql_errors import UnsupportedSqlError
from .super_paths import PathResolver, folded, unnested_table

__all__ = ["unnest_item"]


def unnest_item(node: exp.Expression, paths: PathResolver) -> exp.Expression | None:
    """The FROM item that unnests ``node``, or None when ``node`` unnests nothing."""
    if isinstance(node, exp.Pivot) and node.args.get("unpivot"):
        raise UnsupportedSqlError("UNPIVOT of a SUPER object (FROM … UNPIVOT … AS value AT attribute)")
    if isinstance(node, exp.Unnest):
        alias = node.args.get("alias")
        if alias is None or not alias.columns or len(node.expressions) != 1:
            return None
        return _elements(node.expressions[0], alias.columns[0], None, paths)
    if isinstance(node, exp.AtIndex) and isinstance(node.this, exp.Alias):
        return _elements(node.this.this, node.this.args["alias"], node.expression, paths)
    if isinstance(node, exp.Table) and unnested_table(node, paths.sources, paths.values):
        name = node.args["alias"].this if node.alias else node.this
        return _elements(_array_of(node, paths), name, None, paths)
    return None


def _array_of(table: exp.Table, paths: PathResolver) -> exp.Expression:
    """The array a table-shaped FROM item names: ``v.payload.tags``, ``v.c_orders`` or ``element``."""
    navigation = paths.navigation(table)
    if navigation is not None:
        return navigation
    parts = [folded(p, paths.case) for p in table.parts]
    return exp.column(parts[-1], table=parts[-2] if len(parts) > 1 else None)


def _elements(array: exp.Expression, name: exp.Identifier, index: exp.Expression | None,
              paths: PathResolver) -> exp.Expression:
    columns = [_name(name, paths)] + ([_name(index, paths)] if index is not None else [])
    function = "super_elements_at" if index is not None else "super_elements"
    return exp.Table(this=exp.Anonymous(this=function, expressions=[array]), db=exp.to_identifier("public"),
                     alias=exp.TableAlias(this=_name(name, paths), columns=columns))


def _name(identifier: exp.Expression, paths: PathResolver) -> exp.Identifier:
    text = identifier.name if isinstance(identifier, exp.Identifier) and identifier.quoted and paths.case.identifier \
        else identifier.name.lower()
    return exp.to_identifier(text, quoted=True)
