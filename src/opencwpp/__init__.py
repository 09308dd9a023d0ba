"""opencwpp: an open-source Cloud Workload Protection Platform over an infrastructure data lake.

The small public API: open a lake, run the checks, read the findings.
"""

from opencwpp.core.models import Finding, Pillar, ResourceRef, Severity, Status
from opencwpp.lake import Lake, Scope

__version__ = "0.1.0"

__all__ = ["Finding", "Lake", "Pillar", "ResourceRef", "Scope", "Severity", "Status", "__version__"]
