"""Resumable, conditional downloads of the advisory sources into a cache directory.

Per source the cache holds the last complete, verified file (`F`, with `F.meta.json`: URL,
ETag, Last-Modified, SHA-256) and at most one partial download (`F.part`, with `F.part.json`:
the validators of the response it came from). A later run continues a partial file with
`Range: bytes=N-` and `If-Range`: a 206 appends, a 200 (Range ignored, or the file changed)
starts over. Without a partial file the request is conditional (`If-None-Match` /
`If-Modified-Since`): a 304 keeps the cached file. Only the standard library is used.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from opencwpp import __version__
from opencwpp.core.errors import CwppError, UsageError
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.osv.sources import Source, check_url, is_loopback

USER_AGENT = f"opencwpp/{__version__} (vuln db update)"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_BYTES = 4 * 1024**3
_CHUNK = 256 * 1024
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")

Progress = Callable[[Source, int, int | None], None]
Verifier = Callable[[str, Path], None]


def default_cache_dir() -> Path:
    """Where downloads wait and resume: `$XDG_CACHE_HOME/opencwpp/vuln`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "opencwpp" / "vuln"


class DownloadError(CwppError):
    """One source could not be fetched (network, HTTP status, size, corrupt content)."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass
class Meta:
    """What we know of one cached file: where it came from and its validators."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None


@dataclass
class Fetched:
    """The result of one fetch: `downloaded`, `not-modified` (304), and the file to use."""

    source: Source
    status: str
    path: Path | None
    meta: Meta | None
    resumed_from: int = 0
    size: int = 0


def _read_meta(path: Path, url: str) -> Meta | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        meta = Meta(**{k: raw.get(k) for k in ("url", "etag", "last_modified", "sha256")})
    except (OSError, ValueError, TypeError):
        return None
    return meta if meta.url == url else None


def _write_meta(path: Path, meta: Meta) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(meta)), encoding="utf-8")
    os.replace(tmp, path)


def _unlink(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL the source itself could have had (HTTPS or loopback)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        try:
            check_url("redirect", newurl)
        except UsageError as err:
            raise urllib.error.URLError(f"refused redirect: {err}") from None
        if is_loopback(urlsplit(req.full_url).hostname) != is_loopback(urlsplit(newurl).hostname):
            raise urllib.error.URLError(f"refused redirect between loopback and remote: {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Downloader:
    """Fetches sources into `cache`: resumable, conditional, size-capped, verified."""

    def __init__(
        self,
        cache: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        progress: Progress | None = None,
    ) -> None:
        self.cache = cache
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.progress = progress

    def _open(self, url: str, headers: dict[str, str]) -> http.client.HTTPResponse:
        # Loopback never goes through a proxy (tests, local mirrors); remote honours the env.
        proxies = urllib.request.ProxyHandler({} if is_loopback(urlsplit(url).hostname) else None)
        opener = urllib.request.build_opener(proxies, _CheckedRedirects())
        check_url("download", url)  # https, or http to loopback: never file: or others
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})  # noqa: S310
        response: http.client.HTTPResponse = opener.open(request, timeout=self.timeout)
        return response

    def fetch(self, source: Source, verify: Verifier, known: Meta | None = None) -> Fetched:
        """Brings the cache up to date for `source`; DownloadError when that fails.

        `known` is what the lake last imported (its validators make the request conditional
        when the cache holds no complete file).
        """
        self.cache.mkdir(parents=True, exist_ok=True)
        final = self.cache / source.filename
        final_meta = final.with_name(final.name + ".meta.json")
        part = final.with_name(final.name + ".part")
        part_meta_path = final.with_name(final.name + ".part.json")
        cached = _read_meta(final_meta, source.url) if final.is_file() else None
        part_meta = _read_meta(part_meta_path, source.url) if part.is_file() else None
        if part_meta is None or not (part_meta.etag or part_meta.last_modified):
            _unlink(part, part_meta_path)  # from another URL, or no validator to resume with
            part_meta = None
        for _attempt in range(2):
            headers = {"Accept-Encoding": "identity"}
            offset = part.stat().st_size if part_meta is not None else 0
            if part_meta is not None and offset > 0:
                headers["Range"] = f"bytes={offset}-"
                headers["If-Range"] = str(part_meta.etag or part_meta.last_modified)
            else:
                offset = 0
                cond = cached or known
                if cond is not None and cond.url == source.url:
                    if cond.etag:
                        headers["If-None-Match"] = cond.etag
                    if cond.last_modified:
                        headers["If-Modified-Since"] = cond.last_modified
            try:
                response = self._open(source.url, headers)
            except urllib.error.HTTPError as err:
                err.close()
                if err.code == 304:
                    return Fetched(source, "not-modified", final if cached else None, cached)
                if err.code == 416 and offset:
                    _unlink(part, part_meta_path)  # our partial file no longer fits: restart
                    part_meta = None
                    continue
                problem = f"HTTP {err.code} {err.reason} from {source.url}"
                raise DownloadError(source.name, problem) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
                reason = getattr(err, "reason", err)
                raise DownloadError(source.name, f"cannot reach {source.url}: {reason}") from None
            with response:
                resumed = self._receive(source, response, part, part_meta_path, offset)
            break
        else:
            raise DownloadError(source.name, "the server refused the resumed request twice")
        try:
            verify(source.kind, part)
        except BadInputError as err:
            _unlink(part, part_meta_path)
            raise DownloadError(source.name, f"downloaded file unusable: {err.problem}") from None
        meta = _read_meta(part_meta_path, source.url) or Meta(source.url)
        meta.sha256 = _sha256(part)
        os.replace(part, final)
        _write_meta(final_meta, meta)
        _unlink(part_meta_path)
        return Fetched(source, "downloaded", final, meta, resumed, final.stat().st_size)

    def _receive(
        self,
        source: Source,
        response: http.client.HTTPResponse,
        part: Path,
        part_meta_path: Path,
        offset: int,
    ) -> int:
        """Writes the body to `part` (appending on 206); returns the offset resumed from."""
        total: int | None = None
        if response.status == 206 and offset:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match is None or int(match.group(1)) != offset:
                raise DownloadError(source.name, "the server sent a range we did not ask for")
            total = None if match.group(3) == "*" else int(match.group(3))
            mode = "ab"
        else:
            offset = 0  # a 200: the whole file again (Range ignored, or the file changed)
            mode = "wb"
            meta = Meta(
                source.url,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
            _write_meta(part_meta_path, meta)
        length = response.headers.get("Content-Length")
        if total is None and length is not None and length.isdigit():
            total = offset + int(length)
        if total is not None and total > self.max_bytes:
            _unlink(part, part_meta_path)
            raise DownloadError(source.name, f"{total} bytes is over the {self.max_bytes} cap")
        done = offset
        try:
            with part.open(mode) as out:
                while block := response.read(_CHUNK):
                    done += len(block)
                    if done > self.max_bytes:
                        raise DownloadError(source.name, f"over the {self.max_bytes}-byte cap")
                    out.write(block)
                    if self.progress is not None:
                        self.progress(source, done, total)
        except DownloadError:
            _unlink(part, part_meta_path)
            raise
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(
                source.name, f"interrupted after {done} bytes ({err}); run again to resume"
            ) from None
        if total is not None and done < total:
            raise DownloadError(
                source.name, f"connection closed after {done} of {total} bytes; run again to resume"
            )
        return offset
