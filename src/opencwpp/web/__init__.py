"""The dashboard: a FastAPI app over the lake, read-only except for adding mute rules."""

from opencwpp.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
