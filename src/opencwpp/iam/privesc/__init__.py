"""Privilege escalation: techniques as data, a graph of who can become whom, paths to admin."""

from opencwpp.iam.access import ADMIN_PROBES
from opencwpp.iam.privesc.findings import CHECK_ID, PrivescResult, analyse, run_privesc
from opencwpp.iam.privesc.graph import Edge, Graph
from opencwpp.iam.privesc.targets import ADMIN
from opencwpp.iam.privesc.techniques import (
    TECHNIQUES,
    Model,
    Technique,
    TechniqueError,
    load_techniques,
    technique,
)

__all__ = [
    "ADMIN",
    "ADMIN_PROBES",
    "CHECK_ID",
    "TECHNIQUES",
    "Edge",
    "Graph",
    "Model",
    "PrivescResult",
    "Technique",
    "TechniqueError",
    "analyse",
    "load_techniques",
    "run_privesc",
    "technique",
]
