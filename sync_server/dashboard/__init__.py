"""The staff web dashboard: server-rendered pages on the sync server (see `mount.install`)."""
