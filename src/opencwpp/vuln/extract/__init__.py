"""Package inventory extraction: one module per ecosystem, one registry (`base.REGISTRY`)."""

from opencwpp.vuln.extract import (  # noqa: F401 - importing registers the extractors
    apk,
    cargo,
    composer,
    dotnet,
    dpkg,
    golang,
    java,
    npm,
    python,
    rpm,
    ruby,
)
from opencwpp.vuln.extract.base import REGISTRY, Extractor, Package

__all__ = ["REGISTRY", "Extractor", "Package"]
