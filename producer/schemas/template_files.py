"""Reading template files: ``.json``, ``.yaml`` or ``.yml``, errors with file and line."""
from __future__ import annotations

from pathlib import Path

import orjson
import yaml

from producer.schemas.base import SchemaError

__all__ = ["TEMPLATE_SUFFIXES", "load_template"]

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml")


def load_template(path: str | Path) -> dict:
    """Parse a ``.json``/``.yaml``/``.yml`` template file; ``SchemaError`` on any problem."""
    path = Path(path)
    if path.suffix.lower() not in TEMPLATE_SUFFIXES:
        raise SchemaError(f"template {path}: must end in .json, .yaml or .yml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"template {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SchemaError(f"template {path}: not UTF-8 text") from None
    try:
        if path.suffix.lower() == ".json":
            return orjson.loads(text)
        return yaml.safe_load(text)
    except orjson.JSONDecodeError as exc:
        raise SchemaError(f"template {path}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SchemaError(f"template {path}: invalid YAML{where}: {problem}") from None
