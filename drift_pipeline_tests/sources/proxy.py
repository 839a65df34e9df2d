"""A small HTTP proxy for the bounds tests (ThreadingHTTPServer in a thread): a forward proxy for
``http://`` URLs and a CONNECT tunnel for ``https://`` ones, recording every request line it got;
``connect_trickle`` makes it send its own CONNECT answer one byte at a time (a slow proxy).
Also a self-signed certificate for a TLS :func:`~hostile.hostile_api` on 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import select
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Proxy:
    url: str
    seen: list[str]  # request lines: "GET http://host:port/path", "CONNECT host:port"


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways between ``a`` and ``b`` until either side closes or fails."""
    try:
        while True:
            ready, _, _ = select.select([a, b], [], [], 1.0)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
    except OSError:
        return


@contextmanager
def forward_proxy(connect_trickle: float | None = None) -> Iterator[Proxy]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            seen.append(f"{self.command} {self.path}")
            parts = urllib.parse.urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            lines = [f"{self.command} {target} HTTP/1.1"]
            lines += [f"{k}: {v}" for k, v in self.headers.items() if "connection" not in k.lower()]
            head = "\r\n".join([*lines, "Connection: close", "", ""]).encode("latin-1")
            with socket.create_connection((parts.hostname, parts.port or 80)) as upstream:
                upstream.sendall(head + body)
                _splice(upstream, self.connection)
            self.close_connection = True

        def do_CONNECT(self) -> None:
            seen.append(f"CONNECT {self.path}")
            host, port = self.path.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                answer = b"HTTP/1.1 200 Connection established\r\n\r\n"
                try:
                    for i in range(len(answer)) if connect_trickle else ():
                        self.connection.sendall(answer[i : i + 1])
                        time.sleep(connect_trickle or 0)
                    if not connect_trickle:
                        self.connection.sendall(answer)
                except OSError:
                    return
                _splice(upstream, self.connection)
            self.close_connection = True

        do_GET = do_POST = do_PATCH = _forward

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Proxy(f"http://127.0.0.1:{httpd.server_address[1]}", seen)
    finally:
        httpd.shutdown()
        httpd.server_close()


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the certificate file a client trusts it by."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file
