"""Dagster assets: thin wiring of sources, scans, rules and the store."""
