"""One error shape for every refusal: a reason code a device can act on, and a sentence."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    """Raised by handlers and dependencies; rendered as the protocol's ErrorBody."""

    def __init__(self, status: int, error: str, detail: str, *, wipe: bool = False) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.wipe = wipe


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries so the schema documents every refusal a route can give."""
    from sync_server.protocol import ErrorBody

    return {status: {"model": ErrorBody} for status in statuses}


def install(app: FastAPI) -> None:
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        body = {"error": exc.error, "detail": exc.detail, "wipe": exc.wipe}
        headers = {"WWW-Authenticate": "Signature"} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    app.add_exception_handler(ApiError, handle)
