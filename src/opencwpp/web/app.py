"""The dashboard application: configuration, the lake per request, templates and errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from opencwpp import __version__
from opencwpp.core.errors import CwppError, UsageError
from opencwpp.lake.lake import Lake, redact_url
from opencwpp.report import text
from opencwpp.web.scan import AwsScan, Scanner
from opencwpp.web.security import Guard


@dataclass(frozen=True, slots=True)
class WebConfig:
    """How the dashboard runs: its lake, mutelist, access rule, and what a scan from it does.

    `aws_scan` set: the dashboard's Scan button syncs AWS with those settings, then assesses;
    unset: it assesses the lake as it is. `scan_enabled=False` hides the button and refuses scans.
    """

    lake_url: str
    mutelist: Path | None = None
    token: str | None = None
    loopback_only: bool = True
    aws_scan: AwsScan | None = None
    scan_enabled: bool = True


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("opencwpp.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clean"] = text.clean
    env.filters["clean_keep_lines"] = _clean_keep_lines
    env.filters["truncate_text"] = text.truncate
    env.filters["dict_without_empty"] = lambda d: {k: v for k, v in d.items() if v}
    env.filters["combine"] = lambda a, b: {**a, **b}
    env.filters["when"] = _when
    env.filters["when_exact"] = _when_exact
    return env


def _when(value: object) -> str:
    """A timestamp as `YYYY-MM-DD HH:MM` (the lake stores UTC); other values as text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else text.clean(str(value))


def _when_exact(value: object) -> str:
    """A timestamp to the second, `YYYY-MM-DD HH:MM:SS` (event times); other values as text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else text.clean(str(value))


def _clean_keep_lines(value: str) -> str:
    """`text.clean` per line: control characters replaced, line breaks kept (for <pre>)."""
    return "\n".join(text.clean(line) for line in value.split("\n"))


TEMPLATES = Jinja2Templates(env=_environment())


def lake_of(request: Request) -> Iterator[Lake]:
    """A FastAPI dependency: the lake, opened for this request and closed after it."""
    config: WebConfig = request.app.state.config
    with Lake.open(config.lake_url) as lake:
        yield lake


def create_app(config: WebConfig) -> FastAPI:
    """The dashboard app for `config` (pages at /, JSON API and OpenAPI under /api)."""
    from opencwpp.web import api, pages, scan_api  # routes import the helpers above

    app = FastAPI(
        title="opencwpp",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN: not here
        redoc_url=None,
    )
    app.state.config = config
    app.state.lake_label = redact_url(config.lake_url)
    app.state.scanner = Scanner(config.lake_url, config.mutelist, config.aws_scan)
    app.middleware("http")(Guard(config.token, config.loopback_only))
    static = Path(str(files("opencwpp.web") / "static"))
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.include_router(api.router)
    app.include_router(scan_api.router)
    app.include_router(pages.router)

    @app.exception_handler(CwppError)
    async def _cwpp_error(request: Request, err: CwppError) -> Response:
        status = 400 if isinstance(err, UsageError) else 500
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(err)}, status_code=status)
        return TEMPLATES.TemplateResponse(
            request, "error.html.j2", {"message": str(err)}, status_code=status
        )

    return app
