"""drift-pipeline: the detective layer for repository standards."""

__version__ = "0.1.0"
