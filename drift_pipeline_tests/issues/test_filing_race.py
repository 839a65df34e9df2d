"""Two filers at once file one issue: two real `drift process scan` processes against one --db."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from drift_pipeline_tests.pipeline import test_process_settings as shared
from drift_pipeline_tests.pipeline.processfixture import DAY
from drift_pipeline_tests.sandbox.conftest import github_client

porg, pserver, run = shared.porg, shared.pserver, shared.run  # the process org of the pipeline tests


def test_two_scans_started_together_file_one_issue(run, tmp_path):
    server = run.server
    server.set_faults({"latency_ms": 150})  # every answer slow: the lookup-to-create window is wide
    env = {
        **os.environ,
        "GITHUB_API_URL": server.url,
        "GITHUB_TOKEN": "sandbox-token",
        "DRIFT_DB_PATH": str(tmp_path / "drift.duckdb"),
    }
    env.pop("DRIFT_MARKER_KEY", None)
    args = [sys.executable, "-m", "drift_pipeline.cli", "process", "scan", "--org", "acme", "--repo", "weak"]
    args += ["--date", DAY.isoformat(), "--all", "--json"]
    procs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    server.clear_faults()
    assert [p.returncode for p in procs] == [1, 1], [err[-2000:] for _, err in outs]
    actions = sorted(i["action"] for out, _ in outs for i in json.loads(out)["issues"])
    issues = [
        i for i in github_client(server.url).get_repo("acme/weak").get_issues(state="all", labels=["drift:process"])
    ]
    assert len(issues) == 1, [i.html_url for i in issues]
    assert actions == ["created", "found"]
