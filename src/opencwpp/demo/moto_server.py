"""An in-process moto server on a free loopback port, for the demo and the collector tests.

Collectors talk to it over HTTP exactly as they talk to AWS, so the code path is the production
one. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def moto_server(host: str = "127.0.0.1") -> Iterator[str]:
    """Runs moto's ThreadedMotoServer on a free port of `host`; yields its endpoint URL.

    `MOTO_EC2_LOAD_DEFAULT_AMIS=false` is set before moto is imported, so the emulator does not
    preload ~1,170 public AMIs per region (see DESIGN.md, emulator quirks).
    """
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    # The emulator logs a traceback for every API it lacks; those calls are recorded as not
    # assessed by the collector, so the server's own log would only be noise.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO; keep the demo's and the tests' output readable.
    access_log = logging.getLogger("werkzeug")
    previous_level = access_log.level
    access_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    try:
        bound_host, port = server.get_host_and_port()
        yield f"http://{bound_host}:{port}"
    finally:
        server.stop()
        access_log.setLevel(previous_level)


def fake_credentials_env() -> dict[str, str]:
    """Environment variables with moto's fake credentials (never real ones)."""
    return dict(_FAKE_ENV)
