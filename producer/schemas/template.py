"""Custom schemas: a JSON or YAML template whose leaves name Faker providers.

Syntax (README "Custom schemas" has the user-facing version)::

    customer: "{{name}}"                      # a Faker provider; its own type kept
    greeting: "Hello {{first_name}}!"         # text around providers: Faker's parse()
    age: {$faker: pyint, min_value: 18, max_value: 99}   # a provider with arguments
    city: {$faker: city, $pool: 5000}         # a bigger pool of distinct values
    status: {$choice: [new, paid, shipped], weights: [1, 5, 2]}
    quantity: {$int: [1, 10]}                 # uniform per record
    price: {$float: [0.5, 99.99], digits: 2}
    order_id: {$uuid: 4}                      # a fresh UUID per record
    ordered_at: {$now: iso}                   # the record's produced_at: iso|epoch|epoch_ms
    lines: [{sku: "{{ean13}}"}, {sku: "{{ean13}}"}]      # objects and lists nest
    $locale: de_DE                            # top level only; default en_US

Faker runs only while compiling: each provider leaf gets a pool (default 1024 values,
``$pool`` to change) of pre-serialised JSON, and a record is one pick per leaf joined into
text, so templates are as fast as the built-in schemas. ``uuid4`` is drawn per record, not
pooled, because users expect it unique. Every mistake raises ``SchemaError`` naming the
field path.
"""
from __future__ import annotations

import functools
import math
import re
from decimal import Decimal
from pathlib import Path

import orjson
from faker import Faker
from faker.generator import Generator

from producer.schemas.base import ENVELOPE_FIELDS, GeneratedRecord, RecordGenerator, SchemaError, \
    iso_utc, key_text, new_record, uuid4_text, value_at
from producer.schemas.template_files import TEMPLATE_SUFFIXES, load_template

__all__ = ["TemplateRecords", "load_template", "compile_template", "compile_template_file", "TEMPLATE_SUFFIXES"]

DEFAULT_POOL = 1024
_MAX_POOL = 1_000_000
_POOL_SEED = 0x7E3A_0001
_TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_DIRECTIVES = ("$faker", "$choice", "$int", "$float", "$uuid", "$now")
_NOW_FORMATS = ("iso", "epoch", "epoch_ms")


def _json(value) -> str:
    def default(obj):
        if isinstance(obj, Decimal):
            return float(obj)
        if isinstance(obj, (set, frozenset, tuple)):
            return list(obj)
        return str(obj)
    return orjson.dumps(value, default=default).decode()


