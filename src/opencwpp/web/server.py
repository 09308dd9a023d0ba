"""Running the dashboard: in the foreground for `cwpp serve`, or in a thread for tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from opencwpp.core.errors import CwppError, UsageError
from opencwpp.web.app import WebConfig, create_app
from opencwpp.web.security import is_loopback


def check_binding(host: str, token: str | None) -> None:
    """Binding beyond loopback requires a token; a short one is refused."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"--host {host} exposes the dashboard beyond this machine: "
            "give --token (or CWPP_SERVE_TOKEN) too"
        )
    if token is not None and len(token) < 16:
        raise UsageError("--token must be at least 16 characters")


def serve(config: WebConfig, host: str, port: int) -> None:
    """Runs the dashboard until interrupted."""
    check_binding(host, config.token)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)


@contextmanager
def running(config: WebConfig, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serves in a background thread; yields the base URL; stops on exit (port 0 = a free one)."""
    check_binding(host, config.token)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config), host=host, port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="cwpp-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise CwppError(f"the dashboard did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
