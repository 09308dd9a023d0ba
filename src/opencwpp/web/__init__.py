"""The dashboard: a FastAPI app over the lake; its writes are mute rules and scans it starts."""

from opencwpp.web.app import WebConfig, create_app
from opencwpp.web.scan import AwsScan

__all__ = ["AwsScan", "WebConfig", "create_app"]
