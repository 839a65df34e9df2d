"""The Dagster UI, checked as a person would: the real ``dagster-webserver`` on this code location,
its GraphQL API, and the lineage and partitions pages rendered in headless Chromium.

Expectations come from ``defs`` itself (assets and their groups, jobs, schedules, sensors,
partition keys), never from a literal list. Screenshots land in ``build/ui/``.

Rendering: Chromium's ``--dump-dom`` and ``--screenshot`` in one run with a virtual time budget.
Virtual time stands still while a fetch is pending, so the app's GraphQL answers are in the DOM
when it is dumped, on a slow machine too; no DevTools client is needed. Two UI states are set
the way a person would set them: the community sign-up dialog is dismissed on the server
(``setNuxSeen``, what its Skip button does) and the lineage page's groups are expanded through
its own ``expanded`` URL parameter (what "Expand all groups" writes); before the dismissal, the
fresh instance's first lineage render shows the dialog over the page (the covering check's control). The instance is a fresh
temporary one; materializations of two partitions are reported through the API (what the UI's
"Report materialization events" does) so the partitions page has a status to show.

A second test serves the instance a small ``drift demo --no-ui`` build leaves: it starts with the
community dialog dismissed, so the first load shows the lineage uncovered (no dialog in the DOM, the
screenshot not darkened by a backdrop); each day's
materialisation of ``drift_findings`` carries the numbers the UI plots (equal to the store's
counts), and the asset's overview renders them with its Table / Plots switch and the owners.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from drift_pipeline.definitions import defs
from drift_pipeline.defs.assets.partitions import START_DATE
from drift_pipeline.store import DriftStore
from drift_pipeline_tests.ui_browser import CHROMIUM, Webserver, is_listening, render, start_webserver, stop_group
from drift_pipeline_tests.ui_browser import text_nodes as dom_text

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "ui"
LOCATION = "drift_pipeline.definitions"  # the module name in workspace.yaml names the code location

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium package (`make test` does) to run the UI test",
)

WORKSPACE_QUERY = """
{ workspaceOrError { __typename
    ... on PythonError { message }
    ... on Workspace { locationEntries { name loadStatus
      locationOrLoadError { __typename
        ... on PythonError { message }
        ... on RepositoryLocation { name repositories { name
          pipelines { name }
          schedules { name }
          sensors { name }
          assetNodes { assetKey { path } groupName isPartitioned description
            owners { __typename ... on TeamAssetOwner { team } ... on UserAssetOwner { email } } }
        } } } } } } }
