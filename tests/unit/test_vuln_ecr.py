"""Pure parts of the ECR scanner: image selection, manifests, URLs, blobs, ECR's own findings."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opencwpp.vuln.cloud.ecr_native import BASIC, ENHANCED, parse_basic, parse_enhanced
from opencwpp.vuln.cloud.ecr_registry import (
    ImageError,
    Layer,
    Repository,
    image_layers,
    layer_url_ok,
    parse_manifest,
    pick_platform,
    recent_images,
    verify_blob,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
REPO = Repository("app", "arn:aws:ecr:eu-west-1:1:repository/app", "u", "1", "eu-west-1")


def _item(digest: str, days: int, tags: list[str]) -> dict[str, object]:
    return {"imageDigest": digest, "imagePushedAt": NOW - timedelta(days=days), "imageTags": tags}


def test_recent_images_newest_first_and_bounded_by_age() -> None:
    items = [_item(f"sha256:{i}", i * 10, [f"v{i}"]) for i in range(6)]
    chosen = recent_images(items, REPO, 3, 90, NOW)
    assert [i.digest for i in chosen] == ["sha256:0", "sha256:1", "sha256:2"]
    assert chosen[0].uid == "arn:aws:ecr:eu-west-1:1:repository/app@sha256:0"
    assert [i.digest for i in recent_images(items, REPO, 10, 25, NOW)] == [
        "sha256:0",
        "sha256:1",
        "sha256:2",
    ]
    assert len(recent_images(items, REPO, 10, None, NOW)) == 6
    assert recent_images(items, REPO, 0, None, NOW) == []


def test_index_picks_linux_amd64_and_never_attestations() -> None:
    index = {
        "manifests": [
            {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
            {"digest": "sha256:arm", "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
        ]
    }
    assert pick_platform(index, "x") == ("sha256:amd", "linux/amd64")
    only_arm = {"manifests": index["manifests"][:2]}
    assert pick_platform(only_arm, "x") == ("sha256:arm", "linux/arm64")
    with pytest.raises(ImageError, match="no linux image"):
        pick_platform({"manifests": index["manifests"][:1]}, "x")


def test_manifests_refused_with_reasons() -> None:
    with pytest.raises(ImageError, match="schema 1"):
        parse_manifest(json.dumps({"schemaVersion": 1}), "", "img")
    with pytest.raises(ImageError, match="not valid JSON"):
        parse_manifest("{", "", "img")
    helm = {"config": {"mediaType": "application/vnd.cncf.helm.config.v1+json"}, "layers": []}
    with pytest.raises(ImageError, match="not a container image"):
        image_layers(helm, "img")
    foreign = {"layers": [{"digest": "sha256:x", "mediaType": "a.foreign.diff.tar.gzip"}]}
    with pytest.raises(ImageError, match="foreign"):
        image_layers(foreign, "img")


def test_layer_urls_https_aws_or_loopback_with_an_emulator() -> None:
    aws = "https://prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com/x?sig=1"
    assert layer_url_ok(aws, emulator=False) == aws
    assert layer_url_ok("http://127.0.0.1:9/b", emulator=True) == "http://127.0.0.1:9/b"
    for bad, emulator in (
        ("http://127.0.0.1:9/blob-path?X-Amz-Signature=s", False),
        ("http://bucket.s3.amazonaws.com/blob-path", True),
        ("https://evil.example/blob-path", True),
        ("file:///etc/passwd", True),
    ):
        with pytest.raises(ImageError, match="refused") as err:
            layer_url_ok(bad, emulator=emulator)
        assert "Signature" not in str(err.value) and "blob-path" not in str(err.value)


def test_blob_checked_for_size_and_digest(tmp_path: Path) -> None:
    data = b"layer bytes"
    blob = tmp_path / "b"
    blob.write_bytes(data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    verify_blob(blob, Layer(digest, len(data), ""))
    with pytest.raises(ImageError, match="truncated"):
        verify_blob(blob, Layer(digest, len(data) + 5, ""))
    with pytest.raises(ImageError, match="digest mismatch"):
        verify_blob(blob, Layer("sha256:" + "0" * 64, None, ""))


def test_ecr_findings_parsed() -> None:
    basic = parse_basic(
        {
            "name": "CVE-2024-1",
            "severity": "HIGH",
            "attributes": [
                {"key": "package_name", "value": "openssl"},
                {"key": "package_version", "value": "3.0.1"},
                {"key": "CVSS3_VECTOR", "value": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
            ],
        }
    )
    assert (basic.vuln_id, basic.package, basic.version, basic.source) == (
        "CVE-2024-1",
        "openssl",
        "3.0.1",
        BASIC,
    )
    assert basic.cvss[0]["score"] == 9.8
    enhanced = parse_enhanced(
        {
            "severity": "CRITICAL",
            "title": "CVE-2024-2 - requests",
            "packageVulnerabilityDetails": {
                "vulnerabilityId": "CVE-2024-2",
                "cvss": [
                    {
                        "version": "3.1",
                        "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                        "baseScore": 7.5,
                    }
                ],
                "vulnerablePackages": [
                    {
                        "name": "requests",
                        "version": "2.0.0",
                        "packageManager": "PYTHONPKG",
                        "fixedInVersion": "2.31.0",
                        "filePath": "app/requirements.txt",
                    }
                ],
            },
        }
    )
    assert [(n.vuln_id, n.package, n.fixed, n.ecosystem, n.source) for n in enhanced] == [
        ("CVE-2024-2", "requests", ["2.31.0"], "PYTHONPKG", ENHANCED)
    ]
