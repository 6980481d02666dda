"""The ASGI application: `create_app(settings)` wires the database, routers and errors."""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from sync_server import protocol
from sync_server.api import devices, errors, packs, sync
from sync_server.api.limits import BodyLimitMiddleware
from sync_server.dashboard import mount as dashboard
from sync_server.db import make_engine, session_factory
from sync_server.runtime import Runtime
from sync_server.settings import Settings


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    engine = engine or make_engine(settings.database_url)
    runtime = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    app = FastAPI(
        title="Intervention Kiosk sync server",
        version=str(protocol.PROTOCOL_VERSION),
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.add_middleware(BodyLimitMiddleware)
    errors.install(app)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for router in (devices.router, sync.router, packs.router):
        app.include_router(router, prefix=protocol.API_PREFIX)
    dashboard.install(app)
    _document_parsed_bodies(app)

    @app.get("/health", tags=["health"], responses={503: {"description": "database unreachable"}})
    def health() -> JSONResponse:
        """Liveness and database reachability."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means the database is unreachable
            return JSONResponse(
                {"status": "error", "database": "unreachable", "detail": type(exc).__name__},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    return app


def create_worker_app(settings: Settings) -> FastAPI:
    """The app as a server process serves it (`sync-server serve`, in each worker).

    `create_app`, then everything built so far (modules, models, routes and their pydantic
    validators: some 140,000 objects) is handed to the garbage collector's permanent
    generation with `gc.freeze()`. Those objects live as long as the process, and a full
    collection walking them took ~90 ms, paid by whichever request happened to trigger it:
    every few batches of a busy push stream stalled for that long. Not in `create_app`, which
    tests call many times in one process: frozen objects are never collected.
    """
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    return app


def _document_parsed_bodies(app: FastAPI) -> None:
    """Put PushRequest (and what it refers to) in the schema's components: the push endpoint
    parses its body itself, so FastAPI does not see the model, but the documented body and
    the schemathesis run must."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            body = protocol.PushRequest.model_json_schema(
                ref_template="#/components/schemas/{model}", mode="validation"
            )
            for name, definition in body.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components["PushRequest"] = body
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # A push of more events than a batch may hold is "too large", as the protocol says.
    for error in exc.errors():
        if (
            tuple(error.get("loc", ()))[:2] == ("body", "events")
            and error.get("type") == "too_long"
        ):
            return JSONResponse(
                {
                    "error": "batch_too_large",
                    "detail": f"at most {protocol.MAX_EVENTS_PER_PUSH} events per push",
                    "wipe": False,
                },
                status_code=413,
            )
    return await request_validation_exception_handler(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # FastAPI answers a body it cannot decode (not UTF-8 JSON) with a bare 400; answer it as
    # every other invalid body is answered: 422 with the documented validation-error shape.
    if exc.status_code == 400:
        error = {"type": "json_invalid", "loc": ["body"], "msg": "the body is not UTF-8 JSON"}
        return JSONResponse({"detail": [error]}, status_code=422)
    return await http_exception_handler(request, exc)
