"""`vuln db update` against a loopback HTTP server serving feeds built from the shared corpora.

The server speaks Range / If-Range / ETag / If-None-Match and can drop a connection half way,
ignore Range, answer 500 or serve a corrupt zip. Every socket the tests open is checked to go
to 127.0.0.1 only.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from opencwpp.cli import common, vuln_commands
from opencwpp.lake import Lake
from opencwpp.vuln.errors import BadInputError
from opencwpp.vuln.osv import update as update_mod
from opencwpp.vuln.osv.download import Downloader
from opencwpp.vuln.osv.sources import plan, resolve_urls
from opencwpp.vuln.osv.update import UPDATES, UpdateResult, update
from opencwpp.vuln.status import db_status
from opencwpp.vuln.tables import DB_TABLES
from tests.conftest import require_shared

_REAL_CONNECT = socket.socket.connect


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Records every socket connect and fails on one that leaves 127.0.0.1."""
    seen: list[Any] = []

    def connect(self: socket.socket, address: Any) -> None:
        seen.append(address)
        if self.family in (socket.AF_INET, socket.AF_INET6):
            assert address[0] == "127.0.0.1", f"connection outside loopback: {address}"
        _REAL_CONNECT(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield seen


class Feeds(ThreadingHTTPServer):
    """Serves `files` by path with validators; `modes` bend the behaviour per path."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.log: list[tuple[str, dict[str, str], int]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def urls(self) -> dict[str, str]:
        b = self.base
        return {
            "osv": f"{b}/osv",
            "kev": f"{b}/kev.json",
            "epss": f"{b}/epss.csv.gz",
            "eol": f"{b}/eol",
        }

    def seen(self, path: str) -> list[tuple[dict[str, str], int]]:
        return [(h, code) for p, h, code in self.log if p == path]


class _Handler(BaseHTTPRequestHandler):
    server: Feeds

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, code: int, body: bytes, headers: dict[str, str], *, cut: bool = False) -> None:
        self.server.log.append((self.path, dict(self.headers.items()), code))
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)

    def do_GET(self) -> None:
        body = self.server.files.get(self.path)
        mode = self.server.modes.get(self.path, "")
        if body is None or mode == "500":
            self._send(404 if body is None else 500, b"no", {"Content-Length": "2"})
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        base = {"ETag": etag, "Last-Modified": "Mon, 03 Aug 2026 10:00:00 GMT"}
        if self.headers.get("If-None-Match") == etag and "Range" not in self.headers:
            self._send(304, b"", base)
            return
        wanted = self.headers.get("Range", "")
        if_range = self.headers.get("If-Range")
        if wanted and mode != "ignore-range" and if_range in (None, etag):
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            rng = f"bytes {start}-{len(body) - 1}/{len(body)}"
            headers = {**base, "Content-Range": rng, "Content-Length": str(len(body) - start)}
            self._send(206, body[start:], headers)
            return
        drop = mode == "drop-once"
        if drop:
            self.server.modes[self.path] = ""
        self._send(200, body, {**base, "Content-Length": str(len(body))}, cut=drop)


@pytest.fixture
def feeds() -> Iterator[Feeds]:
    server = Feeds()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _zip(folder: Path, limit: int | None = None) -> bytes:
    buf = io.BytesIO()
    files = sorted(folder.rglob("*.json"))[:limit]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.writestr(file.name, file.read_bytes())
    return buf.getvalue()


def _eol_v1(doc: dict[str, Any]) -> bytes:
    """endoflife.date API v1 `products/full`, built from the corpus' front-matter shape."""
    result = []
    for name, info in doc.items():
        releases = []
        for rel in info["releases"]:
            eol = rel.get("eol")
            releases.append(
                {
                    "name": str(rel["releaseCycle"]),
                    "label": rel.get("releaseLabel") or str(rel["releaseCycle"]),
                    "codename": rel.get("codename"),
                    "releaseDate": rel.get("releaseDate"),
                    "isEol": eol if isinstance(eol, bool) else eol is not None,
                    "eolFrom": None if isinstance(eol, bool) else eol,
                    "isEoas": bool(rel.get("eoas")),
                    "eoasFrom": rel.get("eoas") if isinstance(rel.get("eoas"), str) else None,
                    "latest": {"name": rel["latest"], "date": rel.get("latestReleaseDate")}
                    if rel.get("latest")
                    else None,
                }
            )
        result.append(
            {
                "name": name,
                "label": info["title"],
                "category": info["category"],
                "releases": releases,
            }
        )
    return json.dumps({"schema_version": "1.2.0", "total": len(result), "result": result}).encode()


@pytest.fixture
def corpus(feeds: Feeds) -> dict[str, int]:
    """Publishes PyPI (half), AlmaLinux, KEV, EPSS and EOL; returns the expected counts."""
    osv = require_shared("osv")
    kev_raw = (require_shared("kev") / "known_exploited_vulnerabilities.json").read_bytes()
    eol = json.loads((require_shared("eol") / "eol.json").read_text())
    cves = sorted({v["cveID"] for v in json.loads(kev_raw)["vulnerabilities"]})
    csv = "#model_version:v2025.03.14,score_date:2026-08-20T00:00:00+0000\ncve,epss,percentile\n"
    csv += "".join(f"{c},0.{i % 97:05d},0.5\n" for i, c in enumerate(cves))
    feeds.files.update(
        {
            "/osv/PyPI/all.zip": _zip(osv / "pypi", 400),
            "/osv/AlmaLinux/all.zip": _zip(osv / "almalinux9"),
            "/kev.json": kev_raw,
            "/epss.csv.gz": gzip.compress(csv.encode()),
            "/eol": _eol_v1(eol),
        }
    )
    cycles = sum(len({str(r["releaseCycle"]) for r in p["releases"]}) for p in eol.values())
    return {"kev": len(cves), "eol": cycles, "osv_full": len(list((osv / "pypi").rglob("*.json")))}


def _run(lake: Lake, feeds: Feeds, cache: Path, **kw: Any) -> UpdateResult:
    sources = plan(resolve_urls(feeds.urls()), ["PyPI", "AlmaLinux"])
    return update(lake, sources, Downloader(cache, timeout=10, **kw))


def _snapshot(lake: Lake) -> dict[str, list[str]]:
    out = {}
    for t in (*DB_TABLES, UPDATES):
        rows = lake.query(f'SELECT * FROM "{t.name}"')
        out[t.name] = sorted(json.dumps(r, default=str, sort_keys=True) for r in rows)
    return out


def _status(result: UpdateResult) -> dict[str, str]:
    return {o.source.name: o.status for o in result.outcomes}


def test_update_imports_then_second_run_is_not_modified(
    lake: Lake, feeds: Feeds, corpus: dict[str, int], tmp_path: Path
) -> None:
    first = _run(lake, feeds, tmp_path / "cache")
    assert not first.failed and set(_status(first).values()) == {"imported"}
    status = db_status(lake)
    assert status["counts"]["cwpp_advisories"] == 400 + 397
    assert status["counts"]["cwpp_kev"] == corpus["kev"]
    assert status["counts"]["cwpp_epss"] == corpus["kev"]
    assert status["counts"]["cwpp_eol"] == corpus["eol"]
    lambda_rt = lake.query("SELECT release FROM cwpp_eol WHERE product = 'aws-lambda'")
    assert len(lambda_rt) > 40
    by_name = {u["name"]: u for u in status["updates"]}
    assert by_name["osv:AlmaLinux"]["url"] == f"{feeds.base}/osv/AlmaLinux/all.zip"
    assert by_name["osv:AlmaLinux"]["records"] == 397 and by_name["kev"]["updated_at"]
    sources = {s["source"] for s in status["sources"]}
    assert f"{feeds.base}/kev.json" in sources and not any("cache" in s for s in sources)
    assert {a["source"] for a in lake.query("SELECT DISTINCT source FROM cwpp_advisories")} == {
        f"{feeds.base}/osv/PyPI/all.zip",
        f"{feeds.base}/osv/AlmaLinux/all.zip",
    }
    before = _snapshot(lake)
    feeds.log.clear()
    second = _run(lake, feeds, tmp_path / "cache")
    assert set(_status(second).values()) == {"unchanged"}
    assert {code for _, _, code in feeds.log} == {304} and len(feeds.log) == 5
    assert all("If-None-Match" in h for _, h, _ in feeds.log)
    after = _snapshot(lake)
    after.pop(UPDATES.name), before.pop(UPDATES.name)  # only checked_at moves
    assert after == before


def test_dropped_connection_resumes_with_range_and_failure_keeps_tables(
    lake: Lake, feeds: Feeds, corpus: dict[str, int], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    assert not _run(lake, feeds, cache).failed
    before = _snapshot(lake)
    osv = require_shared("osv")
    full = _zip(osv / "pypi")
    feeds.files["/osv/PyPI/all.zip"] = full
    feeds.modes["/osv/PyPI/all.zip"] = "drop-once"
    feeds.files["/kev.json"] = feeds.files["/kev.json"].replace(b'"CVE-', b'"CVE-X', 1)
    broken = _run(lake, feeds, cache)
    assert _status(broken)["osv:PyPI"] == "failed"
    assert "run again to resume" in (broken.failed[0].error or "")
    assert _status(broken)["kev"] == "held"
    assert _snapshot(lake) == before  # neither the PyPI nor the new KEV data landed
    part = cache / "osv-PyPI.zip.part"
    assert part.stat().st_size == len(full) // 2
    feeds.log.clear()
    resumed = _run(lake, feeds, cache)
    assert not resumed.failed, resumed.failed
    (headers, code), *_ = feeds.seen("/osv/PyPI/all.zip")
    assert headers["Range"] == f"bytes={len(full) // 2}-" and code == 206
    assert headers["If-Range"].startswith('"')
    assert _status(resumed)["osv:PyPI"] == "imported" and _status(resumed)["kev"] == "imported"
    assert next(o for o in resumed.outcomes if o.source.name == "osv:PyPI").resumed_from > 0
    count = lake.query("SELECT count(*) AS n FROM cwpp_advisories")[0]["n"]
    assert count == corpus["osv_full"] + 397
    assert not part.exists()


@pytest.mark.parametrize("change", ["ignore-range", "new-content"])
def test_resume_restarts_when_range_ignored_or_file_changed(
    change: str, feeds: Feeds, corpus: dict[str, int], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    path = "/osv/PyPI/all.zip"
    feeds.modes[path] = "drop-once"
    with Lake.open(f"duckdb://{tmp_path / 'lake.duckdb'}") as lake:
        assert _run(lake, feeds, cache).failed
        if change == "ignore-range":
            feeds.modes[path] = "ignore-range"
        else:
            feeds.files[path] = _zip(require_shared("osv") / "pypi", 300)
        feeds.log.clear()
        result = _run(lake, feeds, cache)
        assert not result.failed
        (headers, code), *_ = feeds.seen(path)
        assert "Range" in headers and code == 200
        with zipfile.ZipFile(cache / "osv-PyPI.zip") as archive:
            assert archive.testzip() is None
        expected = 400 if change == "ignore-range" else 300
        assert lake.query("SELECT count(*) AS n FROM cwpp_advisories")[0]["n"] == expected + 397


@pytest.mark.parametrize("fault", ["500", "corrupt-zip", "failing-import", "size-cap"])
def test_failed_update_leaves_previous_tables(
    fault: str,
    lake: Lake,
    feeds: Feeds,
    corpus: dict[str, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = tmp_path / "cache"
    assert not _run(lake, feeds, cache).failed
    before = _snapshot(lake)
    feeds.files["/osv/PyPI/all.zip"] = _zip(require_shared("osv") / "pypi")  # a real change
    kw: dict[str, Any] = {}
    culprit = "osv:AlmaLinux"
    if fault == "500":
        feeds.modes["/osv/AlmaLinux/all.zip"] = "500"
    elif fault == "corrupt-zip":
        raw = bytearray(feeds.files["/osv/AlmaLinux/all.zip"])
        raw[len(raw) // 3 : len(raw) // 3 + 64] = b"\0" * 64
        feeds.files["/osv/AlmaLinux/all.zip"] = bytes(raw)
    elif fault == "size-cap":
        culprit, kw = "osv:PyPI", {"max_bytes": len(feeds.files["/osv/PyPI/all.zip"]) - 1}
    else:
        culprit = "eol"
        feeds.files["/eol"] = feeds.files["/eol"].replace(b'"Python"', b'"Python 3"')

        def boom(*_: Any) -> None:
            raise BadInputError("eol", "import blew up")

        monkeypatch.setattr(update_mod, "import_eol", boom)
    result = _run(lake, feeds, cache, **kw)
    assert [o.source.name for o in result.failed] == [culprit]
    assert {s for n, s in _status(result).items() if n != culprit} <= {"held", "unchanged"}
    assert _snapshot(lake) == before
    if fault == "corrupt-zip":
        assert "corrupt zip" in (result.failed[0].error or "")
        assert not (cache / "osv-AlmaLinux.zip.part").exists()


def _cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _cb() -> None:
        """Test root."""

    root.add_typer(vuln_commands.app, name="vuln")
    return root


def test_cli_update_status_and_errors(
    feeds: Feeds, corpus: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("CWPP_VULN_SOURCE_EOL", feeds.urls()["eol"])
    (tmp_path / "cwpp.yaml").write_text(f"vuln:\n  sources:\n    kev: {feeds.urls()['kev']}\n")
    lake = f"duckdb://{tmp_path / 'lake.duckdb'}"
    args = ["vuln", "db", "update", "--lake", lake, "--ecosystems", "PyPI,AlmaLinux"]
    args += ["--source", f"osv={feeds.urls()['osv']}", "--source", f"epss={feeds.urls()['epss']}"]
    runner = CliRunner()
    out = runner.invoke(_cli(), args)
    assert out.exit_code == 0, out.output
    assert "osv:AlmaLinux: 397 records" in out.output
    assert (tmp_path / "xdg-cache" / "opencwpp" / "vuln" / "kev.json").is_file()
    monkeypatch.setattr(common.console, "width", 250)
    out = runner.invoke(_cli(), ["vuln", "db", "status", "--lake", lake])
    assert out.exit_code == 0 and f"{feeds.base}/osv/AlmaLinux/all.zip " in out.output
    assert "osv:AlmaLinux" in out.output
    feeds.modes["/kev.json"] = "500"
    feeds.files["/eol"] += b" "
    out = runner.invoke(_cli(), args)
    assert out.exit_code == 1
    assert "failed: kev: HTTP 500" in out.output and "nothing imported" in out.output
    assert "osv:PyPI: held" in out.output
    for bad, message in [
        ("nvd=https://example.org/x", "unknown advisory source 'nvd'"),
        ("kev=not a url", "malformed URL"),
        ("kev=http://example.org/kev.json", "is not HTTPS"),
        ("kev", "expected NAME=URL"),
    ]:
        out = runner.invoke(_cli(), [*args, "--source", bad])
        assert out.exit_code != 0 and message in str(out.exception), (bad, out.exception)


def test_redirect_off_loopback_is_refused(
    feeds: Feeds, tmp_path: Path, loopback_only: list[Any]
) -> None:
    class Redirect(_Handler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "https://198.51.100.7/kev.json")
            self.send_header("Content-Length", "0")
            self.end_headers()

    feeds.RequestHandlerClass = Redirect
    sources = [s for s in plan(resolve_urls(feeds.urls()), ["PyPI"]) if s.name == "kev"]
    with Lake.open(f"duckdb://{tmp_path / 'lake.duckdb'}") as lake:
        result = update(lake, sources, Downloader(tmp_path / "cache", timeout=5))
    assert "refused redirect" in (result.failed[0].error or "")
    assert all(addr[0] == "127.0.0.1" for addr in loopback_only)
