"""The DuckLake profile: the store's interface on a real DuckLake (SQLite or PostgreSQL catalog, Parquet on
the emulator's S3 or a local path), its configuration and its one-line errors.

The fixtures here (``moto_s3``, ``lake``) are shared by the other ``test_store_lake_*`` modules.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import boto3
import duckdb
import pytest
from dagster_aws.s3 import S3Resource
from moto.server import ThreadedMotoServer

from drift_pipeline.defs.resources import DriftStoreResource, store_from_env
from drift_pipeline.store import DriftStore
from drift_pipeline.store.lake import LakeConfig, LakeConfigError, LakeStore, LakeUnavailable, S3Access
from drift_pipeline_tests.pg import PostgresServer
from drift_pipeline_tests.pg import postgres as postgres  # noqa: PLC0414  (the fixture)

D1, D2 = date(2026, 1, 1), date(2026, 1, 2)
BUCKET = "drift-lake"
KEY_ID, SECRET = "AKIAlakekey", "lake-secret-value-never-shown"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[str]:
    """The AWS emulator (moto server) with the lake's bucket; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
    ).create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials only from the environment (moto accepts any); children inherit them."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def s3_resource(endpoint: str) -> S3Resource:
    return S3Resource(endpoint_url=endpoint, region_name="us-east-1", max_attempts=1)


def store_resource(catalog: str, data: str, endpoint: str | None) -> DriftStoreResource:
    return DriftStoreResource(
        backend="ducklake", lake_catalog=catalog, lake_data=data, s3=s3_resource(endpoint) if endpoint else None
    )