"""


@pytest.fixture
def webserver(tmp_path: Path) -> Iterator[Webserver]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    # What the definitions read at load time (drift_pipeline.defs.resources.resources_from_env and the
    # partitions' start date); the GitHub token is an EnvVar read only when a run starts, so none is given.
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    env |= {
        "DAGSTER_HOME": str(home),
        "DRIFT_DB_PATH": str(tmp_path / "drift.duckdb"),
        "DRIFT_START_DATE": START_DATE,  # the same partitions as this process's `defs`
    }
    server = start_webserver(ROOT, ROOT / "workspace.yaml", env, tmp_path / "webserver.log")
    try:
        yield server
    finally:
        stop_group(server.proc)
        assert not is_listening(server.port), f"port {server.port} still answers after the webserver was stopped"


def _loaded_repository(server: Webserver) -> dict:
    data = server.graphql(WORKSPACE_QUERY)["workspaceOrError"]
    assert data["__typename"] == "Workspace", data
    entries = {e["name"]: e for e in data["locationEntries"]}
    assert set(entries) == {LOCATION}, entries
    entry = entries[LOCATION]
    assert entry["loadStatus"] == "LOADED", entry
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", f"code location failed to load: {location}"
    (repository,) = location["repositories"]
    return repository


def _check_graphql(server: Webserver) -> None:
    repo_def = defs.get_repository_def()
    repository = _loaded_repository(server)

    graph = repo_def.asset_graph
    expected_assets = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    served_assets = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in repository["assetNodes"]}
    assert served_assets == expected_assets
    # owners (from assets.catalog) and descriptions, so the lineage says what each asset is and who answers for it
    expected_owners = {key.to_user_string(): sorted(graph.get(key).owners) for key in graph.get_all_asset_keys()}
    assert all(expected_owners.values()), f"assets without owners: {expected_owners}"
    served_owners = {
        "/".join(n["assetKey"]["path"]): sorted(map(_owner, n["owners"])) for n in repository["assetNodes"]
    }
    assert served_owners == expected_owners
    served_descriptions = {"/".join(n["assetKey"]["path"]): n["description"] for n in repository["assetNodes"]}
    assert served_descriptions == {
        key.to_user_string(): graph.get(key).description for key in graph.get_all_asset_keys()
    }
    assert all(served_descriptions.values()), f"assets without a description: {served_descriptions}"
    partitioned = {key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).is_partitioned}
    assert {"/".join(n["assetKey"]["path"]) for n in repository["assetNodes"] if n["isPartitioned"]} == partitioned

    assert {p["name"] for p in repository["pipelines"]} == {job.name for job in repo_def.get_all_jobs()}
    assert {s["name"] for s in repository["schedules"]} == {s.name for s in repo_def.schedule_defs}
    assert {s["name"] for s in repository["sensors"]} == {s.name for s in repo_def.sensor_defs}


def _owner(node: dict) -> str:
    """An owner as Dagster's GraphQL API gives it, back in the form the definitions use."""
    return f"team:{node['team']}" if node["__typename"] == "TeamAssetOwner" else node["email"]


REPORT_MUTATION = """
mutation Report($params: ReportRunlessAssetEventsParams!) {
  reportRunlessAssetEvents(eventParams: $params) { __typename
    ... on PythonError { message }
    ... on UnauthorizedError { message } } }
"""


def _report_materializations(server: Webserver, key: str, partitions: list[str]) -> None:
    params = {
        "eventType": "ASSET_MATERIALIZATION",
        "assetKey": {"path": [key]},
        "partitionKeys": partitions,
        "description": "reported by test_ui",
    }
    result = server.graphql(REPORT_MUTATION, {"params": params})["reportRunlessAssetEvents"]
    assert result["__typename"] == "ReportRunlessAssetEventsSuccess", result


def _lineage_url(server: Webserver, groups: set[str]) -> str:
    # Group ids as the UI builds them: "global@global:<group>", or "<repo>@<location>:<group>" when
    # it groups per code location; ids the UI does not know are ignored, so both are given.
    repo_name = defs.get_repository_def().name
    ids = [f"{prefix}{g}" for g in sorted(groups) for prefix in ("global@global:", f"{repo_name}@{LOCATION}:")]
    return f"{server.url}/asset-groups?{urllib.parse.urlencode({'expanded': ','.join(ids)})}"


