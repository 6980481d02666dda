"""What request handlers need, built once per application and injected through the request."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy import Engine

from sync_server.db import SessionFactory
from sync_server.services.effects import Programmes
from sync_server.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    # Parsed once per release for the life of the app: a published release never changes.
    programmes: Programmes = field(default_factory=Programmes)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
