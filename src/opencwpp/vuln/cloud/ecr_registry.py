"""ECR images through the registry API: recent images, their manifest, and their layer blobs.

BatchGetImage returns the manifest (Docker v2 schema 2 or OCI; a manifest list / OCI index is
resolved to its linux/amd64 image), GetDownloadUrlForLayer a short-lived URL per layer blob,
which is streamed to a temporary file with a size cap and checked against its sha256 digest.
Only read calls are made; a pre-signed URL is never stored or shown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from opencwpp.collect.aws.session import AwsContext
from opencwpp.core.errors import CwppError
from opencwpp.vuln.cloud.download import DownloadError, check_aws_url, download
from opencwpp.vuln.cloud.lambda_code import api_error
from opencwpp.vuln.osv.sources import is_loopback

PERMISSIONS = (
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:DescribeImageScanFindings",
)
KIND = "AwsEcrContainerImage"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPTED = [DOCKER_MANIFEST, OCI_MANIFEST, DOCKER_LIST, OCI_INDEX]
_INDEXES = (DOCKER_LIST, OCI_INDEX)
_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1"
_IMAGE_CONFIGS = (
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.config.v1+json",
)
PLATFORM = ("linux", "amd64")
MAX_LAYER_BYTES = 4 * 1024**3  # a compressed layer; ECR itself caps a layer at 52,000 MiB
MAX_IMAGE_BYTES = 16 * 1024**3  # all compressed layers of one image
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ImageError(CwppError):
    """An image that could not be read (API refusal, unsupported manifest, bad layer)."""


@dataclass
class Repository:
    """One repository as DescribeRepositories lists it."""

    name: str
    arn: str
    uri: str
    registry_id: str
    region: str

    @classmethod
    def of(cls, item: Mapping[str, Any], region: str) -> Repository:
        """From a DescribeRepositories item."""
        return cls(
            name=str(item["repositoryName"]),
            arn=str(item["repositoryArn"]),
            uri=str(item.get("repositoryUri") or ""),
            registry_id=str(item.get("registryId") or ""),
            region=region,
        )


@dataclass
class Image:
    """One image of a repository (DescribeImages), keyed by its digest."""

    repository: Repository
    digest: str
    tags: list[str]
    pushed_at: datetime | None
    media_type: str = ""
    platform: str = ""
    layers: list[str] = field(default_factory=list)

    @property
    def uid(self) -> str:
        """`<repository ARN>@<digest>`: tags move, the digest names exactly what was scanned."""
        return f"{self.repository.arn}@{self.digest}"

    @property
    def label(self) -> str:
        """`name:tag@sha256:abcdef123456` for messages."""
        tag = f":{self.tags[0]}" if self.tags else ""
        return f"{self.repository.name}{tag}@{self.digest[:19]}"


@dataclass(frozen=True)
class Layer:
    """A layer descriptor of a manifest."""

    digest: str
    size: int | None
    media_type: str


@dataclass
class Manifest:
    """The image manifest to scan, after an index was resolved to one platform."""

    media_type: str
    layers: list[Layer]
    platform: str = ""
    config_digest: str = ""


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def recent_images(
    items: Sequence[Mapping[str, Any]],
    repository: Repository,
    count: int,
    max_age_days: int | None,
    now: datetime,
) -> list[Image]:
    """The `count` most recently pushed images, none pushed more than `max_age_days` ago."""
    oldest = now - timedelta(days=max_age_days) if max_age_days is not None else None
    images = []
    for item in items:
        pushed = _time(item.get("imagePushedAt"))
        if oldest is not None and pushed is not None and pushed < oldest:
            continue
        digest = str(item.get("imageDigest") or "")
        if not digest:
            continue
        tags = sorted(str(t) for t in item.get("imageTags") or [])
        media = str(item.get("imageManifestMediaType") or "")
        images.append(Image(repository, digest, tags, pushed, media))
    epoch = datetime.min.replace(tzinfo=UTC)
    images.sort(key=lambda i: (i.pushed_at or epoch, i.digest), reverse=True)
    return images[: max(count, 0)]


def _digest_ok(text: str, digest: str) -> bool:
    algo, _, value = digest.partition(":")
    return algo == "sha256" and hashlib.sha256(text.encode("utf-8")).hexdigest() == value


def parse_manifest(text: str, media_type: str, label: str) -> dict[str, Any]:
    """The manifest JSON (image or index); ImageError on schema 1 or anything unreadable."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ImageError(f"{label}: manifest is not valid JSON ({err})") from None
    if not isinstance(doc, dict):
        raise ImageError(f"{label}: manifest is not a JSON object")
    kind = str(doc.get("mediaType") or media_type or "")
    if kind.startswith(_SCHEMA1) or doc.get("schemaVersion") == 1:
        raise ImageError(f"{label}: Docker schema 1 manifests are not supported (deprecated)")
    doc["mediaType"] = kind or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
    return doc


def pick_platform(index: Mapping[str, Any], label: str) -> tuple[str, str]:
    """(digest, "os/arch[/variant]") of the linux/amd64 entry of an index, else the first linux.

    Attestation entries (`unknown/unknown`) are never images to scan.
    """
    entries = []
    for entry in index.get("manifests") or []:
        plat = entry.get("platform") or {}
        os_, arch = str(plat.get("os") or ""), str(plat.get("architecture") or "")
        if not entry.get("digest") or os_ in ("", "unknown"):
            continue
        name = "/".join(p for p in (os_, arch, str(plat.get("variant") or "")) if p)
        entries.append((str(entry["digest"]), name, (os_, arch) == PLATFORM, os_ == "linux"))
    for wanted in (2, 3):
        for entry in entries:
            if entry[wanted]:
                return entry[0], entry[1]
    raise ImageError(f"{label}: the manifest list has no linux image")


