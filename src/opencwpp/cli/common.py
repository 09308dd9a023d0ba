"""What every command shares: settings, the lake, consoles, and turning errors into exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape as rich_escape

from opencwpp.config import Settings, load_settings
from opencwpp.core.errors import UsageError
from opencwpp.core.models import Severity
from opencwpp.findings import Mutelist, load_mutelist
from opencwpp.lake import Lake

console = Console(highlight=False)
# Errors stay one line however narrow the terminal, so scripts can grep them.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

LakeOption = typer.Option(
    None, "--lake", help="Lake URL (duckdb:///path or postgresql://…); env CWPP_LAKE."
)


@dataclass
class AppState:
    """Options given before the command (`cwpp --config F …`)."""

    config_file: Path | None = None


def settings(ctx: typer.Context, **overrides: Any) -> Settings:
    """The merged settings: config file < environment < these flags."""
    state: AppState = ctx.obj or AppState()
    return load_settings(state.config_file, overrides=overrides)


@contextmanager
def open_lake(url: str) -> Iterator[Lake]:
    """Opens the lake for one command."""
    with Lake.open(url) as lake:
        yield lake


def mutelist_of(settings_: Settings) -> Mutelist | None:
    """The configured mutelist, with a warning per expired rule."""
    if settings_.mutelist is None:
        return None
    mutelist = load_mutelist(settings_.mutelist)
    for rule in mutelist.expired():
        err_console.print(
            f"[yellow]warning:[/] mute rule for {rule.check!r} owned by {rule.owner} expired "
            f"on {rule.expires}; it no longer mutes anything"
        )
    return mutelist


def parse_severity(value: str | None) -> Severity | None:
    """A severity name from the command line (case-insensitive)."""
    if value is None:
        return None
    try:
        return Severity(value.lower())
    except ValueError:
        names = ", ".join(s.value for s in Severity)
        raise UsageError(f"unknown severity {value!r}: use one of {names}") from None


def split_csv(values: list[str] | None) -> list[str]:
    """`--regions a,b --regions c` → [a, b, c]."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def escape(text: str) -> str:
    """Cloud-supplied text made safe for Rich markup (names and tags are attacker-controlled)."""
    return rich_escape(text)
