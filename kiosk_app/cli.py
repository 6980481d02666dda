"""The `kiosk-app` command; the application itself arrives with issue #4."""

from __future__ import annotations

import sys

import click


@click.group(invoke_without_command=True)
@click.version_option(package_name="intervention-kiosk")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Intervention Kiosk participant application."""
    if ctx.invoked_subcommand is None:
        click.echo("kiosk-app: the kiosk application is not built yet (see issue #4)", err=True)
        sys.exit(2)