def test_webserver_serves_every_definition_and_renders_lineage_and_partitions(
    webserver: Webserver, tmp_path: Path
) -> None:
    info = webserver.wait_ready(timeout=180)
    assert info.get("dagster_webserver_version"), info

    # (a) every asset (with its group), job, schedule and sensor of `defs` is loaded, per GraphQL
    _check_graphql(webserver)

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    graph = defs.get_repository_def().asset_graph
    assets = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    groups = {g for g in assets.values() if g}

    # a fresh instance: the community dialog a first visit on localhost shows covers the lineage (what
    # the demo's instance must not do; this is the check's own proof that it sees a covering dialog)
    assert webserver.graphql("{ shouldShowNux }")["shouldShowNux"] is True
    covered_png = SHOTS / "asset-lineage-first-visit-fresh-instance.png"
    dom = render(f"{webserver.url}/asset-groups", covered_png, tmp_path / "chromium-nux", (1600, 1000))
    assert _covering(dom, covered_png) == (True, True), "the fresh instance's dialog was not seen over the lineage"
    # dismissed as its Skip button does
    assert webserver.graphql("mutation { setNuxSeen }")["setNuxSeen"] is True

    # (b1) the global asset lineage, every group expanded: each asset and each group renders
    lineage_png = SHOTS / "asset-lineage.png"
    dom = render(_lineage_url(webserver, groups), lineage_png, tmp_path / "chromium-lineage", (1600, 1400))
    texts = set(dom_text(dom))
    assert "Global asset lineage" in texts, sorted(texts)[:80]
    assert set(assets) - texts == set(), f"asset names missing from the lineage page; text seen: {sorted(texts)}"
    assert groups - texts == set(), f"group names missing from the lineage page; text seen: {sorted(texts)}"
    assert lineage_png.stat().st_size > 20_000, "the lineage screenshot is (nearly) empty"

    # (b2) an asset's partitions page: the asset, its first and last partition keys and their status render
    key = "drift_findings"
    partitions_def = graph.get(dg.AssetKey(key)).partitions_def
    assert partitions_def is not None, f"{key} is not partitioned"
    keys = partitions_def.get_partition_keys()
    assert keys, f"{key} has no partitions yet (start date {START_DATE})"
    reported = keys[-2:]  # a materialization reported for the two newest days, as "Report materialization" does
    _report_materializations(webserver, key, reported)
    partitions_png = SHOTS / f"{key}-partitions.png"
    dom = render(
        f"{webserver.url}/assets/{key}?view=partitions", partitions_png, tmp_path / "chromium-partitions", (1600, 1000)
    )
    texts = set(dom_text(dom))
    assert key in texts, sorted(texts)[:80]
    assert {keys[0], keys[-1]} <= texts, f"partition keys {keys[0]}, {keys[-1]} not rendered; text: {sorted(texts)}"
    # the partition status the instance holds is what the page counts
    status = {f"Materialized ({len(reported)})", f"Missing ({len(keys) - len(reported)})"}
    assert status <= texts, f"partition status {sorted(status)} not rendered; text: {sorted(texts)}"
    assert partitions_png.stat().st_size > 20_000, "the partitions screenshot is (nearly) empty"

    # (b3) the asset's overview: its description, group and owners (a team shows as its name)
    overview_png = SHOTS / f"{key}-overview.png"
    dom = render(f"{webserver.url}/assets/{key}", overview_png, tmp_path / "chromium-overview", (1600, 1400))
    texts = set(dom_text(dom))
    node = graph.get(dg.AssetKey(key))
    shown_owners = {o.removeprefix("team:") for o in node.owners}
    expected = {"Description", node.description, "Group", node.group_name, "Owners", *shown_owners}
    assert expected <= texts, f"{sorted(expected - texts)} not rendered on the overview; text: {sorted(texts)}"
    assert overview_png.stat().st_size > 20_000, "the overview screenshot is (nearly) empty"


# The community dialog: a Blueprint dialog in an open overlay whose grey backdrop dims the page.
COMMUNITY_NUX_TITLE = "Join the Dagster community"
LIGHT = 240  # luminance (0..255) from which a pixel counts as the page's white
# The bare lineage page is mostly white (measured: 96% of its pixels); under the dialog's backdrop only
# the dialog itself is (15%).
UNCOVERED_SHARE = 0.5


def _covering(dom: str, png: Path) -> tuple[bool, bool]:
    """Whether a modal dialog covers the page: (a dialog in the DOM, the screenshot's page dimmed)."""
    from PIL import Image

    assert png.stat().st_size > 20_000, f"{png} is (nearly) empty"
    dialog = 'role="dialog"' in dom or "bp5-overlay-open" in dom or COMMUNITY_NUX_TITLE in dom_text(dom)
    with Image.open(png) as image:
        histogram = image.convert("L").histogram()
    return dialog, sum(histogram[LIGHT:]) / sum(histogram) < UNCOVERED_SHARE


