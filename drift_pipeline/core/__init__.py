"""The pure core: the standards engine, the rule families, redaction and error types."""
