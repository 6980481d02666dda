"""Central sync server and staff dashboard."""
