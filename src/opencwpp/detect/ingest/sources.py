"""Where CloudTrail records come from: local files and folders, a trail's S3 bucket, LookupEvents.

Every source is listed as `SourceFile`s (a URI, size, etag and a way to read the bytes), so the
ingester treats a local file and an S3 object alike, and remembers each by URI, size and etag.
The LookupEvents API (accounts without a trail) becomes one pseudo-file per account, region
and time window, `lookup://<account>/<region>/<start>/<end>`; the next window starts where the
last ingested one ended, less a margin for late events (duplicates are dropped by event id).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opencwpp.collect.aws.session import AwsContext, credentials_error
from opencwpp.core.errors import CwppError, UsageError
from opencwpp.core.text import json_loads, storable_text

# AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
DELIVERY_KEY = re.compile(
    r"(?:^|/)AWSLogs/(?:(?P<org>o-[a-z0-9]+)/)?(?P<account>\d{12})/CloudTrail/"
    r"(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/[^/]+$"
)
_LOCAL_SUFFIXES = (".json", ".json.gz", ".gz", ".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")


LOOKUP = "lookup"
# LookupEvents may show an event some minutes after it happened: windows overlap by this much.
LOOKUP_OVERLAP = timedelta(minutes=15)
# Without an earlier window or --since, the first one reaches back this far (the API keeps 90 days).
LOOKUP_FIRST_WINDOW = timedelta(days=1)
_STAMP = "%Y%m%dT%H%M%SZ"
_LOOKUP_URI = re.compile(r"^lookup://(\d{12})/([a-z0-9-]+)/(\d{8}T\d{6}Z)/(\d{8}T\d{6}Z)$")


class SourceError(CwppError):
    """A source cannot be listed (missing path, unknown bucket, access denied)."""


class FetchError(OSError):
    """A listed source file could not be read (the file is failed and retried next time)."""


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
        # A name that is not UTF-8 is remembered with its odd bytes as `\xff` text.
        uri=storable_text(str(path.resolve())),
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
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()
        except (ClientError, BotoCoreError) as err:
            raise FetchError(f"cannot read s3://{bucket}/{key}: {err}") from err

    return read


def lookup_regions(spec: str) -> list[str] | None:
    """`lookup` (None: every enabled region) or `lookup:REGION[,REGION…]`."""
    _, _, rest = spec.partition(":")
    regions = [r.strip() for r in rest.split(",") if r.strip()]
    return regions or None


def lookup_window_end(uri: str) -> tuple[str, str, datetime] | None:
    """(account, region, end) of a `lookup://` window URI, else None."""
    match = _LOOKUP_URI.match(uri)
    if match is None:
        return None
    end = datetime.strptime(match.group(4), _STAMP).replace(tzinfo=UTC)
    return match.group(1), match.group(2), end


def lookup_files(
    spec: str,
    aws: AwsContext,
    done: Iterable[str] = (),
    since: datetime | None = None,
    now: datetime | None = None,
) -> list[SourceFile]:
    """One LookupEvents window per region, from the end of the last one ingested (`done` URIs).

    `since` is where the first window starts (default: `LOOKUP_FIRST_WINDOW` ago).
    """
    account = aws.account_id
    wanted = lookup_regions(spec)
    regions = aws.validate_regions(wanted) if wanted else aws.enabled_regions()
    end = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    last: dict[str, datetime] = {}
    for uri in done:
        parts = lookup_window_end(uri)
        if parts is not None and parts[0] == account:
            last[parts[1]] = max(parts[2], last.get(parts[1], parts[2]))
    first = since.astimezone(UTC) if since is not None else end - LOOKUP_FIRST_WINDOW
    out = []
    for region in regions:
        start = last[region] - LOOKUP_OVERLAP if region in last else first
        uri = f"lookup://{account}/{region}/{start:{_STAMP}}/{end:{_STAMP}}"
        client = aws.client("cloudtrail", region)
        out.append(SourceFile(uri, 0, end.strftime(_STAMP), _lookup_reader(client, start, end)))
    return out


def _lookup_reader(client: Any, start: datetime, end: datetime) -> Callable[[], bytes]:
    def read() -> bytes:
        records: list[Any] = []
        try:
            pages = client.get_paginator("lookup_events").paginate(
                StartTime=start, EndTime=end, PaginationConfig={"PageSize": 50}
            )
            for page in pages:
                # Each event carries the whole record, as delivered to a trail, as JSON text.
                records += [json_loads(e["CloudTrailEvent"]) for e in page.get("Events", [])]
        except (ClientError, BotoCoreError) as err:
            raise FetchError(f"LookupEvents failed: {err}") from err
        except (KeyError, json.JSONDecodeError) as err:
            raise FetchError(f"LookupEvents returned an event without its record: {err}") from err
        return json.dumps({"Records": records}).encode()

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
    specs: list[str],
    aws_factory: Callable[[], AwsContext] | None = None,
    *,
    done: list[str] | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> Iterator[SourceFile]:
    """Every file of every source spec: local paths, `s3://bucket/prefix` and `lookup[:REGIONS]`.

    `done` (URIs already ingested), `since` and `now` place the LookupEvents windows.
    """
    aws: AwsContext | None = None
    for spec in specs:
        if spec.startswith("s3://") or spec == LOOKUP or spec.startswith(LOOKUP + ":"):
            if aws is None:
                aws = aws_factory() if aws_factory else AwsContext.create()
            if spec.startswith("s3://"):
                yield from s3_files(spec, aws)
            else:
                yield from lookup_files(spec, aws, done or [], since, now)
        else:
            yield from local_files(spec)
