"""ECR images pulled through the registry API and scanned, against moto over HTTP.

moto stores manifests (PutImage / BatchGetImage) but lacks GetDownloadUrlForLayer, so a small
loopback proxy in front of it answers only that call (by its X-Amz-Target header) with a URL on
a loopback blob server holding the layer tarballs; everything else goes to moto unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import urllib3

from opencwpp.collect.aws.session import AwsContext
from opencwpp.findings import FindingFilter, load_findings
from opencwpp.lake import Lake
from opencwpp.vuln.cloud.ecr_scan import scan_ecr
from opencwpp.vuln.osv.importer import detect_and_import
from tests.data.vuln.builders import tar_bytes

REGION = "sa-east-1"  # no other test of the shared moto server uses it
ACCOUNT = "123456789012"
LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SITE = "usr/lib/python3/dist-packages"


def _meta(version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: Django\nVersion: {version}\n".encode()


BASE = gzip.compress(
    tar_bytes(
        {
            "etc/os-release": b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n',
            "var/lib/dpkg/status": b"",
        }
    )
)
DJANGO_OLD = gzip.compress(tar_bytes({f"{SITE}/Django-3.2.0.dist-info/METADATA": _meta("3.2.0")}))
# The fix as a later layer: a whiteout deletes the old dist-info, the new one is added.
DJANGO_FIX = gzip.compress(
    tar_bytes(
        {
            f"{SITE}/.wh.Django-3.2.0.dist-info": b"",
            f"{SITE}/Django-3.2.5.dist-info/METADATA": _meta("3.2.5"),
        }
    )
)
# A scratch-style image: a dpkg database copied in, no /etc/os-release to say which Debian.
NO_OS = gzip.compress(
    tar_bytes(
        {
            "var/lib/dpkg/status": b"Package: zlib1g\nStatus: install ok installed\n"
            b"Version: 1:1.2.13.dfsg-1\nArchitecture: amd64\n\n"
        }
    )
)
MISMATCH = gzip.compress(tar_bytes({"app/a.txt": b"served bytes differ"}))
TRUNCATED = gzip.compress(tar_bytes({f"{SITE}/Django-3.1.0.dist-info/METADATA": _meta("3.1.0")}))


def sha(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class Blobs:
    """The blob server's content: digest -> bytes, plus the ways a download goes wrong."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.corrupt: set[str] = set()
        self.truncated: set[str] = set()


