"""Presenters: they connect the views' signals to the core's services, and nothing else."""
