"""Slack's Web API played on this machine, at the HTTP boundary.

ZenML's Slack alerter calls ``https://slack.com/api/...`` through ``slack_sdk``. The client honours
``HTTPS_PROXY`` and trusts the certificates in ``SSL_CERT_FILE``, as any client built on Python's
``ssl`` does; so the fake is an HTTPS proxy that answers ``CONNECT slack.com:443`` itself, with a
certificate made for slack.com here, and records every API call it is sent. Nothing reaches the
network.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

HOST = "slack.com"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for slack.com (its own authority) and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "slack.pem", folder / "slack.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Call:
    method: str  # the API method: chat.postMessage, auth.test...
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class SlackFake:
    """The proxy's address, its certificate, and the calls Slack received."""

    port: int
    cert: Path
    calls: list[Call] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [str(c.body.get("text", "")) for c in self.calls if c.method == "chat.postMessage"]


def _answer(method: str, body: dict[str, Any]) -> dict[str, Any]:
    if method == "auth.test":
        return {"ok": True, "url": "https://zenbatch.slack.com/", "team": "zenbatch", "user": "bot", "user_id": "U1"}
    if method == "conversations.info":
        return {"ok": True, "channel": {"id": body.get("channel", "C1"), "name": "batch-jobs"}}
    if method == "chat.postMessage":
        return {"ok": True, "channel": body.get("channel", "C1"), "ts": "1700000000.000100"}
    return {"ok": False, "error": "unknown_method"}


def start(folder: Path) -> tuple[SlackFake, socketserver.ThreadingTCPServer]:
    """Start the proxy on a free port; stop it with ``server.shutdown()``."""
    cert, key = make_certificate(folder)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    fake = SlackFake(port=0, cert=cert)

    class Proxy(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request = self.rfile.readline().decode("latin-1")
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            if not request.startswith(f"CONNECT {HOST}:443"):
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            with tls.wrap_socket(self.connection, server_side=True) as conn:
                reader = conn.makefile("rb")
                line = reader.readline().decode()
                headers: dict[str, str] = {}
                while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                raw = reader.read(int(headers.get("content-length", "0")))
                method = line.split()[1].rsplit("/", 1)[-1]
                kind = headers.get("content-type", "")
                body = json.loads(raw or b"{}") if "json" in kind else {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                fake.calls.append(Call(method, headers, body))
                payload = json.dumps(_answer(method, body)).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                             + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)  # fmt: skip
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    fake.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
