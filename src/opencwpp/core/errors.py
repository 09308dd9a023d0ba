"""Errors a user can act on. The CLI prints their message in one line, never a traceback."""


class CwppError(Exception):
    """Base class of every error opencwpp reports to a user."""

    exit_code = 1


class UsageError(CwppError):
    """The command line or an argument is wrong."""

    exit_code = 2


class ConfigError(CwppError):
    """The configuration file or an option value is invalid."""

    exit_code = 2


class LakeError(CwppError):
    """The lake cannot be opened, reached or written."""


class CheckDefinitionError(CwppError):
    """A check folder (metadata, SQL or cases) is invalid."""


class CredentialsError(CwppError):
    """Cloud credentials are missing, expired or unusable."""
