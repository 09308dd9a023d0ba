"""Errors of the vulnerability pillar: each names the input and what was wrong with it."""

from opencwpp.core.errors import CwppError


class InvalidVersionError(CwppError):
    """A version string that the ecosystem's ordering cannot parse."""


class BadInputError(CwppError):
    """An input (archive, SBOM, OSV record, database file) that cannot be read."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem
