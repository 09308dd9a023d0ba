"""Shared pytest fixtures: a moto server on loopback and the demo estate built in it.

Import them where needed (`from moto_fixtures import moto_endpoint, demo_estate`) or list this
module in a conftest's `pytest_plugins`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from opencwpp.demo.estate import EstateManifest, build_estate
from opencwpp.demo.moto_server import fake_credentials_env, moto_server


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server on 127.0.0.1 for the session; fake credentials, no real AWS config."""
    empty = tmp_path_factory.mktemp("aws") / "empty"
    Path(empty).write_text("")
    env = {
        **fake_credentials_env(),
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(key, raising=False)
        with moto_server() as url:
            assert url.startswith("http://127.0.0.1:")
            yield url
    assert os.environ.get("MOTO_EC2_LOAD_DEFAULT_AMIS") == "false"


@pytest.fixture(scope="session")
def demo_estate(moto_endpoint: str) -> EstateManifest:
    """The demo estate (good and bad resources), built once per session."""
    return build_estate(moto_endpoint, region="us-east-1")
