"""`python -m sync_server`: the `sync-server` command."""

from sync_server.cli import main

main(prog_name="sync-server")
