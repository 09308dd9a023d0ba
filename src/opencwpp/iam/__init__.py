"""The AWS IAM policy evaluator: policies + request → Allow / ImplicitDeny / ExplicitDeny + why."""

from opencwpp.iam.evaluator import evaluate
from opencwpp.iam.model import (
    DecidingStatement,
    Decision,
    DecisionKind,
    Effect,
    Origin,
    PolicyError,
    PolicySet,
    Request,
    Source,
    Statement,
)

__all__ = [
    "DecidingStatement",
    "Decision",
    "DecisionKind",
    "Effect",
    "Origin",
    "PolicyError",
    "PolicySet",
    "Request",
    "Source",
    "Statement",
    "evaluate",
]
