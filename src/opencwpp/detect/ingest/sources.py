"""Where CloudTrail files come from: local files and folders, and a trail's S3 bucket.

Every source is listed as `SourceFile`s (a URI, size, etag and a way to read the bytes), so the
ingester treats a local file and an S3 object alike, and remembers each by URI, size and etag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.collect.aws.session import AwsContext, credentials_error
from opencwpp.core.errors import CwppError, UsageError

# AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
DELIVERY_KEY = re.compile(
    r"(?:^|/)AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<account>\d{12})/CloudTrail/"
    r"(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/[^/]+$"
)
_LOCAL_SUFFIXES = (".json", ".json.gz", ".gz", ".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")


class SourceError(CwppError):
    """A source cannot be listed (missing path, unknown bucket, access denied)."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file to ingest: its URI, size, etag (or mtime for local files) and its bytes."""

    uri: str
    size: int
    etag: str
    fetch: Callable[[], bytes] = field(compare=False, repr=False)
    local_path: Path | None = None

    def read(self) -> bytes:
        """The file's bytes (downloaded for S3)."""
        return self.fetch()


def _local(path: Path) -> SourceFile:
    stat = path.stat()
    return SourceFile(
        uri=str(path.resolve()),
        size=stat.st_size,
        etag=str(stat.st_mtime_ns),
        fetch=path.read_bytes,
        local_path=path.resolve(),
    )


def local_files(spec: str) -> list[SourceFile]:
    """A file, or the CloudTrail-looking files under a folder (recursively, sorted)."""
    path = Path(spec).expanduser()
    if path.is_file():
        return [_local(path)]
    if not path.is_dir():
        raise SourceError(f"no such file or folder: {spec}")
    found = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.name.lower().endswith(_LOCAL_SUFFIXES)
        and "CloudTrail-Digest" not in p.parts
    )
    return [_local(p) for p in found]


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/prefix` → (bucket, prefix)."""
    rest = uri[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UsageError(f"invalid S3 URI {uri!r}: use s3://bucket/prefix")
    return bucket, prefix


def s3_files(uri: str, aws: AwsContext) -> list[SourceFile]:
    """The CloudTrail log objects under an S3 prefix (digests and folders skipped)."""
    bucket, prefix = parse_s3_uri(uri)
    client = aws.client("s3")
    out: list[SourceFile] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = str(obj["Key"])
                if key.endswith("/") or "CloudTrail-Digest" in key:
                    continue
                if not key.lower().endswith(_LOCAL_SUFFIXES):
                    continue
                out.append(
                    SourceFile(
                        uri=f"s3://{bucket}/{key}",
                        size=int(obj.get("Size", 0)),
                        etag=str(obj.get("ETag", "")).strip('"'),
                        fetch=_s3_reader(client, bucket, key),
                    )
                )
    except (ClientError, BotoCoreError) as err:
        raise credentials_error(err) or SourceError(f"cannot list {uri}: {err}") from err
    return out


def _s3_reader(client: Any, bucket: str, key: str) -> Callable[[], bytes]:
    def read() -> bytes:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    return read


def delivery_parts(uri: str) -> dict[str, str] | None:
    """Account, region, date (and organization) from a key in CloudTrail's delivery layout."""
    match = DELIVERY_KEY.search(uri)
    if match is None:
        return None
    parts = {k: v for k, v in match.groupdict().items() if v}
    parts["date"] = f"{parts.pop('y')}-{parts.pop('m')}-{parts.pop('d')}"
    return parts


def list_sources(
    specs: list[str], aws_factory: Callable[[], AwsContext] | None = None
) -> Iterator[SourceFile]:
    """Every file of every source spec: local paths and `s3://bucket/prefix` URIs."""
    aws: AwsContext | None = None
    for spec in specs:
        if spec.startswith("s3://"):
            if aws is None:
                aws = aws_factory() if aws_factory else AwsContext.create()
            yield from s3_files(spec, aws)
        else:
            yield from local_files(spec)