class _Compiler:
    """Turns a template into a flat program: constant text and per-record pickers."""

    def __init__(self, template: dict, key_field: str | None) -> None:
        if not isinstance(template, dict):
            raise SchemaError(f"template: must be an object of fields, got {type(template).__name__}")
        options = {k: v for k, v in template.items() if isinstance(k, str) and k.startswith("$")}
        unknown = set(options) - {"$locale", "$pool"}
        if unknown:
            raise SchemaError(f"{sorted(unknown)[0]}: unknown top-level option; known: $locale, $pool")
        locale = options.get("$locale", "en_US")
        try:
            self.fake = Faker(locale)
        except (AttributeError, TypeError, ValueError) as exc:
            raise SchemaError(f"$locale: {exc}") from None
        self.fake.seed_instance(_POOL_SEED)
        self.pool_size = self._pool_size(options.get("$pool", DEFAULT_POOL), "$pool")
        self.key_field = key_field
        self.key_kind = None  # "leaf", "const" or "decode" once the key field is found
        self.key_const = None
        self.fields = {k: v for k, v in template.items() if k not in options}
        if not self.fields:
            raise SchemaError("template: has no fields")

    @staticmethod
    def _pool_size(value, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_POOL:
            raise SchemaError(f"{path}: pool size must be an integer 1..{_MAX_POOL}, got {value!r}")
        return value

    def compile(self) -> list:
        parts: list = []
        for i, (name, value) in enumerate(self.fields.items()):
            if not isinstance(name, str) or not name:
                raise SchemaError(f"{name!r}: field names must be non-empty strings")
            if name in ENVELOPE_FIELDS:
                raise SchemaError(f"{name}: is an envelope field every record already has; "
                                  f"{', '.join(ENVELOPE_FIELDS)} are reserved")
            parts.append(("," if i else "") + _json(name) + ":")
            self._node(value, name, parts)
        if self.key_field and self.key_kind is None:
            raise SchemaError(f"{self.key_field}: key field is not a field of the template")
        return _merge(parts)

    def _node(self, node, path: str, parts: list) -> None:
        if isinstance(node, dict) and any(isinstance(k, str) and k.startswith("$") for k in node):
            self._directive(node, path, parts)
        elif isinstance(node, dict):
            if path == self.key_field:
                self.key_kind = "decode"
            parts.append("{")
            for i, (name, value) in enumerate(node.items()):
                if not isinstance(name, str) or not name:
                    raise SchemaError(f"{path}.{name}: field names must be non-empty strings")
                parts.append(("," if i else "") + _json(name) + ":")
                self._node(value, f"{path}.{name}", parts)
            parts.append("}")
        elif isinstance(node, list):
            if path == self.key_field:
                self.key_kind = "decode"
            parts.append("[")
            for i, value in enumerate(node):
                if i:
                    parts.append(",")
                self._node(value, f"{path}.{i}", parts)
            parts.append("]")
        elif isinstance(node, str) and _TOKEN.search(node):
            self._faker_text(node, path, parts)
        elif isinstance(node, str) and "{{" in node:
            raise SchemaError(f"{path}: '{{{{' without a provider name in {node!r}; e.g. '{{{{name}}}}'")
        else:
            if isinstance(node, float) and not math.isfinite(node):
                raise SchemaError(f"{path}: {node!r} is not valid JSON")
            if path == self.key_field:
                self.key_kind, self.key_const = "const", key_text(node)
            parts.append(_json(node))

    # -- leaves ---------------------------------------------------------------------------
    def _leaf(self, path: str, parts: list, pool: tuple[str, ...] = (), raw: tuple = (), pick=None) -> None:
        """Append a per-record value: a ``pool`` of JSON texts or a ``pick(gen, t) -> (json, raw)``."""
        if path == self.key_field:
            self.key_kind = "leaf"
            if pick is None:
                pick = _pool_picker(pool, tuple(key_text(v) for v in raw))
            parts.append((_KEY, pick))
        elif pick is None:
            parts.append((_POOL, pool))
        else:
            parts.append((_PICK, pick))

    def _provider(self, name: str, path: str):
        method = getattr(self.fake, name, None) if not name.startswith("_") else None
        if method is None or not callable(method) or name in vars(Generator) or name in vars(Faker):
            raise SchemaError(f"{path}: unknown Faker provider {name!r}")
        return method

    def _faker_text(self, text: str, path: str, parts: list) -> None:
        names = _TOKEN.findall(text)
        for name in names:
            self._provider(name, path)
        whole = _TOKEN.fullmatch(text.strip())
        if whole and whole.group(1) == "uuid4":
            self._leaf(path, parts, pick=_uuid_picker)
            return
        make = self._provider(whole.group(1), path) if whole else (lambda: self.fake.parse(text))
        self._pooled(make, {}, path, parts, self.pool_size, f"{text!r}")

    def _pooled(self, method, kwargs: dict, path: str, parts: list, size: int, what: str) -> None:
        try:
            raw = tuple(method(**kwargs) for _ in range(size))
        except Exception as exc:  # a provider's own error, e.g. bad arguments
            raise SchemaError(f"{path}: Faker {what} failed: {type(exc).__name__}: {exc}") from None
        try:
            pool = tuple(_json(v) for v in raw)
        except (TypeError, orjson.JSONEncodeError) as exc:
            raise SchemaError(f"{path}: Faker {what} returns values JSON cannot hold: {exc}") from None
        self._leaf(path, parts, pool, raw)

    def _directive(self, node: dict, path: str, parts: list) -> None:
        directives = [k for k in node if k in _DIRECTIVES]
        unknown = [k for k in node if isinstance(k, str) and k.startswith("$") and k not in _DIRECTIVES
                   and k != "$pool"]
        if unknown or len(directives) != 1:
            bad = unknown[0] if unknown else " and ".join(directives) or "$pool alone"
            raise SchemaError(f"{path}: {bad}: use exactly one of {', '.join(_DIRECTIVES)}")
        kind = directives[0]
        args = {k: v for k, v in node.items() if k not in (kind, "$pool")}
        if kind == "$faker":
            name = node[kind]
            if not isinstance(name, str):
                raise SchemaError(f"{path}: $faker must name a provider, got {name!r}")
            method = self._provider(name, path)
            size = self._pool_size(node.get("$pool", self.pool_size), f"{path}.$pool")
            if name == "uuid4" and not args:
                self._leaf(path, parts, pick=_uuid_picker)
                return
            self._pooled(method, args, path, parts, size, f"{name}({_kwargs_text(args)})")
            return
        if "$pool" in node:
            raise SchemaError(f"{path}: $pool applies to $faker leaves only")
        _DIRECTIVE_BUILDERS[kind](self, node[kind], args, path, parts)

    def _choice(self, values, args: dict, path: str, parts: list) -> None:
        if not isinstance(values, list) or not values:
            raise SchemaError(f"{path}: $choice needs a non-empty list of values")
        _only(args, ("weights",), path)
        weights = args.get("weights")
        if weights is not None:
            if (not isinstance(weights, list) or len(weights) != len(values)
                    or not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in weights)
                    or not sum(weights) > 0):
                raise SchemaError(f"{path}: weights must be {len(values)} non-negative numbers, not all 0")
            # Expand to a pool whose uniform picks follow the weights (to 1/1024).
            total = sum(weights)
            counts = [round(w / total * 1024) for w in weights]
            values = [v for v, n in zip(values, counts) for _ in range(n)] or values
        self._leaf(path, parts, tuple(_json(v) for v in values), tuple(values))

    def _int(self, bounds, args: dict, path: str, parts: list) -> None:
        _only(args, (), path)
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) or bounds[0] > bounds[1]):
            raise SchemaError(f"{path}: $int needs [min, max] integers with min <= max, got {bounds!r}")
        low, span = bounds[0], bounds[1] - bounds[0] + 1

        def pick(gen, _t):
            value = low + int(gen.rng.random() * span)
            return str(value), value
        self._leaf(path, parts, pick=pick)

    def _float(self, bounds, args: dict, path: str, parts: list) -> None:
        _only(args, ("digits",), path)
        digits = args.get("digits", 2)
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
                or bounds[0] > bounds[1]):
            raise SchemaError(f"{path}: $float needs [min, max] numbers with min <= max, got {bounds!r}")
        if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 12:
            raise SchemaError(f"{path}: digits must be an integer 0..12, got {digits!r}")
        low, span = float(bounds[0]), float(bounds[1] - bounds[0])

        def pick(gen, _t):
            value = round(low + gen.rng.random() * span, digits)
            return repr(value), value
        self._leaf(path, parts, pick=pick)

    def _uuid(self, _version, args: dict, path: str, parts: list) -> None:
        _only(args, (), path)
        self._leaf(path, parts, pick=_uuid_picker)

    def _now(self, fmt, args: dict, path: str, parts: list) -> None:
        _only(args, (), path)
        if fmt not in _NOW_FORMATS:
            raise SchemaError(f"{path}: $now format must be one of {', '.join(_NOW_FORMATS)}, got {fmt!r}")
        self._leaf(path, parts, pick=_NOW_PICKERS[fmt])


