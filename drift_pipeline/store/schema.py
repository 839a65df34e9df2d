"""The store's schema: one table per asset facet and the bookkeeping beside them, and the statements
that bring a database (the DuckDB file, or a DuckLake catalog) to it.

Column names are stable (extend, never rename): trend views, README queries and dashboards use
them. A DuckLake catalog has no PRIMARY KEY or UNIQUE constraints: there the keyed bookkeeping
tables are plain tables, and the store writes them so that a key's rows never disagree
(``cache``, ``DriftStore.put_blobs``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from drift_pipeline.store.summary import summary_changes
from drift_pipeline.store.views import view_changes

__all__ = ["TABLES", "frame", "lake_ddl", "schema_changes"]

FINDING_DDL = """
    scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
    category VARCHAR NOT NULL, rule VARCHAR NOT NULL, severity VARCHAR NOT NULL,
    message VARCHAR NOT NULL, subject VARCHAR NOT NULL, details JSON, fingerprint VARCHAR NOT NULL,
    commit_sha VARCHAR, commit_url VARCHAR
"""

# table -> column DDL. Daily tables first; keep column names stable (trend queries use them).
TABLES: dict[str, str] = {
    "repo_inventory": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, owner VARCHAR,
        html_url VARCHAR, default_branch VARCHAR, head_sha VARCHAR, head_date TIMESTAMPTZ, head_author VARCHAR,
        pushed_at TIMESTAMPTZ,
        archived BOOLEAN, disabled BOOLEAN, fork BOOLEAN, private BOOLEAN,
        has_metadata BOOLEAN, has_config BOOLEAN, in_scope BOOLEAN, scope_reason VARCHAR,
        tier VARCHAR, status VARCHAR, team VARCHAR, config_files JSON, carried_forward BOOLEAN,
        error VARCHAR
    """,
    # config_snapshots and its satellites (one asset, several facets of the same read)
    "config_snapshots": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        path VARCHAR NOT NULL, kind VARCHAR NOT NULL, tool VARCHAR, blob_sha VARCHAR,
        content VARCHAR, commit_sha VARCHAR, commit_url VARCHAR, commit_author VARCHAR,
        commit_date TIMESTAMPTZ, carried_forward BOOLEAN
    """,
    "config_projects": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        type VARCHAR, config_file VARCHAR, tier VARCHAR, status VARCHAR, team VARCHAR,
        registry VARCHAR, rulesets JSON, tier_valid BOOLEAN, tier_message VARCHAR,
        carried_forward BOOLEAN
    """,
    "config_problems": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        file VARCHAR, key VARCHAR, line INTEGER, message VARCHAR, rule VARCHAR, severity VARCHAR
    """,
    "config_scan_status": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, head_sha VARCHAR,
        mode VARCHAR NOT NULL, error VARCHAR, files INTEGER, still_present JSON,
        registry_heads JSON
    """,
    "config_file_commits": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, path VARCHAR NOT NULL,
        commit_sha VARCHAR NOT NULL, commit_url VARCHAR, author VARCHAR, committed_at TIMESTAMPTZ,
        message VARCHAR
    """,
    "blob_contents": """
        blob_sha VARCHAR PRIMARY KEY, content VARCHAR
    """,
    "code_drift": FINDING_DDL,
    # process: live settings (one row per repo and setting), the day's activity (one row per commit)
    "process_settings": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, setting VARCHAR NOT NULL,
        rule VARCHAR, state VARCHAR NOT NULL, expected JSON, actual JSON, source JSON, readable BOOLEAN,
        reason VARCHAR
    """,
    "process_activity": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, commit_sha VARCHAR NOT NULL,
        commit_url VARCHAR, subject VARCHAR, author VARCHAR, committer VARCHAR, is_merge BOOLEAN,
        direct_push BOOLEAN, pr_number INTEGER, pr_url VARCHAR, pr_title VARCHAR, head_branch VARCHAR,
        merged_by VARCHAR, merged_at TIMESTAMPTZ, approvals INTEGER, approved_by JSON, files INTEGER,
        lines INTEGER, refs JSON
    """,
    "process_scan_status": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, head_sha VARCHAR,
        mode VARCHAR NOT NULL, error VARCHAR, settings_observed BOOLEAN, activity_read BOOLEAN,
        commits INTEGER, config_file VARCHAR, not_evaluated JSON, problems JSON, expected JSON, observed JSON
    """,
    "process_drift": FINDING_DDL,
    # what a live-only domain observed each day (observed = FALSE: not observed, never "compliant")
    "coverage": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, domain VARCHAR NOT NULL, observed BOOLEAN NOT NULL,
        reason VARCHAR
    """,
    # infra (live-only): what each AWS account holds, what each repo declares per env, the drift between
    "aws_inventory": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, account VARCHAR NOT NULL, env VARCHAR, region VARCHAR,
        arn VARCHAR NOT NULL, type VARCHAR, physical_id VARCHAR, stack VARCHAR, tags JSON, attributes JSON,
        read_failure VARCHAR
    """,
    "declared_infra": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, project VARCHAR NOT NULL,
        env VARCHAR NOT NULL, account VARCHAR, deployed_commit VARCHAR, deployed_from VARCHAR, stack VARCHAR,
        stack_name VARCHAR, logical_id VARCHAR, type VARCHAR, physical_id VARCHAR, arn VARCHAR, properties JSON,
        source VARCHAR, line INTEGER
    """,
    "infra_scan_status": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, mode VARCHAR NOT NULL,
        error VARCHAR, projects JSON, problems JSON, expected JSON
    """,
    "infra_observed": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, observed JSON, backups JSON, envs JSON, drift_methods JSON
    """,
    "infra_drift": FINDING_DDL,
    "drift_findings": FINDING_DDL,
    # bookkeeping
    "source_cache": """
        key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL, stored_at TIMESTAMPTZ DEFAULT current_timestamp,
        packed BLOB
    """,
    # every issue filed or commented on from findings (drift_pipeline.issues.ledger writes it)
    "filed_issues": """
        scan_date DATE NOT NULL, org VARCHAR NOT NULL, repo VARCHAR NOT NULL, category VARCHAR NOT NULL,
        action VARCHAR NOT NULL, number INTEGER, url VARCHAR, fingerprints JSON, target_repo VARCHAR,
        recorded_at TIMESTAMPTZ DEFAULT current_timestamp
    """,
    # the key that signs the filing markers, and when signing began (drift_pipeline.issues.signing)
    "marker_keys": """
        created_at TIMESTAMPTZ NOT NULL, secret VARCHAR
    """,
    # one row per weekly audit run (drift_pipeline.issues.audit writes it)
    "audit_reports": """
        week VARCHAR NOT NULL, org VARCHAR NOT NULL, run_at TIMESTAMPTZ NOT NULL, threshold INTEGER,
        action VARCHAR NOT NULL, number INTEGER, url VARCHAR, repos JSON
    """,
}


def frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    data = {c: [_cell(r.get(c)) for r in rows] for c in columns}
    return pd.DataFrame(data, columns=list(columns))


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def lake_ddl(ddl: str) -> str:
    """``ddl`` for a DuckLake catalog: no PRIMARY KEY (the key column stays NOT NULL)."""
    return ddl.replace("PRIMARY KEY", "NOT NULL")


def schema_changes(con: duckdb.DuckDBPyConnection, *, lake: bool = False) -> list[str]:
    """The statements that bring the database to the declared schema (new tables, columns added since).

    ``lake``: a DuckLake catalog (no key constraints; the trend macros live in each session).
    """
    have: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = current_database()"
    ).fetchall():
        have.setdefault(table, set()).add(column)
    changes = []
    for table, ddl in TABLES.items():
        if table not in have:
            changes.append(f"CREATE TABLE IF NOT EXISTS {table} ({lake_ddl(ddl) if lake else ddl})")
            continue
        for column in ddl.split(","):
            name, _, rest = column.strip().partition(" ")
            if name and name not in have[table] and "PRIMARY KEY" not in rest:
                kind = rest.replace("NOT NULL", "").split(" DEFAULT")[0].strip()
                changes.append(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    # the summaries, built from the tables' rows (after the columns they read), then the views that read them
    return changes + summary_changes(con) + view_changes(con, macros=not lake)
