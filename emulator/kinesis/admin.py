"""The fault-injection admin endpoint, on the server's own port under a path prefix so it
never collides with the JSON 1.1 ``POST /``. Loopback callers only (403 otherwise), even
if the server was bound to another interface.

- ``GET /_streamload/faults`` -> the plan in force, plus ``active`` and ``pause_remaining_s``
- ``POST /_streamload/faults`` with a JSON ``FaultPlan`` (fields omitted = no fault) -> 200
  and the new plan; unknown fields or out-of-range values -> 400 ``ValidationException``
- ``DELETE /_streamload/faults`` -> clears every fault (ends a pause at once)

See ``faults.py`` for what each field does.
"""
from __future__ import annotations

import ipaddress

import orjson
from aiohttp import web
from pydantic import ValidationError

from .faults import FaultInjector, FaultPlan

__all__ = ["FAULTS_PATH", "add_admin_routes"]

FAULTS_PATH = "/_streamload/faults"


def _json(status: int, payload: dict) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(payload), content_type="application/json")


def _from_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def add_admin_routes(app: web.Application, faults: FaultInjector) -> None:
    async def handle(request: web.Request) -> web.Response:
        if not _from_loopback(request):
            return _json(403, {"__type": "AccessDeniedException", "message": "The admin endpoint answers loopback callers only."})
        if request.method == "POST":
            try:
                plan = FaultPlan.model_validate(orjson.loads(await request.read() or b"{}"))
            except orjson.JSONDecodeError:
                return _json(400, {"__type": "SerializationException", "message": "Body is not valid JSON."})
            except ValidationError as error:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())
                return _json(400, {"__type": "ValidationException", "message": problems})
            faults.apply(plan)
        elif request.method == "DELETE":
            faults.clear()
        return _json(200, faults.describe())

    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, FAULTS_PATH, handle)