_DIRECTIVE_BUILDERS = {"$choice": _Compiler._choice, "$int": _Compiler._int, "$float": _Compiler._float,
                       "$uuid": _Compiler._uuid, "$now": _Compiler._now}


def _only(args: dict, allowed: tuple[str, ...], path: str) -> None:
    extra = [k for k in args if k not in allowed]
    if extra:
        raise SchemaError(f"{path}: unexpected option {extra[0]!r}" + (f"; allowed: {', '.join(allowed)}" if allowed else ""))


def _kwargs_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


# Program items: (_TEXT, str), (_POOL, JSON texts), (_PICK, pick) or (_KEY, pick) for the key field.
_TEXT, _POOL, _PICK, _KEY = range(4)


def _pool_picker(pool: tuple[str, ...], raw: tuple[str, ...]):
    n = len(pool)

    def pick(gen, _t):
        i = int(gen.rng.random() * n)
        return pool[i], raw[i]
    return pick


def _uuid_picker(gen, _t):
    value = uuid4_text(gen.rng.getrandbits(128))
    return f'"{value}"', value


def _now_iso(gen, t):
    text = iso_utc(t)
    return f'"{text}"', text


_NOW_PICKERS = {
    "iso": _now_iso,
    "epoch": lambda gen, t: (repr(float(t)), t),
    "epoch_ms": lambda gen, t: (str(int(round(t * 1000))), int(round(t * 1000))),
}