def _blob_server(blobs: Blobs) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            digest = self.path.rsplit("/", 1)[-1]
            body = blobs.data.get(digest)
            if body is None:
                self.send_error(404)
                return
            if digest in blobs.corrupt:
                body = body[:-8] + b"XXXXXXXX"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # A truncated layer: the connection ends half way through the declared length.
            self.wfile.write(body[: len(body) // 2] if digest in blobs.truncated else body)
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _proxy(moto: str, blob_url: str) -> ThreadingHTTPServer:
    target = urlsplit(moto)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if str(self.headers.get("X-Amz-Target", "")).endswith(".GetDownloadUrlForLayer"):
                digest = json.loads(body)["layerDigest"]
                out = json.dumps(
                    {"downloadUrl": f"{blob_url}/v2/blobs/{digest}", "layerDigest": digest}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                return
            conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay

        def log_message(self, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _serve(server: ThreadingHTTPServer) -> str:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def _manifest(layers: list[bytes], oci: bool = False) -> str:
    config = b'{"architecture":"amd64","os":"linux"}'
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": (
                "application/vnd.oci.image.manifest.v1+json"
                if oci
                else "application/vnd.docker.distribution.manifest.v2+json"
            ),
            "config": {
                "mediaType": (
                    "application/vnd.oci.image.config.v1+json"
                    if oci
                    else "application/vnd.docker.container.image.v1+json"
                ),
                "digest": sha(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": OCI_LAYER if oci else LAYER, "digest": sha(x), "size": len(x)}
                for x in layers
            ],
        }
    )


@pytest.fixture(scope="module")
def registry(moto_endpoint: str) -> Iterator[dict[str, Any]]:
    """Repositories and images in moto; the proxy URL to give the scanner."""
    blobs = Blobs()
    for layer in (BASE, DJANGO_OLD, DJANGO_FIX, MISMATCH, TRUNCATED, NO_OS):
        blobs.data[sha(layer)] = layer
    blobs.corrupt.add(sha(MISMATCH))
    blobs.truncated.add(sha(TRUNCATED))
    blob_server = _blob_server(blobs)
    proxy = _proxy(moto_endpoint, _serve(blob_server))
    proxy_url = _serve(proxy)
    ecr = boto3.Session(region_name=REGION).client("ecr", endpoint_url=moto_endpoint)
    digests: dict[str, str] = {}

    def put(repo: str, tag: str | None, manifest: str, media: str | None = None) -> str:
        args: dict[str, Any] = {"repositoryName": repo, "imageManifest": manifest}
        args["imageDigest"] = sha(manifest)
        if tag:
            args["imageTag"] = tag
        if media:
            args["imageManifestMediaType"] = media
        ecr.put_image(**args)
        return sha(manifest)

    for repo in ("cwpp/app", "cwpp/multi", "cwpp/broken", "cwpp/noos"):
        ecr.create_repository(repositoryName=repo)
    digests["app:v1"] = put("cwpp/app", "v1", _manifest([BASE, DJANGO_OLD]))
    digests["app:v2"] = put("cwpp/app", "v2", _manifest([BASE, DJANGO_OLD, DJANGO_FIX], oci=True))
    amd64 = put("cwpp/multi", None, _manifest([BASE, DJANGO_OLD], oci=True))
    arm64 = put("cwpp/multi", None, _manifest([BASE], oci=True))
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": d,
                    "size": 1,
                    "platform": {"os": "linux", "architecture": arch},
                }
                for d, arch in ((arm64, "arm64"), (amd64, "amd64"))
            ],
        }
    )
    digests["multi:latest"] = put("cwpp/multi", "latest", index)
    digests["multi:amd64"], digests["multi:arm64"] = amd64, arm64
    digests["broken:mismatch"] = put("cwpp/broken", "mismatch", _manifest([BASE, MISMATCH]))
    digests["noos:latest"] = put("cwpp/noos", "latest", _manifest([NO_OS]))
    digests["broken:truncated"] = put("cwpp/broken", "truncated", _manifest([TRUNCATED]))
    # ECR's own scan of app:v1: basic findings, one of which our scan also finds.
    ecr.start_image_scan(repositoryName="cwpp/app", imageId={"imageDigest": digests["app:v1"]})
    native = {
        "registryId": ACCOUNT,
        "repositoryName": "cwpp/app",
        "imageId": {"imageDigest": digests["app:v1"]},
        "imageScanStatus": {"status": "COMPLETE", "description": "done"},
        "imageScanFindings": {
            "findings": [
                {
                    "name": "CVE-2099-1",
                    "severity": "MEDIUM",
                    "attributes": [
                        {"key": "package_name", "value": "django"},
                        {"key": "package_version", "value": "3.2.0"},
                    ],
                },
                {
                    "name": "CVE-2099-777",
                    "severity": "HIGH",
                    "uri": "https://example.invalid/CVE-2099-777",
                    "attributes": [
                        {"key": "package_name", "value": "<script>x</script>"},
                        {"key": "package_version", "value": "1.0"},
                        {
                            "key": "CVSS3_VECTOR",
                            "value": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        },
                    ],
                },
            ],
        },
    }
    http_ = urllib3.PoolManager()
    answer = http_.request(
        "POST",
        f"{moto_endpoint}/moto-api/static/ecr/scan-finding-results",
        body=json.dumps({"results": [native], "region": REGION}),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status in (200, 201), answer.data
    yield {"proxy": proxy_url, "digests": digests}
    proxy.shutdown()
    blob_server.shutdown()


def _fixtures(root: Path) -> Path:
    osv = root / "osv"
    osv.mkdir(parents=True, exist_ok=True)
    record = {
        "id": "PYSEC-2099-1",
        "modified": "2024-01-01T00:00:00Z",
        "aliases": ["CVE-2099-1"],
        "summary": "SQL injection",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "django"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"fixed": "3.2.5"}]}
                ],
            }
        ],
    }
    (osv / "PYSEC-2099-1.json").write_text(json.dumps(record))
    return osv


def _arn(repo: str) -> str:
    return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repo}"


