"""Scans: one domain's read of the world for one day, as plain rows.

A scan calls a source (GitHub, local git), hands what it read to the standards engine and
returns rows for the store. Assets and the ``drift`` CLI both call these functions, so the
pipeline and the command line run the same code. No Dagster here.
"""
