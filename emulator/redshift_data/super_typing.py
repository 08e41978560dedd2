"""Which expressions of a Redshift statement are SUPER, before it is translated.

Redshift types SUPER statically (the static type of ``payload.seq`` is SUPER) and decides the
rest at run time (its dynamic type, a number here). Translation needs the static type: a SUPER
operand changes what ``=``, ``+``, ``::varchar`` or ``LIKE`` must become. SUPER are:
navigations and unnested array elements, ``JSON_PARSE``, casts to SUPER, ``ARRAY(…)``,
arithmetic on SUPER, ``COALESCE``/``CASE``/``NULLIF`` over SUPER, ``FLOOR``/``ROUND``… of SUPER,
and a column of a CTE or derived table whose projection is SUPER. A column of a real table is
not known (its type lives in the database): ``payload`` alone keeps PostgreSQL's jsonb rules.

The answer is kept in each node's ``meta`` (:func:`is_super`), and translation passes it on
to the node that replaces it (:func:`mark_super`).
"""
from __future__ import annotations

from sqlglot import exp

from .super_casts import is_super_type
from .super_paths import PathResolver

__all__ = ["SuperTyper", "is_super", "mark_super"]

_FLAG = "redshift_super"
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_MATH = (exp.Floor, exp.Ceil, exp.Round, exp.Trunc, exp.Abs)
_SUPER_FUNCTIONS = {"JSON_PARSE"}


def is_super(node: exp.Expression | None) -> bool:
    return node is not None and bool(node._meta) and bool(node.meta.get(_FLAG))


def mark_super(node: exp.Expression) -> exp.Expression:
    node.meta[_FLAG] = True
    return node


class SuperTyper:
    """Marks the SUPER nodes of one statement (its original, untranslated tree)."""

    def __init__(self, tree: exp.Expression, paths: PathResolver) -> None:
        self.tree = tree
        self.paths = paths
        self.derived: dict[str, set[str]] = {}  # CTE / derived table name -> its SUPER output columns

    def run(self) -> None:
        nodes = list(self.tree.dfs())
        derived = any(isinstance(node, (exp.CTE, exp.Subquery)) for node in nodes)
        for _ in range(2 if derived else 1):  # a CTE read by a later CTE or a derived table: second pass
            if derived:
                self._collect_derived()
            for node in reversed(nodes):  # children before parents
                if not is_super(node) and self._is_super(node):
                    mark_super(node)

    def _collect_derived(self) -> None:
        for node in self.tree.find_all(exp.CTE, exp.Subquery):
            if not node.alias or not isinstance(node.this, exp.Query):
                continue
            outputs = {self._output_name(p) for p in node.this.selects if is_super(p)}
            self.derived[node.alias.lower()] = {name for name in outputs if name}
        for table in self.tree.find_all(exp.Table):  # FROM cte AS c: c has the CTE's columns
            if table.alias and table.name.lower() in self.derived:
                self.derived[table.alias.lower()] = self.derived[table.name.lower()]

    def _output_name(self, projection: exp.Expression) -> str | None:
        if isinstance(projection, exp.Alias):
            return projection.alias.lower()
        label = self.paths.label(projection)
        return label if label is not None else (projection.name.lower() if isinstance(projection, exp.Column) else None)

    def _is_super(self, node: exp.Expression) -> bool:  # noqa: C901 - one case per kind of expression
        if isinstance(node, (exp.Alias, exp.Paren, exp.Nullif)):
            return is_super(node.this)
        if isinstance(node, exp.Column):
            return self.paths.split(node) is not None or self._column_is_super(node)
        if isinstance(node, (exp.Dot, exp.Bracket)):
            return self.paths.split(node) is not None or is_super(node.this)
        if isinstance(node, (exp.ParseJSON, exp.Array)):
            return True
        if isinstance(node, exp.Anonymous):
            return node.name.upper() in _SUPER_FUNCTIONS
        if isinstance(node, exp.Cast):
            return is_super_type(node.to)
        if isinstance(node, _ARITHMETIC):
            return is_super(node.this) or is_super(node.expression)
        if isinstance(node, (exp.Neg, *_MATH)):
            return is_super(node.this)
        if isinstance(node, (exp.Coalesce, exp.Greatest, exp.Least)):
            return any(is_super(e) for e in [node.this, *node.expressions])
        if isinstance(node, exp.Case):
            return any(is_super(i.args.get("true")) for i in node.args.get("ifs") or []) or \
                is_super(node.args.get("default"))
        if isinstance(node, exp.Subquery) and not node.alias and isinstance(node.this, exp.Query):
            selects = node.this.selects
            return len(selects) == 1 and is_super(selects[0])
        return False

    def _column_is_super(self, column: exp.Column) -> bool:
        """An unnested element, or a SUPER column of a CTE or derived table."""
        name, table = column.name.lower(), column.table.lower()
        if table:
            return name in self.derived.get(table, ())
        if name in self.paths.values:
            return True
        select = column.find_ancestor(exp.Select)
        if select is None:
            return False
        items = [select.args.get("from_") or select.args.get("from")] + list(select.args.get("joins") or [])
        sources = [item.this for item in items if item is not None]
        if not sources or any(isinstance(s, exp.Table) and s.name.lower() not in self.derived
                              and (s.alias or "").lower() not in self.derived for s in sources):
            return False  # a real table may have a column of that name, of a type only the database knows
        return any(name in self.derived.get((s.alias or s.name).lower(), ()) for s in sources)