MATERIALIZATIONS_QUERY = """
query Materializations($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) { __typename
    ... on Asset { assetMaterializations(limit: 100) { partition
      metadataEntries { label __typename ... on IntMetadataEntry { intValue } } } } } }
"""
# The numbers the UI plots across partitions (Overview → Metadata → Plots): findings_metadata's ints.
PLOTTED = ("errors", "warnings", "infos", "code_findings", "process_findings", "infra_findings")


@pytest.fixture(scope="module")
def demo_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small `drift demo --no-ui` build: its Dagster instance and DuckDB file, as `make demo` leaves them."""
    base = tmp_path_factory.mktemp("ui-demo") / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "drift_pipeline.demo", "--no-ui", "--days", "3", "--repos", "8", "--dir", str(base)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return base


def test_demo_instance_serves_each_days_findings_numbers_for_the_plots(demo_instance: Path, tmp_path: Path) -> None:
    """The webserver on the demo's own instance: every day's materialisation of drift_findings carries
    the numbers the UI plots, equal to the store's counts, and the overview renders them with Plots."""
    start = json.loads((demo_instance / "seed-report.json").read_text())["start_date"]
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    env |= {
        "DAGSTER_HOME": str(demo_instance / "dagster_home"),
        "DRIFT_DB_PATH": str(demo_instance / "drift.duckdb"),
        "DRIFT_START_DATE": start,
        "DRIFT_ORGS": "acme",
    }
    server = start_webserver(ROOT, ROOT / "workspace.yaml", env, tmp_path / "webserver.log")
    try:
        server.wait_ready(timeout=180)
        # the demo's instance starts with the community dialog dismissed: the first load shows the lineage
        assert server.graphql("{ shouldShowNux }")["shouldShowNux"] is False
        SHOTS.mkdir(parents=True, exist_ok=True)
        first_png = SHOTS / "demo-first-load-lineage.png"
        dom = render(f"{server.url}/asset-groups", first_png, tmp_path / "chromium-first", (1600, 1000))
        assert _covering(dom, first_png) == (False, False), "something covers the lineage on the demo's first load"
        graph = defs.get_repository_def().asset_graph
        groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
        assert groups <= set(dom_text(dom)), "the lineage's asset groups are not on the demo's first page"
        answer = server.graphql(MATERIALIZATIONS_QUERY, {"key": {"path": ["drift_findings"]}})["assetOrError"]
        assert answer["__typename"] == "Asset", answer
        served: dict[str, dict[str, int]] = {}
        for event in answer["assetMaterializations"]:
            ints = {
                e["label"]: e["intValue"] for e in event["metadataEntries"] if e["__typename"] == "IntMetadataEntry"
            }
            served.setdefault(event["partition"], ints)  # newest first: the day's latest materialisation
        with DriftStore(demo_instance / "drift.duckdb", read_only=True) as store:
            rows = store.rows("SELECT scan_date, category, severity, count(*) AS n FROM drift_findings GROUP BY ALL")
            days = [str(r["d"]) for r in store.rows("SELECT DISTINCT scan_date AS d FROM repo_inventory ORDER BY d")]
        assert sorted(served) == days and len(days) == 3, served
        for day in days:
            counts = {label: 0 for label in PLOTTED}
            for r in rows:
                if str(r["scan_date"]) == day:
                    counts[f"{r['category']}_findings"] += r["n"]
                    counts[{"error": "errors", "warning": "warnings", "info": "infos"}[r["severity"]]] += r["n"]
            assert {label: served[day].get(label) for label in PLOTTED} == counts, day

        shot = SHOTS / "demo-drift_findings-overview.png"
        dom = render(f"{server.url}/assets/drift_findings", shot, tmp_path / "chromium-demo", (1600, 1400))
        texts = set(dom_text(dom))
        expected = {"Metadata", "Table", "Plots", "Owners", days[-1], *PLOTTED}
        assert expected <= texts, f"{sorted(expected - texts)} not rendered; text: {sorted(texts)}"
    finally:
        stop_group(server.proc)
        assert not is_listening(server.port), f"port {server.port} still answers after the webserver was stopped"