def _merge(parts: list) -> list:
    """Adjacent constant strings become one, so a record joins as few pieces as possible."""
    merged: list = []
    for part in parts:
        if isinstance(part, str) and merged and merged[-1][0] == _TEXT:
            merged[-1] = (_TEXT, merged[-1][1] + part)
        else:
            merged.append((_TEXT, part) if isinstance(part, str) else part)
    return merged


@functools.lru_cache(maxsize=16)
def _compiled(template_json: bytes, key_field: str | None) -> tuple[tuple, str | None, str | None]:
    compiler = _Compiler(orjson.loads(template_json), key_field)
    program = compiler.compile()
    return tuple(program), compiler.key_kind, compiler.key_const


def compile_template(template: dict, key_field: str | None = None) -> tuple[tuple, str | None, str | None]:
    """Validate and compile (cached by content); raises ``SchemaError`` naming the field."""
    try:
        canonical = orjson.dumps(template, default=str, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise SchemaError(f"template: not JSON-like data: {exc}") from None
    if not isinstance(template, dict):
        raise SchemaError(f"template: must be an object of fields, got {type(template).__name__}")
    return _compiled(canonical, key_field)  # (keys such as YAML's 1: became strings)


def compile_template_file(path: str | Path, key_field: str | None = None) -> tuple[tuple, str | None, str | None]:
    """``load_template`` + ``compile_template``, errors prefixed with the file's name."""
    template = load_template(path)
    try:
        return compile_template(template, key_field)
    except SchemaError as exc:
        raise SchemaError(f"template {path}: {exc}") from None


class TemplateRecords(RecordGenerator):
    """Records from a template (a dict, or a path to a JSON/YAML file)."""

    schema = "template"

    def __init__(self, producer_id: str, template: dict | str | Path, seed: int | None = None,
                 run_id: str | None = None, *, key_field: str | None = None) -> None:
        super().__init__(producer_id, seed=seed, run_id=run_id, key_field=key_field)
        if isinstance(template, (str, Path)):
            self.schema = str(template)
            compiled = compile_template_file(template, self.key_field)
        else:
            compiled = compile_template(template, self.key_field)
        self._program, self._key_kind, self._key_const = compiled
        self._ids_json = orjson.dumps(self.run_id).decode() + ',"producer_id":' + orjson.dumps(producer_id).decode()
        self._event_json = orjson.dumps(self._event_prefix).decode()[:-1]  # JSON-escaped, open-ended

    def record(self, seq: int, produced_at: float) -> dict:
        return orjson.loads(self.generate(seq, produced_at).data)

    def generate(self, seq: int, produced_at: float) -> GeneratedRecord:
        event_id = f"{self._event_prefix}{seq}"
        out = [f'{{"event_id":{self._event_json}{seq}","run_id":{self._ids_json},"seq":{seq},'
               f'"produced_at":{orjson.dumps(produced_at).decode()},']
        key = None
        random = self.rng.random
        for kind, value in self._program:
            if kind == _TEXT:
                out.append(value)
            elif kind == _POOL:
                out.append(value[int(random() * len(value))])
            else:
                text, raw = value(self, produced_at)
                out.append(text)
                if kind == _KEY:
                    key = key_text(raw)
        out.append("}")
        data = "".join(out).encode()
        if self._key_kind == "const":
            key = self._key_const
        elif self._key_kind == "decode":
            key = key_text(value_at(orjson.loads(data), self.key_field))
        return new_record(event_id, seq, produced_at, data, key)