def test_ecr_images_pulled_scanned_and_keyed(
    lake: Lake, registry: dict[str, Any], tmp_path: Path
) -> None:
    detect_and_import(lake, _fixtures(tmp_path))
    ctx = AwsContext.create(endpoint_url=registry["proxy"])
    result = scan_ecr(lake, ctx, [REGION], images_per_repository=5)
    d = registry["digests"]
    by = {s.image.uid: s for s in result.images}
    uid = {k: f"{_arn('cwpp/' + k.split(':')[0])}@{v}" for k, v in d.items()}
    assert set(by) == set(uid.values())
    # v1: Django 3.2.0 found by us (ECR agrees) and one finding ECR alone reports.
    v1 = by[uid["app:v1"]]
    assert v1.error is None and v1.packages == 1
    ours = [f for f in v1.findings if "source" not in f.evidence]
    assert [(f.check_id, f.resource.uid) for f in ours] == [
        ("CVE-2099-1", f"{uid['app:v1']}#PyPI/Django")
    ]
    assert ours[0].evidence["also_reported_by"] == ["ecr-basic-scan"]
    assert ours[0].evidence["resource"]["digest"] == d["app:v1"]
    assert ours[0].evidence["resource"]["tags"] == ["v1"]
    assert ours[0].evidence["package"]["layers"] == [sha(DJANGO_OLD)]
    assert ours[0].resource.region == REGION and ours[0].resource.account_id == ACCOUNT
    native = [f for f in v1.findings if "source" in f.evidence]
    assert [(f.check_id, f.evidence["source"], f.severity.value) for f in native] == [
        ("CVE-2099-777", "ecr-basic-scan", "critical")
    ]
    assert native[0].resource.uid == f"{uid['app:v1']}#ecr:ecr/<script>x</script>"
    assert "ECR scan COMPLETE: 2 findings" in v1.native
    # v2: the later layer's whiteout removed 3.2.0; 3.2.5 is not affected.
    v2 = by[uid["app:v2"]]
    assert v2.error is None and v2.packages == 1 and v2.findings == []
    assert "not scanned" in v2.native
    # The index resolves to linux/amd64 (which ships 3.2.0), not arm64 (which has no Django).
    multi = by[uid["multi:latest"]]
    assert multi.error is None and [f.check_id for f in multi.findings] == ["CVE-2099-1"]
    assert multi.findings[0].evidence["resource"]["platform"] == "linux/amd64"
    assert by[uid["multi:arm64"]].findings == []
    # Bad layers: a clear per-image error, the rest went on.
    mismatch = by[uid["broken:mismatch"]]
    assert mismatch.error and f"layer {sha(MISMATCH)}: digest mismatch" in mismatch.error
    truncated = by[uid["broken:truncated"]]
    assert truncated.error and sha(TRUNCATED) in truncated.error
    assert "interrupted" in truncated.error or "truncated" in truncated.error
    assert not mismatch.findings and not truncated.findings
    # OS packages that no advisory source covers are a finding, not a clean bill of health;
    # an image whose OS is known (app:v2, Debian 12 without EOL data loaded) has none.
    noos = by[uid["noos:latest"]]
    assert [(f.check_id, f.resource.uid) for f in noos.findings] == [
        ("os-no-advisory-source", f"{uid['noos:latest']}#os")
    ]
    assert noos.findings[0].resource.name.startswith("operating system in cwpp/noos:latest@")
    assert "1 OS packages" in noos.findings[0].status_reason
    assert "X-Amz" not in (mismatch.error + truncated.error)
    stored = {
        s.finding.resource.uid: s.lifecycle
        for s in load_findings(lake, FindingFilter(pillars=("vulnerability",)))
    }
    assert stored[f"{uid['app:v1']}#PyPI/Django"] == "NEW"
    assert stored[f"{uid['multi:latest']}#PyPI/Django"] == "NEW"
    rows = lake.query("SELECT DISTINCT resource_uid FROM cwpp_packages ORDER BY resource_uid")
    assert uid["app:v1"] in {r["resource_uid"] for r in rows}
    # A second run: the same findings stay open, none duplicated.
    again = scan_ecr(lake, ctx, [REGION], images_per_repository=5)
    assert len(again.findings) == len(result.findings)
    stored = {
        s.finding.resource.uid: s.lifecycle
        for s in load_findings(lake, FindingFilter(pillars=("vulnerability",)))
    }
    assert stored[f"{uid['app:v1']}#PyPI/Django"] == "OPEN"


def test_ecr_most_recent_only_and_plain_http_refused(
    lake: Lake, registry: dict[str, Any], tmp_path: Path
) -> None:
    detect_and_import(lake, _fixtures(tmp_path))
    ctx = AwsContext.create(endpoint_url=registry["proxy"])
    result = scan_ecr(lake, ctx, [REGION], images_per_repository=1)
    assert len({s.image.repository.name for s in result.images}) == 4
    assert len(result.images) == 4
    # Without an emulator endpoint, a loopback (plain HTTP) layer URL is refused.
    from opencwpp.vuln.cloud.ecr_registry import ImageError, layer_url_ok

    with pytest.raises(ImageError, match=r"not an https AWS URL \(http://127.0.0.1\)"):
        layer_url_ok("http://127.0.0.1:1/v2/blobs/x?X-Amz-Signature=secret", emulator=False)
