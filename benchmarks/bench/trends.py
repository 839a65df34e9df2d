"""The README's trend queries timed over ``days`` x ``repos`` of findings generated into a DuckDB file.

The findings are written directly through the store's schema (not by scanning), so a year at 1,000
repos takes seconds; each query is then timed on a fresh read-only connection.
"""

from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.servers import ORG

RULES = [  # (category, rule, severity)
    ("code", "check_toml_changed", "warning"),
    ("code", "dependency_changed", "warning"),
    ("code", "workflow_changed", "info"),
    ("code", "invalid_config", "error"),
    ("process", "branch_protection_missing", "error"),
    ("process", "required_reviews_too_low", "warning"),
    ("process", "review_bypassed", "error"),
    ("process", "commit_convention_violated", "warning"),
    ("infra", "resource_missing", "error"),
    ("infra", "attribute_drift", "warning"),
]
TEAMS = ["orders", "web", "payments", "data", "platform"]
TIERS = ["production", "internal", "prototype"]


def readme_queries() -> list[tuple[str, str]]:
    """The README's trend questions: the product's one list (``drift_pipeline.store.queries``)."""
    from drift_pipeline.store.queries import README_QUERIES

    return list(README_QUERIES)


def generate_trends(db: Path, repos: int, days: int, end: date, seed: int = 0) -> dict[str, Any]:
    """``days`` days x ``repos`` repos of inventory, status, coverage, findings and filed issues.

    Each repo opens a drift episode with probability 0.1 a day (rule drawn from :data:`RULES`),
    which stays for a geometric number of days (mean 20): about two open findings per repo-day.
    Process settings and infra are observed on every day but one in seven (a backfilled day).
    """
    import pandas as pd

    from drift_pipeline.store import DriftStore, rebuild_summaries

    rng = random.Random(seed)
    start = end - timedelta(days=days - 1)
    names = [f"service-{i:05d}" for i in range(repos)]
    open_: dict[str, list[tuple[str, int, str]]] = {n: [] for n in names}  # repo -> [(fp, rule idx, ends on)]
    started = time.perf_counter()
    ledger: list[dict[str, Any]] = []
    issue = 0
    findings: dict[str, list[Any]] = {c: [] for c in ("scan_date", "repo", "category", "rule", "severity", "fp")}
    for d in range(days):
        day = start + timedelta(days=d)
        for n in names:
            eps = [e for e in open_[n] if e[1] > d]
            if rng.random() < 0.1:
                k = rng.randrange(len(RULES))
                length = 1 + int(rng.expovariate(1 / 20))
                eps.append((f"{n}:{k}:{d}", d + length, str(k)))
                if rng.random() < 0.5:
                    issue += 1
                    ledger.append(
                        {
                            "scan_date": day,
                            "org": ORG,
                            "repo": n,
                            "category": RULES[k][0],
                            "action": "created",
                            "number": issue,
                            "url": f"https://github.example/{ORG}/{n}/issues/{issue}",
                            "fingerprints": json.dumps([f"{n}:{k}:{d}"]),
                        }
                    )
            open_[n] = eps
            for fp, _end, k in eps:
                category, rule, severity = RULES[int(k)]
                for col, value in zip(findings, (day, n, category, rule, severity, fp), strict=True):
                    findings[col].append(value)
    rows = len(findings["fp"])
    first = start.isoformat()
    with DriftStore(db) as store, store.transaction() as con:  # the store's schema, written in bulk
        con.execute(
            f"""INSERT INTO repo_inventory (scan_date, org, repo, team, tier, in_scope)
            SELECT DATE '{first}' + CAST(d AS INTEGER), '{ORG}', printf('service-%05d', i),
                   ['{"','".join(TEAMS)}'][i % {len(TEAMS)} + 1], ['{"','".join(TIERS)}'][i % {len(TIERS)} + 1], true
            FROM range({days}) t(d), range({repos}) r(i)"""
        )
        con.execute(
            f"""INSERT INTO process_scan_status (scan_date, org, repo, mode)
            SELECT DATE '{first}' + CAST(d AS INTEGER), '{ORG}', printf('service-%05d', i), 'read'
            FROM range({days}) t(d), range({repos}) r(i)"""
        )
        con.execute(
            f"""INSERT INTO coverage (scan_date, org, domain, observed, reason)
            SELECT DATE '{first}' + CAST(d AS INTEGER), '{ORG}', dom, d % 7 != 3, 'live-only'
            FROM range({days}) t(d), (VALUES ('process_settings'), ('infra')) v(dom)"""
        )
        frame = pd.DataFrame(findings)
        con.register("_findings", frame)
        con.execute(
            f"""INSERT INTO drift_findings (scan_date, org, repo, project, category, rule, severity, message,
                                            subject, fingerprint)
            SELECT scan_date, '{ORG}', repo, '.', category, rule, severity, rule || ' in ' || repo, fp, fp
            FROM _findings"""
        )
        con.unregister("_findings")
        frame = pd.DataFrame(ledger)
        con.register("_ledger", frame)
        cols = ", ".join(frame.columns)
        con.execute(
            f"INSERT INTO filed_issues ({cols}) SELECT * REPLACE (fingerprints::JSON AS fingerprints) FROM _ledger"
        )
        con.unregister("_ledger")
        rebuild_summaries(con)  # rows written around replace_day: the summaries computed from them once
    return {
        "days": days,
        "findings_rows": rows,
        "filed_issues": len(ledger),
        "generated_s": round(time.perf_counter() - started, 1),
    }


def time_trends(db: Path, runs: int = 3) -> list[dict[str, Any]]:
    """Each README query on a fresh read-only connection: the first run, then the best and the median
    of ``runs`` more."""
    import statistics

    import duckdb

    out = []
    for title, sql in readme_queries():
        with duckdb.connect(str(db), read_only=True) as con:
            t = time.perf_counter()
            n = len(con.execute(sql).fetchall())
            first = time.perf_counter() - t
            warm = []
            for _ in range(runs):
                t = time.perf_counter()
                con.execute(sql).fetchall()
                warm.append(time.perf_counter() - t)
        out.append(
            {
                "query": title,
                "rows": n,
                "first_ms": round(first * 1000, 1),
                "best_ms": round(min(warm) * 1000, 1),
                "median_ms": round(statistics.median(warm) * 1000, 1),
            }
        )
    return out
