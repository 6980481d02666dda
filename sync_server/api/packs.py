"""Pack downloads: each device gets its own age header over the shared payload."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Path, Request
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, Response, StreamingResponse

from sync_server import models
from sync_server.api.auth import authenticated_device
from sync_server.api.errors import ApiError, error_responses
from sync_server.runtime import runtime_of
from sync_server.services import packs

router = APIRouter(tags=["packs"])

PACK_NOT_FOUND = "pack_not_found"
RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
_STREAM_CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """A syntactically valid byte range that selects nothing of the representation."""


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte range asked for, or None for the whole body.

    RFC 9110 §14: a header the server does not understand (bad syntax, several ranges,
    another unit) is ignored and the whole body is sent; a range that starts past the end
    raises Unsatisfiable.
    """
    if value is None:
        return None
    match = _RANGE.match(value.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise Unsatisfiable
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def _entity_tags(value: str) -> list[str]:
    return [tag.strip() for tag in value.split(",") if tag.strip()]


def none_match(value: str | None, etag: str) -> bool:
    """If-None-Match holds this tag (weak comparison, RFC 9110 §13.1.2)."""
    if value is None:
        return False
    tags = _entity_tags(value)
    return "*" in tags or etag.removeprefix("W/") in (t.removeprefix("W/") for t in tags)


def if_range_allows(value: str | None, etag: str) -> bool:
    """Whether a Range may be honoured: no If-Range, or one naming this tag strongly.

    A date in If-Range never matches: the representation has no Last-Modified.
    """
    return value is None or value.strip() == etag


@dataclass(frozen=True, slots=True)
class _Download:
    header: bytes
    path: str
    payload_offset: int
    payload_size: int
    etag: str

    @property
    def size(self) -> int:
        return len(self.header) + self.payload_size


def _body(download: _Download, f: BinaryIO, first: int, last: int) -> Iterator[bytes]:
    """Bytes first..last (inclusive) of header + payload, read from disk a chunk at a time."""
    try:
        header_len = len(download.header)
        if first < header_len:
            yield download.header[first : min(last + 1, header_len)]
            first = header_len
        remaining = last + 1 - first
        if remaining <= 0:
            return
        f.seek(download.payload_offset + first - header_len)
        while remaining > 0:
            chunk = f.read(min(_STREAM_CHUNK, remaining))
            if not chunk:
                raise OSError(f"pack file {download.path} is shorter than its release record")
            remaining -= len(chunk)
            yield chunk
    finally:
        f.close()


def _prepare(request: Request, device: models.Device, pack_id: str, version: int) -> _Download:
    runtime = runtime_of(request)
    with runtime.sessions.begin() as s:
        release = packs.release_for_device(s, device=device, pack_id=pack_id, version=version)
        if release is None:
            raise ApiError(
                404, PACK_NOT_FOUND, f"no pack {pack_id} version {version} for this device"
            )
        header = packs.device_header(s, runtime.settings, device=device, release=release)
        path = packs.release_file(runtime.settings, release)
        # Strong: the payload hash names the shared bytes, the header hash this device's.
        etag = f'"{release.payload_sha256[:32]}-{hashlib.sha256(header).hexdigest()[:16]}"'
        return _Download(
            header=header,
            path=str(path),
            payload_offset=release.payload_offset,
            payload_size=release.payload_size,
            etag=etag,
        )


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {}},
        "description": "The pack: this device's age header, then the shared payload.",
    },
    206: {
        "content": {"application/octet-stream": {}},
        "description": "The requested byte range of the pack.",
    },
    304: {"description": "If-None-Match named the current ETag."},
    **error_responses(401, 404, 416),
}


@router.head(
    "/packs/{pack_id}/{version}",
    response_class=Response,
    responses=_RESPONSES,
    operation_id="head_pack",
    summary="Size, ETag and range support of a pack, without the body",
)
@router.get(
    "/packs/{pack_id}/{version}",
    response_class=Response,
    responses=_RESPONSES,
    operation_id="download_pack",
    summary="Download a pack addressed to this device",
)
def download_pack(
    request: Request,
    pack_id: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", max_length=64)],
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    device: Annotated[models.Device, Depends(authenticated_device)],
) -> Response:
    """The pack with an age header wrapped to the calling device.

    Supports `Range` (one range: `bytes=a-b`, `bytes=a-`, `bytes=-n`), `If-Range` and
    `If-None-Match`, so an interrupted download resumes where it stopped.
    """
    download = _prepare(request, device, pack_id, version)
    headers = {"ETag": download.etag, "Accept-Ranges": "bytes", "Cache-Control": "no-store"}
    if none_match(request.headers.get("if-none-match"), download.etag):
        return Response(status_code=304, headers=headers)
    size = download.size
    byte_range: tuple[int, int] | None = None
    if if_range_allows(request.headers.get("if-range"), download.etag):
        try:
            byte_range = parse_range(request.headers.get("range"), size)
        except Unsatisfiable:
            # ApiError cannot carry the Content-Range a 416 needs, so the body is built here.
            return JSONResponse(
                {"error": RANGE_NOT_SATISFIABLE, "detail": f"the pack is {size} bytes long"},
                status_code=416,
                headers={**headers, "Content-Range": f"bytes */{size}"},
            )
    status = 200
    first, last = 0, size - 1
    if byte_range is not None:
        status = 206
        first, last = byte_range
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type="application/octet-stream")
    try:
        f = open(download.path, "rb")  # noqa: SIM115 - closed by the body generator
        os.fstat(f.fileno())
    except OSError:
        raise ApiError(
            404, PACK_NOT_FOUND, f"pack {pack_id} version {version} is not available"
        ) from None
    return StreamingResponse(
        _body(download, f, first, last),
        status_code=status,
        headers=headers,
        media_type="application/octet-stream",
        background=BackgroundTask(f.close),
    )
