"""Sync: devices push journal batches and pull the changes in their scope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sync_server import models, protocol
from sync_server.api.auth import SignedRequest, authenticated_device, signed_request
from sync_server.api.errors import error_responses
from sync_server.runtime import runtime_of
from sync_server.services import ingest, pull

router = APIRouter(tags=["sync"])
Device = Annotated[models.Device, Depends(authenticated_device)]
Signed = Annotated[SignedRequest, Depends(signed_request)]


# The body is parsed here from the signed bytes (pydantic's JSON parser, in one pass) rather
# than by FastAPI (json.loads, then validation of the Python objects): a batch is validated a
# third faster. This documents the same body FastAPI would; app.py adds PushRequest's schema.
_PUSH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
    },
    "responses": {
        "422": {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        }
    },
}


@router.post(
    "/sync/push",
    response_model=protocol.PushResponse,
    responses=error_responses(401, 413),
    openapi_extra=_PUSH_BODY,
)
def push(signed: Signed, request: Request) -> Response:
    """Store a batch of events; each is answered accepted, duplicate, conflict or rejected."""
    body = _push_request(signed.body)
    runtime = runtime_of(request)
    received_at = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        results = ingest.push(
            s,
            device=signed.device,
            events=body.events,
            received_at=received_at,
            programmes=runtime.programmes,
        )
    # Serialised here rather than by FastAPI, which would build and validate a model per
    # result (a fifth of a batch's time); response_model above documents the shape.
    return Response(_answer(results, received_at), media_type="application/json")


def _answer(results: list[ingest.Outcome], server_time: datetime) -> str:
    """PushResponse as JSON, written directly: ids are validated UUIDs and statuses literals,
    so only a reason (free text) needs the JSON encoder; the tests parse every answer back
    through protocol.PushResponse."""
    head = protocol.PushResponse(results=[], server_time=server_time).model_dump(mode="json")
    del head["results"]
    parts = [
        f'{{"id":"{event_id}","status":"{status}","reason":'
        f"{'null' if reason is None else json.dumps(reason)}}}"
        for event_id, status, reason in results
    ]
    return f'{{"results":[{",".join(parts)}],{json.dumps(head, separators=(",", ":"))[1:]}'


def _push_request(raw: bytes) -> protocol.PushRequest:
    """The body as a PushRequest, or the 422 (or 413) FastAPI itself would have answered."""
    try:
        return protocol.PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        errors = [_in_body(error) for error in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _in_body(error: ErrorDetails) -> dict[str, object]:
    """A pydantic error as FastAPI reports body errors: under "body", and never echoing
    bytes that are not JSON (they may not even be text)."""
    found: dict[str, object] = {**error, "loc": ("body", *error["loc"])}
    if isinstance(error["input"], bytes):
        found["input"] = {}
    return found


@router.get(
    "/sync/pull",
    response_model=protocol.PullResponse,
    responses=error_responses(401),
)
def pull_changes(
    device: Device,
    request: Request,
    cursor: Annotated[str, Query(pattern=r"^[0-9]{0,19}$", max_length=19)] = "",
) -> protocol.PullResponse:
    """The changes in this device's force and site after `cursor`, oldest first, paged."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as s:
        return pull.changes_since(
            s,
            device=device,
            cursor=int(cursor or 0),
            limit=runtime.settings.pull_page_size,
            settings=runtime.settings,
            now=datetime.now(UTC),
        )
