"""A hostile policy document from an AWS answer is kept as text and leaves the process able to parse.

Deep nesting made ``json.loads`` raise ``RecursionError`` out of the inventory read, and a
``RecursionError`` inside ``ast.literal_eval`` leaves CPython 3.11's AST depth counter unbalanced
(python/cpython#106905): every later ``ast.parse`` in that process (moto's werkzeug routing in the
test suite, Dagster in a code server) then failed with ``SystemError``. Run in a subprocess so a
failure cannot poison the test worker.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import ast
from drift_pipeline.sources.aws_documents import document as _document
for n in (150, 1_000, 100_000):
    for doc in ("[" * n + "]" * n, '{"a":' * n + "1" + "}" * n, "{'a': " * n + "1" + "}" * n):
        kept = _document(doc)
        assert isinstance(kept, str) and len(kept) == len(doc), n
policy = str({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"]}]})
assert _document(policy)["Statement"][0]["Action"] == ["s3:GetObject"]
for _ in range(20):
    ast.parse("def f(x):\\n    return [x, (x, {x: [x, (x,)]})]\\n" * 20)
print("ok")
"""


def test_a_deeply_nested_policy_document_is_text_and_the_process_still_parses():
    done = subprocess.run([sys.executable, "-c", SCRIPT], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