def pg_catalog(server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database of the private cluster as a catalog URL; the password only in PGPASSWORD."""
    monkeypatch.setenv("PGPASSWORD", server.password)
    name = server.create_database(f"lake_{uuid.uuid4().hex[:10]}")
    return f"postgresql://{server.user}@{server.host}:{server.port}/{name}"


@pytest.fixture(params=["sqlite-local", "postgres-s3"])
def lake(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LakeConfig:
    """A fresh lake: SQLite catalog with a local data path, or PostgreSQL catalog with data on S3."""
    if request.param == "sqlite-local":
        return store_resource(f"sqlite://{tmp_path}/catalog.sqlite", str(tmp_path / "data"), None).lake_config()
    request.getfixturevalue("aws_env")
    endpoint = request.getfixturevalue("moto_s3")
    catalog = pg_catalog(request.getfixturevalue("postgres"), monkeypatch)
    return store_resource(catalog, f"s3://{BUCKET}/{uuid.uuid4().hex[:8]}", endpoint).lake_config()


# -- the store's interface, on the lake ------------------------------------------------------------
def test_days_are_replaced_per_org_and_views_and_macros_answer(lake):
    with LakeStore(lake) as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}, {"repo": "b"}]})
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "a", "config_files": ["check.toml"]}]})
        store.replace_day(D2, "other", {"repo_inventory": [{"repo": "z"}]})
        store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "c"}], "drift_findings": [_finding("c")]})
        got = store.rows("SELECT scan_date, org, repo FROM repo_inventory ORDER BY ALL")
        assert [(r["scan_date"], r["org"], r["repo"]) for r in got] == [
            (D1, "acme", "a"),
            (D1, "acme", "b"),
            (D2, "acme", "c"),
            (D2, "other", "z"),
        ]
        assert store.days("repo_inventory", "acme") == [D1, D2]
        assert store.latest_day_before("repo_inventory", D2, "acme") == D1
        top = store.rows("SELECT org, repo, findings, rank FROM trend_top_repos(30)")
        assert top == [{"org": "acme", "repo": "c", "findings": 1, "rank": 1}]
        daily = store.rows("SELECT scan_date, rule, findings FROM trend_findings_daily WHERE org = 'acme' ORDER BY 1")
        assert daily == [{"scan_date": D1, "rule": "invalid_config", "findings": 0}] + [
            {"scan_date": D2, "rule": "invalid_config", "findings": 1}
        ]
    with LakeStore(lake, read_only=True) as reader:  # another store (a new session) sees the same
        assert reader.days("repo_inventory") == [D1, D2]
        with pytest.raises(RuntimeError, match="read-only"):
            reader.replace_day(D1, "acme", {"repo_inventory": []})


def test_a_failed_unit_leaves_the_previous_rows_and_transactions_nest(lake):
    with LakeStore(lake) as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}]})
        with pytest.raises(duckdb.CatalogException, match="no_such_table"):
            store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "b"}], "no_such_table": [{"x": 1}]})
        with pytest.raises(RuntimeError, match="boom"), store.transaction():
            store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "c"}]})
            store.put_blobs({"s2": "two"})
            raise RuntimeError("boom")
        assert [r["repo"] for r in store.day_rows("repo_inventory", D1, "acme")] == ["a"]
        assert store.blobs(["s2"]) == {}
        assert store.retried == 0  # nothing conflicted: no unit ran twice


def test_blobs_once_by_sha_and_the_source_cache_replaces_its_keys(lake):
    with LakeStore(lake) as store:
        store.put_blobs({"s1": "one", "s2": None})
        store.put_blobs({"s1": "one", "s3": "three"})
        assert store.blobs(["s1", "s2", "s3", "s4"]) == {"s1": "one", "s2": None, "s3": "three"}
        assert store.rows("SELECT count(*) AS n FROM blob_contents") == [{"n": 3}]
        cache = store.source_cache()
        cache["k"] = "v"
        assert cache.flush() == 1
    with LakeStore(lake) as store:
        cache = store.source_cache()
        assert cache["k"] == "v"
        cache["k"] = "v2"
        cache["j"] = "w"
        assert cache.flush() == 2
        stored = store.rows("SELECT key, value, packed FROM source_cache ORDER BY key")
        assert [(r["key"], r["value"], zlib.decompress(r["packed"]).decode()) for r in stored] == [
            ("j", "", "w"),
            ("k", "", "v2"),
        ]
        del cache["j"]
    with LakeStore(lake) as store:
        assert dict(store.source_cache().items()) == {"k": "v2"}


def test_a_reading_block_is_one_snapshot_and_sees_its_own_writes_after(lake):
    with LakeStore(lake) as store, LakeStore(lake) as other:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}]})
        with store.reading():
            assert len(store.day_rows("repo_inventory", D1, "acme")) == 1
            other.replace_day(D1, "acme", {"repo_inventory": [{"repo": "a"}, {"repo": "b"}]})
            assert len(store.day_rows("repo_inventory", D1, "acme")) == 1  # the block's snapshot
            store.replace_day(D2, "acme", {"repo_inventory": [{"repo": "x"}]})  # its own write ends the snapshot
            assert len(store.day_rows("repo_inventory", D1, "acme")) == 2
            assert len(store.day_rows("repo_inventory", D2, "acme")) == 1


def _finding(repo: str) -> dict:
    return {
        "repo": repo,
        "project": ".",
        "category": "code",
        "rule": "invalid_config",
        "severity": "error",
        "message": "bad",
        "subject": "check.toml",
        "fingerprint": f"fp-{repo}",
    }


# -- S3 through dagster-aws's resource ---------------------------------------------------------------
def test_data_lands_as_parquet_in_the_bucket_and_no_credential_is_shown(moto_s3, aws_env, tmp_path):
    prefix = uuid.uuid4().hex[:8]
    resource = store_resource(f"sqlite:///{tmp_path}/catalog.sqlite", f"s3://{BUCKET}/{prefix}", moto_s3)
    config = resource.lake_config()
    assert config.s3 is not None and config.s3.key_id == KEY_ID  # from the environment
    assert (config.s3.endpoint, config.s3.url_style, config.s3.use_ssl) == (moto_s3.split("//")[1], "path", False)
    assert SECRET not in repr(config) and KEY_ID not in repr(config)
    with resource.open() as store:
        store.replace_day(D1, "acme", {"repo_inventory": [{"repo": f"r{i}"} for i in range(200)]})
        assert store.rows("SELECT count(*) AS n FROM repo_inventory") == [{"n": 200}]
        secrets = store.rows("SELECT secret_string FROM duckdb_secrets()")
    assert secrets and all(SECRET not in s["secret_string"] for s in secrets)  # DuckDB redacts it
    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    assert any(k.startswith(f"{prefix}/main/repo_inventory/") and k.endswith(".parquet") for k in keys), keys


def test_a_missing_bucket_or_refused_credentials_say_so_in_one_line(moto_s3, aws_env, tmp_path, monkeypatch):
    with pytest.raises(LakeConfigError, match=r"^the lake's bucket no-such-bucket does not exist \(endpoint http"):
        store_resource(f"sqlite:///{tmp_path}/c.sqlite", "s3://no-such-bucket/x", moto_s3).lake_config()
    given = DriftStoreResource(
        backend="ducklake",
        lake_catalog=f"sqlite:///{tmp_path}/c.sqlite",
        lake_data=f"s3://{BUCKET}/x",
        s3=S3Resource(endpoint_url=moto_s3, aws_secret_access_key="inline"),
    )
    with pytest.raises(LakeConfigError, match="aws_secret_access_key must not be set"):
        given.lake_config()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(LakeConfigError, match="no AWS credentials for the lake's bucket"):
        store_resource(f"sqlite:///{tmp_path}/c.sqlite", f"s3://{BUCKET}/x", moto_s3).lake_config()


# -- configuration ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("catalog", "data", "says"),
    [
        ("mysql://h/db", "/tmp/d", r"unknown scheme 'mysql' \(expected sqlite:///path or postgresql://"),
        ("sqlite:", "/tmp/d", "no file after 'sqlite:'"),
        ("postgresql://u:hunter2@h/db", "/tmp/d", "a password in the PostgreSQL URL is not accepted; set PGPASSWORD"),
        ("postgresql://u@h:5432", "/tmp/d", "no database name"),
        ("sqlite:///tmp/c.sqlite", "s3://", r"no bucket \(expected s3://bucket/prefix\)"),
        ("sqlite:///tmp/c.sqlite", "s3:///prefix", "no bucket"),
        ("sqlite:///tmp/c.sqlite", "gs://b/p", "unknown scheme 'gs'"),
        ("", "/tmp/d", "DuckLake catalog not set"),
        ("sqlite:///tmp/c.sqlite", "", "DuckLake data path not set"),
    ],
)
def test_bad_lake_settings_fail_in_one_line(catalog, data, says):
    with pytest.raises(LakeConfigError, match=says) as caught:
        LakeConfig.parse(catalog, data)
    assert "\n" not in str(caught.value) and "hunter2" not in str(caught.value)


def test_catalog_urls_map_to_ducklake_attach_targets(tmp_path):
    assert LakeConfig.parse("sqlite:///var/lake/c.sqlite", "/d").attach_target() == "ducklake:sqlite:/var/lake/c.sqlite"
    relative = LakeConfig.parse("sqlite:lake/c.sqlite", "d")
    assert relative.attach_target() == f"ducklake:sqlite:{Path.cwd() / 'lake/c.sqlite'}"
    assert relative.data == f"{Path.cwd() / 'd'}/"
    pg = LakeConfig.parse("postgresql://drift@db.internal:5433/lake?sslmode=require", "s3://b/p")
    assert pg.attach_target() == "ducklake:postgres:dbname=lake host=db.internal port=5433 user=drift sslmode=require"
    assert (pg.bucket, pg.data) == ("b", "s3://b/p/")


def test_an_unreachable_catalog_or_a_lake_never_written_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "not-shown")
    closed = LakeConfig.parse("postgresql://drift@127.0.0.1:1/lake", str(tmp_path / "data"))
    with pytest.raises(LakeUnavailable, match=r"catalog postgresql://drift@127.0.0.1:1/lake could not be opened.*"):
        LakeStore(closed).days("repo_inventory")
    missing = LakeConfig.parse(f"sqlite:///{tmp_path}/none.sqlite", str(tmp_path / "data"))
    with pytest.raises(LakeUnavailable, match="no DuckLake catalog at .*none.sqlite") as caught:
        LakeStore(missing, read_only=True).days("repo_inventory")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "none.sqlite").exists()
    on_s3 = LakeConfig.parse(f"sqlite:///{tmp_path}/c.sqlite", "s3://b/p")
    with pytest.raises(LakeConfigError, match="is on S3, but no S3 access is configured"):
        LakeStore(on_s3).days("repo_inventory")
    quoted = replace(on_s3, s3=S3Access(region="us-east-1", key_id="k'x", secret="s'); SELECT 'leak"))
    with LakeStore(quoted) as store:  # quotes in a credential are escaped, never break the statement
        assert store.days("repo_inventory") == []
        assert store.rows("SELECT count(*) AS n FROM duckdb_secrets() WHERE name = 'drift_lake_s3'") == [{"n": 1}]


def test_the_profile_is_chosen_from_the_environment(tmp_path):
    default = store_from_env({"DRIFT_DB_PATH": str(tmp_path / "x.duckdb")})
    assert (default.backend, default.database) == ("duckdb", str(tmp_path / "x.duckdb"))
    assert isinstance(default.store(), DriftStore) and not isinstance(default.store(), LakeStore)
    lake = store_from_env(
        {
            "DRIFT_STORE": "ducklake",
            "DRIFT_LAKE_CATALOG": f"sqlite:///{tmp_path}/c.sqlite",
            "DRIFT_LAKE_DATA": "s3://bucket/drift",
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
            "AWS_REGION": "eu-west-2",
        }
    )
    assert (lake.backend, lake.lake_data) == ("ducklake", "s3://bucket/drift")
    assert lake.s3 is not None and (lake.s3.endpoint_url, lake.s3.region_name) == ("http://127.0.0.1:9", "eu-west-2")
    local = store_from_env({"DRIFT_STORE": "ducklake", "DRIFT_LAKE_CATALOG": "sqlite:c", "DRIFT_LAKE_DATA": "d"})
    assert local.s3 is None
    with pytest.raises(LakeConfigError, match=r"DRIFT_STORE='iceberg': expected duckdb \(the default\) or ducklake"):
        store_from_env({"DRIFT_STORE": "iceberg"})
    with pytest.raises(LakeConfigError, match="DuckLake data path 'ftp://x': unknown scheme 'ftp'"):
        store_from_env({"DRIFT_STORE": "ducklake", "DRIFT_LAKE_CATALOG": "sqlite:c", "DRIFT_LAKE_DATA": "ftp://x"})
