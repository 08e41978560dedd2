"""Redshift's SUPER semantics over PostgreSQL's jsonb: the rewrite of one statement's tree.

The tree is translated bottom-up (children first), so every rule sees translated operands and
knows from :mod:`super_typing` whether each is SUPER. The rules, from Redshift's documentation
of SUPER and PartiQL ("Querying semistructured data", "Operators and functions"):

- navigation ``payload.name.first`` -> ``payload -> 'name' -> 'first'`` (NULL when missing);
- a cast of SUPER by its dynamic type (:mod:`super_casts`);
- ``=``/``<>``/``IN`` with a literal, a parameter or a typed value: that value as SUPER
  (``'female'`` is the SUPER string ``"female"``); equal only if of one dynamic type and value;
  ``<``/``<=``/``>``/``>=``/``BETWEEN`` NULL across types; ``LIKE`` and string functions see a
  SUPER string (NULL for anything else); a SUPER boolean is a predicate;
- ``+ - * / %`` and unary ``-`` on numbers (``+`` also joins strings), result SUPER, NULL when
  mistyped; ``FLOOR``/``CEIL``/``ROUND``/``TRUNC``/``ABS`` likewise;
- ``JSON_TYPEOF``, ``IS_VARCHAR`` and the other type functions, ``JSON_SERIALIZE``,
  ``JSON_SIZE``, ``GET_ARRAY_LENGTH``, ``ARRAY(…)``;
- ``ORDER BY`` a SUPER value ranks types boolean < number < string < array < object;
- unnesting ``FROM v, v.payload.tags t [AT i]`` (:mod:`super_unnest`).

What the local stack cannot do raises ``UnsupportedSqlError`` here, at translation.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from sqlglot import exp

from .sql_errors import UnsupportedSqlError
from .super_casts import cast_from_super, helper_call, is_super_type
from .super_paths import PathResolver
from .super_typing import is_super, mark_super
from .super_unnest import unnest_item

__all__ = ["SuperTranslator"]

# Ordering comparisons and arithmetic: with a SUPER operand, the helper that computes them.
_BINARY_HELPERS = {exp.LT: "super_lt", exp.LTE: "super_le", exp.GT: "super_gt", exp.GTE: "super_ge",
                   exp.Add: "super_add", exp.Sub: "super_sub", exp.Mul: "super_mul", exp.Div: "super_div",
                   exp.Mod: "super_mod"}
_EQUALITY = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)
_MATH = (exp.Floor, exp.Ceil, exp.Round, exp.Trunc, exp.Abs)
_STRING_FUNCTIONS = (exp.Like, exp.ILike, exp.RegexpLike, exp.SimilarTo, exp.DPipe, exp.Upper, exp.Lower,
                     exp.Length, exp.Substring, exp.Trim, exp.Left, exp.Right, exp.SplitPart, exp.StrPosition,
                     exp.MD5, exp.Concat, exp.Initcap, exp.Pad, exp.Reverse, exp.RegexpReplace, exp.RegexpExtract)
_PREDICATE_HOLDERS = (exp.Where, exp.Having, exp.Not, exp.And, exp.Or)
# Redshift's SUPER functions whose argument is one SUPER value: the call they become.
_TYPE_FUNCTIONS = {name: f"is_{name[3:].lower()}" for name in (
    "IS_VARCHAR", "IS_CHAR", "IS_BOOLEAN", "IS_ARRAY", "IS_OBJECT", "IS_SCALAR", "IS_DECIMAL", "IS_SMALLINT",
    "IS_INTEGER", "IS_BIGINT")}
_UNSUPPORTED_FUNCTIONS = {
    "IS_FLOAT": "IS_FLOAT (SUPER numbers are kept as decimals here, so a float cannot be told from a decimal)",
    "DECIMAL_PRECISION": "DECIMAL_PRECISION", "DECIMAL_SCALE": "DECIMAL_SCALE", "SUBARRAY": "SUBARRAY",
    "ARRAY_FLATTEN": "ARRAY_FLATTEN", "OBJECT": "OBJECT", "ARRAY_CONCAT": "ARRAY_CONCAT",
    "SPLIT_TO_ARRAY": "SPLIT_TO_ARRAY", "OBJECT_TRANSFORM": "OBJECT_TRANSFORM",
}
# sqlglot's names for aggregates Redshift spells otherwise
_AGGREGATE_NAMES = {exp.GroupConcat: "LISTAGG", exp.ApproxDistinct: "APPROXIMATE COUNT", exp.ArrayAgg: "ARRAY_AGG"}
_UNSUPPORTED_CLASSES = {exp.ArrayConcat: "ARRAY_CONCAT", exp.StringToArray: "SPLIT_TO_ARRAY",
                        exp.ObjectTransform: "OBJECT_TRANSFORM"}


def to_super(node: exp.Expression) -> exp.Expression:
    """``node`` as a SUPER value: a literal becomes a jsonb constant (``'female'`` -> ``"female"``),
    any other typed value goes through ``to_jsonb``; NULL and SUPER stay as they are."""
    if is_super(node) or isinstance(node, exp.Null):
        return node
    if isinstance(node, exp.Literal):
        text = json.dumps(node.this, ensure_ascii=False) if node.is_string else _json_number(node.this)
        return mark_super(exp.Cast(this=exp.Literal.string(text), to=exp.DataType.build("jsonb")))
    if isinstance(node, exp.Boolean):
        return mark_super(exp.Cast(this=exp.Literal.string("true" if node.this else "false"),
                                   to=exp.DataType.build("jsonb")))
    return mark_super(exp.Anonymous(this="to_jsonb", expressions=[node]))


def _json_number(text: str) -> str:
    try:
        return format(Decimal(text), "f")  # .5 and 1e3 are SQL numbers but not JSON ones
    except InvalidOperation:
        return text


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return helper_call(name, *args)


class SuperTranslator:
    """Translates one statement's tree; ``other`` handles every node SUPER has nothing to say about."""

    def __init__(self, paths: PathResolver, other: Callable[[exp.Expression], exp.Expression]) -> None:
        self.paths = paths
        self.other = other

    def translate(self, tree: exp.Expression) -> exp.Expression:
        root = tree
        for node in reversed(list(tree.dfs())):  # children before their parent
            new = self.other(node)
            if new is node:
                new = self.rewrite(node)
            if new is node:
                continue
            if is_super(node):
                mark_super(new)
            if node is root:
                root = new
            else:
                node.replace(new)
        return root

    def rewrite(self, node: exp.Expression) -> exp.Expression:  # noqa: C901 - a dispatch over node kinds
        if isinstance(node, (exp.Column, exp.Dot, exp.Bracket)):
            return self._navigation(node)
        if isinstance(node, exp.ParseJSON):
            return exp.Anonymous(this="json_parse", expressions=[node.this])
        if isinstance(node, exp.Cast):
            return self._cast(node)
        if isinstance(node, _EQUALITY):
            return self._equality(node)
        if isinstance(node, tuple(_BINARY_HELPERS)):
            if is_super(node.this) or is_super(node.expression):
                return _call(_BINARY_HELPERS[type(node)], to_super(node.this), to_super(node.expression))
            return node
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Between):
            return self._between(node)
        if isinstance(node, exp.Neg):
            return _call("super_neg", node.this) if is_super(node.this) else node
        if isinstance(node, _STRING_FUNCTIONS):
            return self._string_arguments(node)
        if isinstance(node, (*_PREDICATE_HOLDERS, exp.Join, exp.If, exp.Is)):
            return self._predicates(node)
        if isinstance(node, (exp.Coalesce, exp.Greatest, exp.Least, exp.Nullif, exp.Case)):
            return self._same_type_values(node)
        if isinstance(node, _MATH):
            return self._math(node)
        if isinstance(node, (exp.Anonymous, *_UNSUPPORTED_CLASSES)):
            return self._function(node)
        if isinstance(node, exp.AggFunc) and not isinstance(node, exp.Count):
            return self._aggregate(node)
        if isinstance(node, exp.Array):
            return exp.Anonymous(this="jsonb_build_array", expressions=list(node.expressions))
        if isinstance(node, exp.Ordered):
            return self._ordered(node)
        if isinstance(node, (exp.Unnest, exp.AtIndex, exp.Table, exp.Pivot)):
            return unnest_item(node, self.paths) or node
        return node

    def _navigation(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Dot) and is_super(node.this) and isinstance(node.expression, exp.Identifier):
            return self.paths.step(node.this, node.expression)
        if isinstance(node, exp.Bracket) and is_super(node.this) and len(node.expressions) == 1:
            index = node.expressions[0]
            if isinstance(index, exp.Literal) and not index.is_string:
                return self.paths.step(node.this, index)
            return node  # a computed index: PostgreSQL's jsonb subscript, NULL when out of bounds
        return self.paths.navigation(node) or node

    def _cast(self, node: exp.Cast) -> exp.Expression:
        if is_super(node.this):
            return cast_from_super(node.this, node.to)
        if is_super_type(node.to) and not isinstance(node.this, exp.Null):
            return to_super(node.this)
        return node

    def _equality(self, node: exp.Expression) -> exp.Expression:
        if is_super(node.this) or is_super(node.expression):
            node.set("this", to_super(node.this))
            node.set("expression", to_super(node.expression))
        return node

    def _in(self, node: exp.In) -> exp.Expression:
        items = node.expressions
        if node.args.get("query") is not None or not (is_super(node.this) or any(is_super(i) for i in items)):
            return node
        node.set("this", to_super(node.this))
        node.set("expressions", [to_super(item) for item in items])
        return node

    def _between(self, node: exp.Between) -> exp.Expression:
        low, high = node.args["low"], node.args["high"]
        if not any(is_super(e) for e in (node.this, low, high)):
            return node
        value = to_super(node.this)
        return exp.Paren(this=exp.And(this=_call("super_ge", value, to_super(low)),
                                      expression=_call("super_le", value.copy(), to_super(high))))

    def _string_arguments(self, node: exp.Expression) -> exp.Expression:
        for key, value in list(node.args.items()):
            if isinstance(value, list):
                node.set(key, [_call("super_string", v) if is_super(v) else v for v in value])
            elif isinstance(value, exp.Expression) and is_super(value):
                node.set(key, _call("super_string", value))
        return node

    def _predicates(self, node: exp.Expression) -> exp.Expression:
        """A SUPER boolean where SQL wants a predicate (WHERE, AND, NOT, ON, CASE WHEN, IS TRUE)."""
        keys = {exp.Join: ("on",), exp.If: ("this",), exp.Is: ("this",)}.get(type(node), ("this", "expression"))
        if isinstance(node, exp.Is) and not isinstance(node.expression, exp.Boolean):
            return node
        for key in keys:
            value = node.args.get(key)
            if isinstance(value, exp.Expression) and is_super(value):
                node.set(key, _call("super_bool", value))
        return node

    def _same_type_values(self, node: exp.Expression) -> exp.Expression:
        """COALESCE, NULLIF, GREATEST, LEAST, CASE over SUPER: every other value becomes SUPER too."""
        if not is_super(node):
            return node
        if isinstance(node, exp.Case):
            for branch in node.args.get("ifs") or []:
                branch.set("true", to_super(branch.args["true"]))
            if node.args.get("default") is not None:
                node.set("default", to_super(node.args["default"]))
            return node
        node.set("this", to_super(node.this))
        key = "expression" if isinstance(node, exp.Nullif) else "expressions"
        value = node.args.get(key)
        node.set(key, [to_super(v) for v in value] if isinstance(value, list) else to_super(value))
        return node

    def _math(self, node: exp.Expression) -> exp.Expression:
        if not is_super(node.this):
            return node
        node.set("this", _call("super_number", node.this))
        return exp.Anonymous(this="to_jsonb", expressions=[node.copy()])  # node itself stays in its parent

    def _function(self, node: exp.Expression) -> exp.Expression:
        name = _UNSUPPORTED_CLASSES.get(type(node)) or node.name.upper()
        if name in _UNSUPPORTED_FUNCTIONS:
            raise UnsupportedSqlError(_UNSUPPORTED_FUNCTIONS[name])
        arguments = node.expressions
        if name == "JSON_PARSE" or len(arguments) != 1:
            return node
        value = arguments[0]
        if name in _TYPE_FUNCTIONS:
            return _call(_TYPE_FUNCTIONS[name], to_super(value))
        if name == "JSON_TYPEOF":
            return exp.Anonymous(this="jsonb_typeof", expressions=[to_super(value)])
        if name == "JSON_SERIALIZE":
            return _call("super_serialize", to_super(value))
        if name == "JSON_SIZE":
            return exp.Anonymous(this="octet_length", expressions=[_call("super_serialize", to_super(value))])
        if name == "GET_ARRAY_LENGTH":
            return _call("super_array_length", to_super(value))
        return node

    def _aggregate(self, node: exp.Expression) -> exp.Expression:
        if any(is_super(child) for child in node.iter_expressions()):
            name = _AGGREGATE_NAMES.get(type(node)) or node.sql_name()
            raise UnsupportedSqlError(f"{name} of a SUPER value (cast it to a type first, e.g. payload.seq::bigint)")
        return node

    def _ordered(self, node: exp.Ordered) -> exp.Expression:
        select = node.find_ancestor(exp.Select)
        if is_super(node.this) and not (select is not None and select.args.get("distinct")):
            node.set("this", _call("super_sort_key", node.this))
        return node
