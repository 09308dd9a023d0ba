"""`cwpp vuln scan aws` for ECR: each repository's recent images, pulled and scanned.

An image is one target, keyed `<repository ARN>@<digest>` (uid prefix `<that>#`): a digest
names exactly the bytes scanned, while tags move, and the repository ARN alone would let a
rescan of one image resolve another image's findings. An image that cannot be read (refused
call, digest mismatch, truncated layer) is reported and the run goes on; its previous
findings stay as they were, and ECR's own findings for it are still ingested.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import ClientError

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import paginate
from opencwpp.core.models import Finding, ResourceRef
from opencwpp.findings import FindingFilter, finish_run, load_findings, save_findings, start_run
from opencwpp.lake.lake import Lake
from opencwpp.vuln.cloud.ecr_native import fetch_native, merge
from opencwpp.vuln.cloud.ecr_registry import (
    KIND,
    MAX_LAYER_BYTES,
    Image,
    ImageError,
    Manifest,
    Registry,
    Repository,
    recent_images,
)
from opencwpp.vuln.cloud.lambda_code import api_error
from opencwpp.vuln.context import ContextIndex
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.extract.walk import Inventory, scan_tree
from opencwpp.vuln.findings import build_findings
from opencwpp.vuln.match import AdvisoryIndex, match_packages
from opencwpp.vuln.os_status import CHECKS as OS_CHECKS
from opencwpp.vuln.os_status import os_findings
from opencwpp.vuln.scan import save_packages
from opencwpp.vuln.targets.image import LAYER_ERRORS, apply_layers

DEFAULT_IMAGES = 3
DEFAULT_MAX_AGE_DAYS = 90


@dataclass
class ImageScan:
    """The outcome for one image: findings, or why it could not be (fully) scanned."""

    image: Image
    packages: int = 0
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    native: str = ""


@dataclass
class EcrScanResult:
    """Every image met, and the regions or repositories that could not be listed."""

    run_id: str
    images: list[ImageScan] = field(default_factory=list)
    list_errors: dict[str, str] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        """The findings of every image."""
        return [f for s in self.images for f in s.findings]

    def summary_lines(self) -> list[tuple[str, str]]:
        """(kind, line) for the CLI: `error`, `warning` or `info` lines, unescaped."""
        out = [("error", f"not listed: {k}: {v}") for k, v in sorted(self.list_errors.items())]
        for s in self.images:
            if s.error:
                out.append(("error", f"not scanned: {s.image.uid}: {s.error}"))
            out += [("warning", f"unreadable: {s.image.uid}: {p}") for p in s.problems]
        scanned = sum(1 for s in self.images if not s.error)
        out.append(
            (
                "info",
                f"ecr: {scanned} images scanned, {len(self.images) - scanned} not readable, "
                f"{len(self.findings)} vulnerabilities, {len(self.list_errors)} not listed",
            )
        )
        return out


def _inventory(registry: Registry, image: Image, manifest: Manifest, tmp: Path) -> Inventory:
    """Downloads the layers (digest-checked), applies them in order, extracts the packages."""
    blobs, root = tmp / "blobs", tmp / "root"
    blobs.mkdir()
    root.mkdir()
    total, paths = 0, []
    for i, layer in enumerate(manifest.layers):
        path = blobs / str(i)
        total += registry.fetch_layer(image, layer, path)
        if total > registry.max_image_bytes:
            raise ImageError(f"layers exceed {registry.max_image_bytes} bytes")
        paths.append(path)

    def open_layer(i: int) -> tarfile.TarFile:
        try:
            return tarfile.open(paths[i], mode="r|*")
        except tarfile.TarError as err:
            digest = manifest.layers[i].digest
            raise BadInputError(image.label, f"layer {digest} is not a (gzip) tar: {err}") from None

    inv = Inventory(image.uid, KIND)
    digests = [layer.digest for layer in manifest.layers]
    try:
        written = apply_layers(open_layer, digests, image.label, root, inv.problems)
    except LAYER_ERRORS as err:
        raise ImageError(f"corrupt or truncated layer ({err})") from None
    except BadInputError as err:
        raise ImageError(err.problem) from None
    return scan_tree(root, inv, layer_of=lambda rel: written.get(rel, ""))


def _resource(image: Image, account_id: str) -> ResourceRef:
    return ResourceRef(
        uid=image.uid,
        type=KIND,
        account_id=account_id,
        region=image.repository.region,
        name=image.label,
    )


def _enrich(finding: Finding, image: Image, account_id: str) -> Finding:
    ev = dict(finding.evidence)
    ev["resource"] = {
        "arn": image.repository.arn,
        "type": KIND,
        "image": image.uid,
        "repository": image.repository.name,
        "repository_uri": image.repository.uri,
        "digest": image.digest,
        "tags": image.tags,
        "pushed_at": image.pushed_at.isoformat() if image.pushed_at else None,
        "platform": image.platform or None,
        "manifest_media_type": image.media_type,
        "account_id": account_id,
        "region": image.repository.region,
    }
    ref = replace(_resource(image, account_id), uid=finding.resource.uid)
    name = ev["package"]["name"] if "package" in ev else "operating system"
    return replace(finding, resource=replace(ref, name=f"{name} in {image.label}"), evidence=ev)


@dataclass
class _Run:
    lake: Lake
    ctx: AwsContext
    run_id: str
    index: AdvisoryIndex
    contexts: ContextIndex
    max_layer_bytes: int


def _scan_image(run: _Run, registry: Registry, image: Image) -> ImageScan:
    result = ImageScan(image)
    account = run.ctx.account_id
    findings: list[Finding] = []
    complete = False
    context = run.contexts.for_image(image.repository.uri, image.digest, image.tags)
    try:
        manifest = registry.manifest(image)
        image.platform, image.media_type = manifest.platform, manifest.media_type
        image.layers = [layer.digest for layer in manifest.layers]
        with tempfile.TemporaryDirectory(prefix="cwpp-ecr-") as tmp:
            inv = _inventory(registry, image, manifest, Path(tmp))
        save_packages(run.lake, inv)
        hits = match_packages(run.index, inv.packages)
        findings = build_findings(run.lake, run.index, image.uid, KIND, hits, context)
        findings += os_findings(run.lake, inv, image.uid, KIND)
        result.packages, result.problems, complete = len(inv.packages), inv.problems, True
    except ImageError as err:
        result.error = str(err)
    natives, result.native = fetch_native(
        registry.ecr, image.repository.name, image.repository.registry_id, image.digest
    )
    ref = _resource(image, account)
    findings = merge(run.lake, findings, natives, image.uid, ref, context)
    result.findings = [_enrich(f, image, account) for f in findings]
    prefix = f"{image.uid}#"
    # An image not fully read judges only what was found again: nothing is resolved unseen.
    assessed = _previous(run.lake, prefix) | set(OS_CHECKS) if complete else set()
    save_findings(run.lake, run.run_id, result.findings, assessed, resource_prefix=prefix)
    return result


def _previous(lake: Lake, prefix: str) -> set[str]:
    stored = load_findings(lake, FindingFilter(pillars=("vulnerability",), resource=prefix))
    return {s.finding.check_id for s in stored if s.finding.resource.uid.startswith(prefix)}


def _resolve_deleted(lake: Lake, run_id: str, repo: Repository, present: set[str]) -> None:
    """Resolves the findings of the repository's images that no longer exist in it."""
    prefix = f"{repo.arn}@"
    gone: dict[str, set[str]] = {}
    for s in load_findings(lake, FindingFilter(pillars=("vulnerability",), resource=prefix)):
        uid, sep, _ = s.finding.resource.uid.partition("#")
        if sep and uid.startswith(prefix) and uid[len(prefix) :] not in present:
            gone.setdefault(uid, set()).add(s.finding.check_id)
    for uid, checks in sorted(gone.items()):
        save_findings(lake, run_id, [], checks, resource_prefix=f"{uid}#")
        lake.execute("DELETE FROM cwpp_packages WHERE resource_uid = ?", [uid])


