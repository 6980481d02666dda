"""What request handlers need, built once per application and injected through the request."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from sync_server.db import SessionFactory
from sync_server.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: SessionFactory


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
