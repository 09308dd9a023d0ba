"""Bounded downloads of the short-lived code URLs AWS hands out (Lambda code and layers).

The URL is a pre-signed credential for a few minutes: it is never stored, logged or put in an
error message (errors name the resource and what went wrong, not the URL).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import urllib3

from opencwpp.core.errors import CwppError

# Lambda's own limit: 250 MB unzipped for a function and its layers; a zip is never larger.
MAX_BYTES = 250 * 1024**2
_CHUNK = 1024 * 1024
_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")
_TIMEOUT = urllib3.Timeout(connect=10.0, read=60.0)


class DownloadError(CwppError):
    """A code package that could not be fetched (refused URL, HTTP error, too large)."""


def s3_object(url: str) -> tuple[str, str] | None:
    """(bucket, key) of a virtual-hosted S3 URL (`bucket.s3.region.amazonaws.com/key`)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    bucket, sep, rest = host.partition(".s3")
    if sep and bucket and rest[:1] in (".", "-") and host.endswith(_AWS_SUFFIXES):
        key = unquote(parts.path.lstrip("/"))
        return (bucket, key) if key else None
    return None


def check_aws_url(url: str) -> str:
    """`url` when it is https on an AWS domain; DownloadError otherwise.

    A code location is never a way to make this tool fetch from an arbitrary place (a file,
    plain http, another host).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host.endswith(_AWS_SUFFIXES):
        shown = f"{parts.scheme}://{host}" if host else (parts.scheme or "no scheme")
        raise DownloadError(f"code location refused: not an https AWS URL ({shown})")
    return url


def download(url: str, dest: Path, *, max_bytes: int = MAX_BYTES) -> int:
    """Streams `url` into `dest` (no redirects, timeouts, `max_bytes` cap); returns its size."""
    http = urllib3.PoolManager(retries=False, timeout=_TIMEOUT)
    try:
        response = http.request("GET", url, preload_content=False, redirect=False)
    except urllib3.exceptions.HTTPError as err:
        # The exception text carries the URL (and its signature): only its kind is reported.
        raise DownloadError(f"download failed: {type(err).__name__}") from None
    size = 0
    try:
        if response.status != 200:
            raise DownloadError(f"download failed: HTTP {response.status}")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise DownloadError(f"code package of {declared} bytes exceeds {max_bytes} bytes")
        with dest.open("wb") as out:
            for chunk in response.stream(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"code package exceeds {max_bytes} bytes")
                out.write(chunk)
    except urllib3.exceptions.HTTPError as err:
        raise DownloadError(f"download interrupted: {type(err).__name__}") from None
    finally:
        response.release_conn()
        http.clear()
    return size
