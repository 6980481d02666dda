"""Every command a user can type is documented in the README."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from content_packs.cli import main as content_pack
from sync_server.app import create_app
from sync_server.cli import main as sync_server
from sync_server.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str) -> Iterator[str]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


@pytest.mark.parametrize(
    "command",
    [*_commands(content_pack, "content-pack"), *_commands(sync_server, "sync-server")],
)
def test_command_is_in_readme(command: str) -> None:
    assert f"`{command}" in README


@pytest.mark.parametrize(
    "target",
    ["make demo", "make test", "make bench"]
    + ["make bundle", "make test-bundle", "make bench-bundle"],
)
def test_make_targets_are_in_readme(target: str) -> None:
    assert target in README


def _endpoints() -> list[str]:
    app = create_app(Settings(database_url="sqlite://"))
    return sorted(app.openapi()["paths"])


@pytest.mark.parametrize("path", _endpoints())
def test_endpoint_is_in_readme(path: str) -> None:
    assert path in README
