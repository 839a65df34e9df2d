"""``make demo`` / ``drift demo``: a realistic org in the sandbox, its history backfilled, today scanned, issues filed, the UI.

Steps, each printed as it runs:

1. start the sandboxes in this process: the GitHub API server and moto with three AWS accounts;
2. seed the demo org ``acme`` (``drift sandbox seed``) with ``--days`` days ending yesterday (UTC);
3. backfill the window's days but the last as one run of the ``daily_drift_scan`` job (code and
   process activity exact, live-only process settings and AWS recorded as not observed), recorded
   in a local Dagster instance (``.demo/dagster_home``) and written to ``.demo/drift.duckdb``;
4. today's scan: the last day (the newest partition) as a run of its own, as the nightly schedule
   runs it, every domain read and the live ones observed;
5. file that day's issues into the GitHub sandbox with the ``file_drift_issues`` job;
6. print a summary (repos, coverage per domain, findings by category and severity, issues and
   their API URLs, the DuckDB file, example ``drift sql`` queries and a ``drift trends`` chart), then
   serve ``dagster dev`` (webserver and daemon) on http://127.0.0.1:3000 against the same
   sandboxes until Ctrl-C, which stops everything (exit 0).

``--no-ui`` stops after step 6 and exits 0. A second run with the same parameters on the same day
reuses the folder (``manifest.json``: no seeding, no backfill); a run while another demo uses the
folder says where that one is and exits 3 without touching its files (``workdir``).
"""

from drift_pipeline.demo.run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
