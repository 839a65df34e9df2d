"""``python -m drift_pipeline.sandbox.github``: print the endpoint table for the sandbox README."""

from drift_pipeline.sandbox.github.server import endpoints_markdown

print("| method | path | what |\n|---|---|---|")
print(endpoints_markdown())