def _scan_region(
    run: _Run, result: EcrScanResult, region: str, count: int, age: int | None
) -> None:
    registry = Registry(run.ctx, region, max_layer_bytes=run.max_layer_bytes)
    try:
        items = paginate(registry.ecr, "describe_repositories", "repositories")
    except ClientError as err:
        result.list_errors[region] = str(api_error("DescribeRepositories", err))
        return
    now = datetime.now(UTC)
    for repo in sorted((Repository.of(i, region) for i in items), key=lambda r: r.name):
        try:
            listed = paginate(
                registry.ecr,
                "describe_images",
                "imageDetails",
                repositoryName=repo.name,
                registryId=repo.registry_id,
            )
        except ClientError as err:
            result.list_errors[repo.arn] = str(api_error("DescribeImages", err))
            continue
        for image in recent_images(listed, repo, count, age, now):
            result.images.append(_scan_image(run, registry, image))
        present = {str(i.get("imageDigest")) for i in listed}
        _resolve_deleted(run.lake, run.run_id, repo, present)


def scan_ecr(
    lake: Lake,
    ctx: AwsContext,
    regions: Sequence[str],
    *,
    images_per_repository: int = DEFAULT_IMAGES,
    max_age_days: int | None = DEFAULT_MAX_AGE_DAYS,
    index: AdvisoryIndex | None = None,
    max_layer_bytes: int = MAX_LAYER_BYTES,
) -> EcrScanResult:
    """Scans the recent images of every ECR repository of `regions` into the lake."""
    run_id = start_run(lake, "vuln-scan-ecr")
    run = _Run(lake, ctx, run_id, index or AdvisoryIndex(lake), ContextIndex(lake), max_layer_bytes)
    result = EcrScanResult(run_id)
    if images_per_repository > 0:
        for region in regions:
            _scan_region(run, result, region, images_per_repository, max_age_days)
    summary = {
        "images": len(result.images),
        "failed": sum(1 for s in result.images if s.error),
        "findings": len(result.findings),
        "not_listed": sorted(result.list_errors),
    }
    finish_run(lake, run_id, "ok", summary)
    return result
