"""The scan endpoints: start one (POST, guarded like the mute action) and poll its progress.

POST needs what every dashboard write needs (`web.security.Guard`): a loopback host or the token,
and the `X-CWPP-Request` header a cross-site form cannot send. A second POST while a scan runs
answers 409 with the running scan's status.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from opencwpp.web.app import WebConfig
from opencwpp.web.scan import ScanBusy, Scanner

router = APIRouter(prefix="/api", tags=["scan"])


def scanner_of(request: Request) -> Scanner:
    """The app's one scanner."""
    scanner: Scanner = request.app.state.scanner
    return scanner


@router.post("/scan", status_code=202)
def api_start_scan(request: Request) -> Any:
    """Starts sync (when the server has AWS settings) and assess in the background."""
    config: WebConfig = request.app.state.config
    if not config.scan_enabled:
        return JSONResponse({"error": "scans are disabled on this dashboard"}, status_code=403)
    scanner = scanner_of(request)
    try:
        return scanner.start().to_dict()
    except ScanBusy as busy:
        return JSONResponse({"error": str(busy), "scan": scanner.status.to_dict()}, status_code=409)


@router.get("/scan")
def api_scan_status(request: Request) -> Any:
    """The current or last scan: state, phase, step, percent, error, result."""
    return scanner_of(request).status.to_dict()
