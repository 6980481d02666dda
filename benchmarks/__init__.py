"""Benchmarks for the DESIGN.md §7 budgets; run with `make bench`."""
