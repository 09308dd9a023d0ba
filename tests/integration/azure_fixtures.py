"""Azure test fixtures: an ARM replay server over HTTPS on loopback, and Azurite.

Azure Resource Manager has no emulator. `arm_replay` serves recorded-shape, scrubbed ARM answers
(and Microsoft Graph's, under `/v1.0/`: the context's Graph endpoint is the same server)
from `tests/data/azure/arm/` over HTTPS (a CA made for the test signs its certificate; clients
get the CA file as `connection_verify`), so the real SDK clients make real calls and azure-core
sends its bearer token as in production. It records every request, so a test can prove the
collector only sent GETs and asked for nothing the fixtures lack.

`azurite_blob` starts the pinned Azurite (`scripts/install-azurite.sh`) on a free loopback port
with a temporary workspace and no telemetry; without it the tests skip, except under CI=true.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from azure.core.credentials import AccessToken, AzureNamedKeyCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from opencwpp.collect.azure.context import AzureContext

REPO = Path(__file__).resolve().parents[2]
ARM_DATA = REPO / "tests" / "data" / "azure" / "arm"
AZURITE_BIN = REPO / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented by Microsoft).
DEV_ACCOUNT = "devstoreaccount1"
AZURITE_FLAGS = [
    "--silent",
    "--skipApiVersionCheck",
    "--disableTelemetry",
    "--disableProductStyleUrl",
]
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class FakeCredential:
    """A token credential that hands out a fixed bearer token (never contacts Entra ID)."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        """A token valid for an hour, whatever the scope."""
        self.scopes.extend(scopes)
        return AccessToken("fake-token-for-tests", int(time.time()) + 3600)


def dev_blob_credential() -> AzureNamedKeyCredential:
    """The shared key of Azurite's development account."""
    return AzureNamedKeyCredential(DEV_ACCOUNT, DEV_KEY)


@dataclass
class Seen:
    """One request the replay server received."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str


@dataclass
class ArmReplay:
    """The running replay server: its URL, CA file, what it saw, and its placeholders."""

    url: str
    ca_file: str
    requests: list[Seen] = field(default_factory=list)
    unmatched: list[Seen] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    # path -> (status, JSON body): answers that replace a route for one test.
    overrides: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def paths(self, method: str = "GET") -> list[str]:
        """The paths requested with `method`, in order."""
        return [r.path for r in self.requests if r.method == method]

    def reset(self) -> None:
        """Forgets what was seen (between syncs of one test)."""
        self.requests.clear()
        self.unmatched.clear()
        self.overrides.clear()


def _certificate(
    subject: str, issuer: str, key: Any, signer: Any, extensions: list[tuple[Any, bool]]
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(signer, hashes.SHA256())


def _certificates(folder: Path) -> tuple[str, str, str]:
    """A CA and a 127.0.0.1 server certificate it signed: (ca.pem, server.pem, server.key)."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    ca = _certificate(
        "opencwpp test CA",
        "opencwpp test CA",
        ca_key,
        ca_key,
        [(x509.BasicConstraints(ca=True, path_length=0), True), (usage, True)],
    )
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    server = _certificate(
        "127.0.0.1",
        "opencwpp test CA",
        key,
        ca_key,
        [
            (x509.SubjectAlternativeName(names), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
    )
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    plain = serialization.NoEncryption()
    pkcs8 = serialization.PrivateFormat.PKCS8
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, plain))
    return str(paths[0]), str(paths[1]), str(paths[2])


def _match(routes: list[dict[str, Any]], path: str, query: dict[str, str]) -> dict[str, Any] | None:
    """The route for a GET: same path (case-insensitive, as ARM), the most query keys agreeing."""
    best: dict[str, Any] | None = None
    for route in routes:
        if route["path"].rstrip("/").lower() != path.rstrip("/").lower():
            continue
        wanted = route.get("query") or {}
        if any(query.get(k) != v for k, v in wanted.items()):
            continue
        if best is None or len(wanted) > len(best.get("query") or {}):
            best = route
    return best


def _handler(state: ArmReplay, routes: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            parts = urlsplit(self.path)
            seen = Seen(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                self.headers.get("Authorization", ""),
            )
            state.requests.append(seen)
            override = state.overrides.get(seen.path)
            if override is not None and self.command == "GET":
                # Retry-After 0: the SDK retries server errors without sleeping.
                headers = {"Content-Type": "application/json", "Retry-After": "0"}
                self._answer(override[0], json.dumps(override[1]).encode(), headers)
                return
            route = _match(routes, seen.path, seen.query) if self.command == "GET" else None
            if route is None:
                state.unmatched.append(seen)
                error = {"error": {"code": "NoFixture", "message": f"{seen.method} {seen.path}"}}
                self._answer(405 if self.command != "GET" else 404, json.dumps(error).encode(), {})
                return
            text = (ARM_DATA / route["file"]).read_text()
            for key, value in state.values.items():
                text = text.replace("{{" + key + "}}", value)
            headers = {"Content-Type": "application/json; charset=utf-8"}
            headers.update(route.get("headers") or {})
            self._answer(int(route.get("status", 200)), text.encode(), headers)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    return Handler


@pytest.fixture(scope="session")
def arm_replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmReplay]:
    """The ARM replay server on https://127.0.0.1:<free port> for the session."""
    ca_file, cert, key = _certificates(tmp_path_factory.mktemp("arm-tls"))
    state = ArmReplay(url="", ca_file=ca_file)
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0),
        _handler(state, json.loads((ARM_DATA / "routes.json").read_text())["routes"]),
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.url = f"https://127.0.0.1:{server.server_address[1]}"
    state.values = {"ARM": state.url, "AZURITE_BLOB": f"{state.url}/stpublicdata-refused/"}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def arm(arm_replay: ArmReplay) -> Iterator[ArmReplay]:
    """The session's replay server with a clean request log and default placeholders."""
    arm_replay.reset()
    defaults = dict(arm_replay.values)
    yield arm_replay
    arm_replay.values = defaults
    arm_replay.reset()


@pytest.fixture
def azure_context(arm: ArmReplay) -> AzureContext:
    """A fresh Azure context on the replay server (ARM and Graph): a `FakeCredential`, the CA."""
    return AzureContext(
        FakeCredential(),
        arm_endpoint=arm.url,
        connection_verify=arm.ca_file,
        blob_credential=dev_blob_credential(),
        graph_endpoint=arm.url,
    )


@pytest.fixture(scope="session")
def azurite_blob(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's Blob service on 127.0.0.1 (free port, temp workspace): its account URL."""
    if not AZURITE_BIN.exists():
        message = f"Azurite is not installed ({AZURITE_BIN}): run scripts/install-azurite.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    workspace = tmp_path_factory.mktemp("azurite")
    log = (workspace / "azurite.out").open("w+")
    where = ["--blobHost", "127.0.0.1", "--blobPort", "0", "--location", str(workspace)]
    # Our own pinned binary with fixed arguments; telemetry off: nothing leaves loopback.
    process = subprocess.Popen(
        [str(AZURITE_BIN), *where, *AZURITE_FLAGS], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        port = _wait_for_port(workspace / "azurite.out", process)
        yield f"http://127.0.0.1:{port}/{DEV_ACCOUNT}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _wait_for_port(out: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    pattern = re.compile(r"listens on http://127\.0\.0\.1:(\d+)")
    while time.monotonic() < deadline:
        found = pattern.search(out.read_text())
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            raise RuntimeError(f"azurite exited early: {out.read_text()[-500:]}")
        time.sleep(0.1)
    raise RuntimeError(f"azurite did not start in 30 s: {out.read_text()[-500:]}")
