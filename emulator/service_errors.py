"""What the local services' errors share: an AWS error code, an HTTP status, a message.

Each service's ``exceptions.py`` keeps one class per AWS error code, so callers raise and
catch them by name, as in moto. The many that add nothing but their code and status are
declared in one table per service and made here by ``declare_errors``; the ones with
behaviour of their own (a default message, extra modelled members, a code that is not
the class name) stay written out.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import orjson

__all__ = ["ServiceError", "declare_errors", "json_object_body"]


class ServiceError(Exception):
    """An error a local service answers with; each service's root error subclasses it."""

    code: str = "InternalFailure"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_Error = TypeVar("_Error", bound=ServiceError)


def declare_errors(base: type[_Error], statuses: Mapping[str, int], module: str) -> dict[str, type[_Error]]:
    """One subclass of ``base`` per ``code: status`` row, named after its code.

    ``module`` is the declaring module's ``__name__``: the classes say they live there, so
    they print, pickle and import as if written out in it (it puts them in its globals)."""
    return {
        code: type(code, (base,), {"code": code, "status": status, "__module__": module, "__qualname__": code})
        for code, status in statuses.items()
    }


def json_object_body(raw: bytes, error: type[ServiceError]) -> dict:
    """The request body as a JSON object (``{}`` when empty); ``error`` when it is not one,
    in the words the Data API and SSO-OIDC answer with."""
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise error("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise error("The request body must be a JSON object.")
    return body
