"""Lambda code fetching without AWS: URL rules, bounded downloads, layers, runtime end of life."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from opencwpp.vuln.cloud.download import DownloadError, check_aws_url, download, s3_object
from opencwpp.vuln.cloud.eol import RuntimeEol
from opencwpp.vuln.cloud.lambda_code import CodeFetcher, FetchError, NotScanned

LAYER = "arn:aws:lambda:us-east-1:111122223333:layer:deps:3"
FN = "arn:aws:lambda:us-east-1:111122223333:function:app"
SIGNED = "https://prod-04-2014-tasks.s3.us-east-1.amazonaws.com/snapshots/x?X-Amz-Signature=SECRET"


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


BLOBS = {
    "/code": _zip({"Django-3.2.0.dist-info/METADATA": "Name: Django\nVersion: 3.2.0\n"}),
    "/layer": _zip(
        {"python/requests-2.0.0.dist-info/METADATA": "Name: requests\nVersion: 2.0.0\n"}
    ),
    "/big": b"x" * 4096,
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = BLOBS.get(self.path.split("?")[0])
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_code_locations_must_be_https_aws_urls() -> None:
    assert check_aws_url(SIGNED) == SIGNED
    for bad in ("http://x.s3.amazonaws.com/k", "file:///etc/passwd", "https://evil.example/k"):
        with pytest.raises(DownloadError, match="code location refused") as err:
            check_aws_url(bad)
        assert "passwd" not in str(err.value) and "/k" not in str(err.value)
    assert s3_object("https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/a%20b") == (
        "awslambda-us-east-1-tasks",
        "a b",
    )
    assert s3_object("https://lambda.us-east-1.amazonaws.com/x") is None


def test_download_is_bounded_and_never_shows_the_url(server: str, tmp_path: Path) -> None:
    assert download(f"{server}/code?X-Amz-Signature=SECRET", tmp_path / "a") == len(BLOBS["/code"])
    for path, limit, why in (("/big", 1000, "exceeds 1000 bytes"), ("/nope", 10**6, "HTTP 404")):
        with pytest.raises(DownloadError, match=why) as err:
            download(f"{server}{path}?X-Amz-Signature=SECRET", tmp_path / "b", max_bytes=limit)
        assert "SECRET" not in str(err.value) and "127.0.0.1" not in str(err.value)
    with pytest.raises(DownloadError, match="download failed") as err:
        download("http://127.0.0.1:9/x?X-Amz-Signature=SECRET", tmp_path / "c")
    assert "SECRET" not in str(err.value)


class _Client:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __getattr__(self, op: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append(op)
            answer = self.answers[op]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


class _Ctx:
    """An AwsContext stand-in pointing at an emulator (presigned URLs to the loopback server)."""

    custom_endpoint = True
    endpoint_url = "http://127.0.0.1"

    def __init__(self, server: str, lam: dict[str, Any]) -> None:
        self.lam = _Client(lam)
        self.s3 = _Client({})
        self.server = server

    def client(self, service: str, region: str | None = None) -> Any:
        if service == "s3":
            return self

        return self.lam

    def generate_presigned_url(self, _op: str, Params: dict[str, str], **_: Any) -> str:
        return f"{self.server}/{Params['Key']}?X-Amz-Signature=SECRET"


def _location(key: str) -> str:
    return f"https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/{key}"


def _function(**config: Any) -> dict[str, Any]:
    base = {"FunctionArn": FN, "FunctionName": "app", "Runtime": "python3.8"}
    return {"Configuration": {**base, **config}, "Code": {"Location": _location("code")}}


def test_function_code_and_layers_are_inventoried_once(server: str) -> None:
    ctx = _Ctx(
        server,
        {
            "get_function": _function(Layers=[{"Arn": LAYER}]),
            "get_layer_version_by_arn": {"Content": {"Location": _location("layer")}},
        },
    )
    fetcher = CodeFetcher(ctx)  # type: ignore[arg-type]
    fn, inv = fetcher.function(FN, "us-east-1")
    assert fn.layers == [LAYER] and inv.target == FN
    assert [(p.name, p.version) for p in inv.packages] == [("Django", "3.2.0")]
    for _ in range(2):
        packages, problems = fetcher.layer(LAYER, "us-east-1")
        assert [(p.name, p.layer) for p in packages] == [("requests", LAYER)] and problems == []
    assert ctx.lam.calls.count("get_layer_version_by_arn") == 1


def test_unreadable_functions_and_layers_raise_one_line_errors(server: str) -> None:
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetLayerVersion"
    )
    ctx = _Ctx(server, {"get_layer_version_by_arn": denied, "get_function": _function()})
    fetcher = CodeFetcher(ctx, max_bytes=100)  # type: ignore[arg-type]
    with pytest.raises(FetchError, match="GetLayerVersion refused: AccessDeniedException"):
        fetcher.layer(LAYER, "us-east-1")
    with pytest.raises(FetchError, match="exceeds 100 bytes"):
        fetcher.function(FN, "us-east-1")
    ctx.lam.answers["get_function"] = {"Configuration": {"FunctionArn": FN, "PackageType": "Image"}}
    with pytest.raises(NotScanned):
        fetcher.function(FN, "us-east-1")
    ctx.lam.answers["get_function"] = {
        "Configuration": {"FunctionArn": FN},
        "Code": {"Location": _location("big")},
    }
    with pytest.raises(FetchError, match=f"{FN}: the code package is not a zip"):
        CodeFetcher(ctx).function(FN, "us-east-1")  # type: ignore[arg-type]


def test_zip_bomb_is_refused_before_extraction(server: str) -> None:
    BLOBS["/bomb"] = _zip({"a.txt": "0" * 200_000})
    ctx = _Ctx(
        server,
        {
            "get_function": {
                "Configuration": {"FunctionArn": FN},
                "Code": {"Location": _location("bomb")},
            }
        },
    )
    with pytest.raises(FetchError, match="unzips to 200000 bytes, over 100000"):
        CodeFetcher(ctx, max_bytes=100_000).function(FN, "us-east-1")  # type: ignore[arg-type]


def test_runtime_end_of_life() -> None:
    old = RuntimeEol("python3.8", "Python 3.8", date(2024, 10, 14), flagged=False)
    assert old.past(date(2024, 10, 14)) and not old.past(date(2024, 10, 13))
    assert "past end of life since 2024-10-14" in old.reason()
    assert RuntimeEol("dotnet7", ".NET 7", None, flagged=True).past(date(2000, 1, 1))
    assert not RuntimeEol("x", "x", None, flagged=False).past(date(2100, 1, 1))
