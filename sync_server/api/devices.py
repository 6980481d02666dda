"""Device enrolment: a one-time code and the device's public keys become a device record."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from sync_server import protocol
from sync_server.api.errors import ApiError, error_responses
from sync_server.runtime import runtime_of
from sync_server.services import enrolment, packs

router = APIRouter(tags=["devices"])


@router.post(
    "/devices/enrol",
    response_model=protocol.EnrolResponse,
    responses=error_responses(403, 413, 429),
)
def enrol(body: protocol.EnrolRequest, request: Request) -> protocol.EnrolResponse:
    """Spend a one-time enrolment code; answer the device's identity and where it belongs."""
    runtime = runtime_of(request)
    client = request.client.host if request.client else "unknown"
    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        try:
            enrolment.check_rate_limit(s, client=client, now=now, settings=runtime.settings)
        except enrolment.EnrolmentRefused as exc:
            raise ApiError(429, exc.reason, exc.detail) from None
    try:
        with runtime.sessions.begin() as s:
            new = enrolment.enrol_device(
                s,
                code=body.code,
                ed25519_public_key=base64.b64decode(body.ed25519_public_key),
                x25519_recipient=body.x25519_recipient,
                name=body.device_name,
                app_version=body.app_version,
                now=now,
            )
            answer = protocol.EnrolResponse(
                device_id=new.device.id,
                key_id=new.device.id,
                force=protocol.NamedRef(id=new.force.id, name=new.force.name),
                site=protocol.NamedRef(id=new.site.id, name=new.site.name),
                access_code_prefix=new.device.access_code_prefix,
                publisher_keys=[k.to_base64() for k in packs.publisher_keys(runtime.settings)],
                server_time=now,
            )
    except enrolment.EnrolmentRefused as exc:
        # The failure is recorded in its own transaction: the refused one wrote nothing.
        with runtime.sessions.begin() as s:
            enrolment.record_failure(s, client=client, now=now)
        raise ApiError(403, exc.reason, exc.detail) from None
    return answer
