"""A private PostgreSQL cluster for tests: Debian's server binaries, a temp dir, loopback only.

``private_postgres()`` initdb's a cluster in a fresh temp dir, starts it with ``pg_ctl`` on
127.0.0.1 and a free port (password authentication, a superuser ``drift``), yields a
:class:`PostgresServer` and stops and removes everything at the end. initdb refuses to run as
root, so as root the cluster is owned and run by the ``postgres`` OS user (``runuser``). Where that
is impossible (no binaries: ``make postgres`` installs them; root without a ``postgres`` user),
:func:`unavailable` says why and the fixtures skip with that reason.

Use the ``postgres`` fixture (one cluster per test module) or the context manager directly::

    from drift_pipeline_tests.pg import postgres  # noqa: F401  (the fixture)

    def test_x(postgres): ...
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drift_pipeline_tests.ports import free_port

SUPERUSER = "drift"
RUN_AS = "postgres"  # the OS user that owns the cluster when the tests run as root


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    data_dir: Path

    def url(self, database: str | None = None, scheme: str = "postgresql+psycopg2") -> str:
        """A SQLAlchemy URL (``postgresql+psycopg2``: dagster-postgres with SQLAlchemy 2 needs the driver named)."""
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{database or self.database}"

    def dsn(self, database: str | None = None) -> str:
        """A libpq connection string (psycopg2, DuckDB's postgres extension)."""
        return (
            f"host={self.host} port={self.port} user={self.user} password={self.password} "
            f"dbname={database or self.database}"
        )

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (owned by the superuser) and return its name."""
        import psycopg2

        con = psycopg2.connect(self.dsn())
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return name


def pg_env(server: PostgresServer) -> dict[str, str]:
    """The environment the Dagster instance profile deploy/postgres/dagster.yaml reads."""
    return {
        "DAGSTER_PG_HOST": server.host,
        "DAGSTER_PG_PORT": str(server.port),
        "DAGSTER_PG_USERNAME": server.user,
        "DAGSTER_PG_PASSWORD": server.password,
        "DAGSTER_PG_DB": server.database,
    }


def bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def _run_as() -> str | None:
    """The OS user to run the server as (None: the current user), or raise LookupError."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        raise LookupError(f"tests run as root, initdb refuses root, and there is no {RUN_AS!r} OS user") from None
    if not shutil.which("runuser"):
        raise LookupError("tests run as root, initdb refuses root, and runuser is missing")
    return RUN_AS


def unavailable() -> str | None:
    """Why a private cluster cannot be started here, or None when it can."""
    if bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found; `make postgres` installs them"
    try:
        _run_as()
    except LookupError as exc:
        return str(exc)
    return None


def _cmd(user: str | None, *args: str | Path) -> list[str]:
    argv = [str(a) for a in args]
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _check(proc: subprocess.CompletedProcess[str], what: str, log: Path | None = None) -> None:
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {proc.stdout}{proc.stderr}{tail}")


@contextlib.contextmanager
def private_postgres(database: str = "drift") -> Iterator[PostgresServer]:
    """Start a throwaway cluster on 127.0.0.1 with database ``database``; stop and delete it afterwards."""
    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    binaries, user = bin_dir(), _run_as()
    assert binaries is not None
    root = Path(tempfile.mkdtemp(prefix="drift-pg-"))
    data = root / "data"
    password = secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    started = False
    try:
        _check(
            subprocess.run(
                _cmd(
                    user,
                    binaries / "initdb",
                    "-D",
                    data,
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    pwfile,
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-sync",
                ),
                capture_output=True,
                text=True,
                check=False,
            ),
            "initdb",
        )
        log = root / "server.log"
        for _attempt in range(3):  # a free port can be taken between probing and listening: try another
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
            )
            proc = subprocess.run(
                _cmd(user, binaries / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "30", "start"),
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode == 0:
                started = True
                break
        _check(proc, "pg_ctl start", log)
        server = PostgresServer("127.0.0.1", port, SUPERUSER, password, "postgres", data)
        if database != "postgres":
            server.create_database(database)
        yield PostgresServer("127.0.0.1", port, SUPERUSER, password, database, data)
    finally:
        if started:
            subprocess.run(
                _cmd(user, binaries / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """One private cluster per test module (skipped, with the reason, where none can be started)."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with private_postgres() as server:
        yield server
