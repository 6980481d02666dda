"""HTTP routers: devices, sync and packs under /api/v1."""
