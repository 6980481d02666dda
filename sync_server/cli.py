"""The `sync-server` command; the server itself arrives with issue #3."""

from __future__ import annotations

import sys

import click


@click.group(invoke_without_command=True)
@click.version_option(package_name="intervention-kiosk")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Intervention Kiosk central sync server."""
    if ctx.invoked_subcommand is None:
        click.echo("sync-server: the server is not built yet (see issue #3)", err=True)
        sys.exit(2)