def image_layers(doc: Mapping[str, Any], label: str) -> list[Layer]:
    """The layer descriptors of an image manifest, in application order."""
    config = doc.get("config") or {}
    if config.get("mediaType") and config["mediaType"] not in _IMAGE_CONFIGS:
        raise ImageError(f"{label}: not a container image (config {config['mediaType']})")
    layers = []
    for item in doc.get("layers") or []:
        digest, media = str(item.get("digest") or ""), str(item.get("mediaType") or "")
        if "foreign" in media or "nondistributable" in media:
            raise ImageError(f"{label}: foreign (non-distributable) layer {digest} not fetched")
        size = item.get("size")
        layers.append(Layer(digest, int(size) if isinstance(size, int) else None, media))
    if not layers:
        raise ImageError(f"{label}: the manifest lists no layers")
    return layers


def layer_url_ok(url: str, emulator: bool) -> str:
    """The URL when it is https on AWS, or (with an emulator endpoint) on loopback.

    Raises ImageError naming only the scheme and host (the URL itself is a credential).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if emulator and parts.scheme in ("http", "https") and is_loopback(host):
        return url
    try:
        return check_aws_url(url)
    except DownloadError:
        shown = f"{parts.scheme}://{host}" if host else (parts.scheme or "no scheme")
        raise ImageError(f"layer URL refused: not an https AWS URL ({shown})") from None


def verify_blob(path: Path, layer: Layer) -> None:
    """ImageError unless the file has the descriptor's size and sha256 digest."""
    algo, _, expected = layer.digest.partition(":")
    if algo != "sha256":
        raise ImageError(f"layer {layer.digest}: unsupported digest algorithm {algo!r}")
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            sha.update(chunk)
            size += len(chunk)
    if layer.size is not None and size != layer.size:
        raise ImageError(f"layer {layer.digest}: truncated ({size} of {layer.size} bytes)")
    if sha.hexdigest() != expected:
        raise ImageError(f"layer {layer.digest}: digest mismatch (got sha256:{sha.hexdigest()})")
    with path.open("rb") as handle:
        if handle.read(4) == _ZSTD_MAGIC:
            raise ImageError(f"layer {layer.digest}: zstd-compressed layers are not supported")


@dataclass
class Registry:
    """Read calls against one region's registry, and the layer downloads."""

    ctx: AwsContext
    region: str
    max_layer_bytes: int = MAX_LAYER_BYTES
    max_image_bytes: int = MAX_IMAGE_BYTES

    @property
    def ecr(self) -> Any:
        """The region's ECR client."""
        return self.ctx.client("ecr", self.region)

    def _call(self, action: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.ecr, method)(**kwargs)
        except ClientError as err:
            raise ImageError(str(api_error(action, err))) from None

    def _manifest_text(self, image: Image, digest: str) -> tuple[str, str]:
        answer = self._call(
            "BatchGetImage",
            "batch_get_image",
            repositoryName=image.repository.name,
            registryId=image.repository.registry_id,
            imageIds=[{"imageDigest": digest}],
            acceptedMediaTypes=ACCEPTED,
        )
        found = answer.get("images") or []
        if not found:
            failure = (answer.get("failures") or [{}])[0]
            why = failure.get("failureReason") or failure.get("failureCode") or "not found"
            raise ImageError(f"{image.label}: BatchGetImage: {why}")
        text = str(found[0].get("imageManifest") or "")
        if not _digest_ok(text, digest):
            raise ImageError(f"{image.label}: manifest does not match its digest {digest}")
        return text, str(found[0].get("imageManifestMediaType") or "")

    def manifest(self, image: Image) -> Manifest:
        """The image's manifest; an index is resolved to linux/amd64 (else the first linux)."""
        text, media = self._manifest_text(image, image.digest)
        doc = parse_manifest(text, media, image.label)
        platform = ""
        if doc["mediaType"] in _INDEXES or "manifests" in doc:
            child, platform = pick_platform(doc, image.label)
            text, media = self._manifest_text(image, child)
            doc = parse_manifest(text, media, image.label)
            if doc["mediaType"] in _INDEXES:
                raise ImageError(f"{image.label}: nested manifest lists are not supported")
        config = str((doc.get("config") or {}).get("digest") or "")
        return Manifest(doc["mediaType"], image_layers(doc, image.label), platform, config)

    def fetch_layer(self, image: Image, layer: Layer, dest: Path) -> int:
        """Downloads one layer blob to `dest`, checked against its size and digest."""
        if layer.size is not None and layer.size > self.max_layer_bytes:
            raise ImageError(f"layer {layer.digest}: {layer.size} bytes, over the layer cap")
        answer = self._call(
            "GetDownloadUrlForLayer",
            "get_download_url_for_layer",
            repositoryName=image.repository.name,
            registryId=image.repository.registry_id,
            layerDigest=layer.digest,
        )
        url = layer_url_ok(str(answer.get("downloadUrl") or ""), self.ctx.custom_endpoint)
        try:
            size = download(url, dest, max_bytes=self.max_layer_bytes)
        except DownloadError as err:
            problem = str(err).replace("code package", "layer blob")
            raise ImageError(f"layer {layer.digest}: {problem}") from None
        verify_blob(dest, layer)
        return size
