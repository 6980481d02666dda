"""Sync: devices push journal batches and pull the changes in their scope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from sync_server import models, protocol
from sync_server.api.auth import authenticated_device
from sync_server.api.errors import error_responses
from sync_server.runtime import runtime_of
from sync_server.services import ingest, pull

router = APIRouter(tags=["sync"])
Device = Annotated[models.Device, Depends(authenticated_device)]


@router.post(
    "/sync/push",
    response_model=protocol.PushResponse,
    responses=error_responses(401, 413),
)
def push(body: protocol.PushRequest, device: Device, request: Request) -> Response:
    """Store a batch of events; each is answered accepted, duplicate, conflict or rejected."""
    runtime = runtime_of(request)
    received_at = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        results = ingest.push(
            s,
            device=device,
            events=body.events,
            received_at=received_at,
            programmes=runtime.programmes,
        )
    # Serialised here rather than by FastAPI, which would build and validate a model per
    # result (a fifth of a batch's time); response_model above documents the shape, and the
    # tests read every answer back through protocol.PushResponse.
    answer = protocol.PushResponse(results=[], server_time=received_at).model_dump(mode="json")
    answer["results"] = [r._asdict() for r in results]
    return Response(json.dumps(answer, separators=(",", ":")), media_type="application/json")


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
