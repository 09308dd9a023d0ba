"""A moto server on loopback that counts the API calls it answers, per service and outcome.

Counting happens at the emulator, so every tool is measured the same way whatever HTTP stack it
uses: one WSGI request is one API call (retries included, each is a request). The service comes
from the SigV4 credential scope (`Credential=AKID/date/region/service/aws4_request`); the
emulator's own control API (`/moto-api/`) is not counted.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(slots=True)
class CallCounter:
    """Thread-safe counts of requests: by service, by HTTP status class, and in total."""

    by_service: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, service: str, status: str) -> None:
        """Counts one answered request."""
        with self.lock:
            self.by_service[service] += 1
            self.by_status[status[:1] + "xx"] += 1

    def take(self) -> dict[str, Any]:
        """Returns the counts so far and starts again from zero."""
        with self.lock:
            out = {
                "total": sum(self.by_service.values()),
                "by_service": dict(self.by_service.most_common()),
                "by_status": dict(sorted(self.by_status.items())),
            }
            self.by_service.clear()
            self.by_status.clear()
            return out


def service_of(environ: dict[str, Any]) -> str:
    """The AWS service a request is for, from its signature scope ("unsigned" when none)."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    match = _SCOPE.search(auth) or _SCOPE.search(str(environ.get("QUERY_STRING", "")))
    return match.group(2) if match else "unsigned"


_NO_REGIONS = (
    b'<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
    b"<requestId>bench-peers</requestId><regionInfo/></DescribeRegionsResponse>"
)


def _asks_not_opted_in(environ: dict[str, Any]) -> bool:
    """Whether this is DescribeRegions filtered to regions not opted in (peeks at the body).

    moto ignores DescribeRegions filters (DESIGN.md, emulator quirks) and so reports every
    region as not opted in; AWS answers an empty list for an account using only default
    regions. Tools that honour the filter (ScoutSuite) would otherwise scan no region at all.
    """
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    text = body + str(environ.get("QUERY_STRING", "")).encode()
    return b"Action=DescribeRegions" in text and b"not-opted-in" in text


class CountingApp:
    """WSGI middleware: passes each request to moto and counts it once it is answered."""

    def __init__(self, app: WsgiApp, counter: CallCounter) -> None:
        self.app = app
        self.counter = counter

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serves one request."""
        if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
            return self.app(environ, start_response)
        service = service_of(environ)
        if service == "ec2" and _asks_not_opted_in(environ):
            self.counter.add(service, "200 OK")
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [_NO_REGIONS]

        def counted(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.counter.add(service, status)
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, counted)
        except Exception:
            self.counter.add(service, "500 INTERNAL SERVER ERROR")
            raise


@contextmanager
def counting_moto(host: str = "127.0.0.1") -> Iterator[tuple[str, CallCounter]]:
    """Runs moto (threaded) on a free port of `host` behind CountingApp; yields (URL, counter).

    moto must not preload public AMIs (DESIGN.md, emulator quirks), and it loads AWS-managed
    IAM policies as a real account has them (AdministratorAccess, ReadOnlyAccess ...).
    """
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("the emulator only listens on loopback")
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    counter = CallCounter()
    app = CountingApp(DomainDispatcherApplication(create_backend_app), counter)
    server = make_server(host, 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}", counter
    finally:
        server.shutdown()
        thread.join()
