"""The AWS half of the sandbox: a moto server with three accounts, reached by assume-role.

``AwsSandbox`` runs moto in-process (``ThreadedMotoServer`` on 127.0.0.1, a free port by default)
and reaches each account exactly the way the product does: ``session(env)`` calls
``sources.aws.account_session`` against the server with dummy base credentials. moto keeps state
per account (the account of the assumed role), so ``dev``, ``staging`` and ``prod`` never see
each other's resources.

For the demo the same server runs as its own process::

    python -m drift_pipeline.sandbox.aws --port 5055     # prints the URL, stays up until SIGTERM

Facts about moto this module relies on (moto 5.2.5):
- ``POST /moto-api/reset`` clears *all* state, STS's issued credentials included: a session made
  before ``reset()`` silently falls back to moto's default account (123456789012). Ask
  ``session(env)`` again after a reset.
- The ``MOTO_ACCOUNT_ID`` environment variable overrides the assumed role's account for every
  request, which would fold the three accounts into one; ``start()`` refuses to run with it set.
- moto does not check that the role exists or trusts the caller: any role ARN can be assumed.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, TextIO

import boto3
from botocore.config import Config

from drift_pipeline.core.redaction import redact
from drift_pipeline.sources.aws import (
    DEFAULT_ACCOUNTS,
    DEFAULT_REGION,
    DEFAULT_ROLE,
    AccountSession,
    account_session,
    new_botocore_session,
)

# moto accepts any credentials; these exist only on the sessions built here.
DUMMY_ACCESS_KEY_ID = "sandbox"
DUMMY_SECRET_ACCESS_KEY = "sandbox"
RESET_ATTEMPTS = 3


class AwsSandbox:
    """An in-process moto server plus the per-account sessions the product would use.

    Use as a context manager, or call ``start()`` / ``stop()``. ``url`` is the endpoint to give
    boto3 (or the product's AWS resource); ``accounts`` maps env name to account id.
    """

    def __init__(
        self,
        *,
        accounts: Mapping[str, str] | None = None,
        region: str = DEFAULT_REGION,
        role_name: str = DEFAULT_ROLE,
        host: str = "127.0.0.1",
        port: int = 0,
        client_config: Config | None = None,
    ) -> None:
        self.accounts: dict[str, str] = dict(accounts or DEFAULT_ACCOUNTS)
        self.region = region
        self.role_name = role_name
        self.host = host
        self.port = port
        self.client_config = client_config
        self._server: Any = None
        self._url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> AwsSandbox:
        if self._server is not None:
            return self
        if os.environ.get("MOTO_ACCOUNT_ID"):
            raise RuntimeError(
                "MOTO_ACCOUNT_ID is set: moto would put every account's state in that one "
                "account. Unset it to run the AWS sandbox."
            )
        from moto.server import ThreadedMotoServer  # heavy import: only when started

        if self.port:  # moto binds in its thread, and a taken port would leave start() waiting forever
            with socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((self.host, self.port))
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            self._url = None

    def __enter__(self) -> AwsSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the AWS sandbox is not running: call start() first")
        return self._url

    def reset(self) -> None:
        """Clear all state in every account. Sessions made earlier are invalid afterwards.

        Runs what ``POST /moto-api/reset`` runs, in this process, where the server is: moto's
        backends are process-wide (every in-process server shares them), and over HTTP a failure
        is a bare 500 whose cause stays in the server thread (CI saw one on a fresh server,
        2026-12-07, not reproduced here). Called directly, a failure raises its own exception.
        moto iterates its registry of backends while resetting, and a request still finishing on
        another in-process server (a stopped server lets in-flight requests run to the end) can
        grow it mid-iteration (``RuntimeError``): the reset is idempotent and is tried again, at
        most ``RESET_ATTEMPTS`` times.
        """
        if self._server is None:
            raise RuntimeError("the AWS sandbox is not running: call start() first")
        from moto.moto_api._internal.models import moto_api_backend

        for attempt in range(1, RESET_ATTEMPTS + 1):
            try:
                moto_api_backend.reset()
                return
            except RuntimeError:
                if attempt == RESET_ATTEMPTS:
                    raise
                time.sleep(0.1 * attempt)

    # -- reaching accounts -------------------------------------------------------------------

    def base_session(self) -> boto3.Session:
        """The caller's own identity: dummy keys, only valid against this server."""
        return boto3.Session(
            botocore_session=new_botocore_session(),
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
            region_name=self.region,
        )

    def account_id(self, env: str) -> str:
        try:
            return self.accounts[env]
        except KeyError:
            known = ", ".join(sorted(self.accounts))
            raise KeyError(f"no AWS account for env {env!r} (known: {known})") from None

    def session(self, env: str) -> AccountSession:
        """A fresh session in ``env``'s account, by assume-role, as the product reaches it."""
        return self.account_session(self.account_id(env))

    def account_session(self, account_id: str) -> AccountSession:
        return account_session(
            account_id,
            role_name=self.role_name,
            endpoint_url=self.url,
            region=self.region,
            base_session=self.base_session(),
            client_config=self.client_config,
        )


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    accounts: Mapping[str, str] | None = None,
    ready_file: str | None = None,
    out: TextIO | None = None,
) -> None:
    """Run the AWS sandbox until SIGTERM or SIGINT: the body of ``python -m``.

    Prints ``AWS sandbox: <url>`` (and the accounts) on one line each, flushed, so a parent
    process can read the URL; with ``ready_file`` the URL is also written there.
    """
    out = out or sys.stdout
    # The server process may be driven by tools that read the default chain; give them dummy
    # credentials. Only here, never on import or in-process.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID)
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY)
    os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)

    stopping = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    with AwsSandbox(accounts=accounts, host=host, port=port) as sandbox:
        print(f"AWS sandbox: {sandbox.url}", file=out, flush=True)
        for env, account in sandbox.accounts.items():
            print(f"  {env}: {account} (role {sandbox.role_name})", file=out, flush=True)
        if ready_file:
            with open(ready_file, "w", encoding="utf-8") as fh:
                fh.write(sandbox.url + "\n")
        while not stopping.wait(0.5):
            pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drift_pipeline.sandbox.aws",
        description="Run the AWS sandbox (moto) with three accounts until SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="ENV=ID",
        help="env=account id (repeatable); default dev, staging, prod",
    )
    parser.add_argument("--ready-file", help="write the URL to this file once serving")
    args = parser.parse_args(argv)
    accounts = None
    if args.account:
        try:
            accounts = dict(item.split("=", 1) for item in args.account)
        except ValueError:
            parser.error("--account takes ENV=ACCOUNT_ID")
    try:
        serve(host=args.host, port=args.port, accounts=accounts, ready_file=args.ready_file)
    except (OSError, RuntimeError) as exc:  # port taken, address not ours, MOTO_ACCOUNT_ID set
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(f"{parser.prog}: cannot serve on {args.host}:{args.port}: {redact(detail)}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
