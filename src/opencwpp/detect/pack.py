"""opencwpp's own rule pack: Sigma files shipped under `detect/rules/<tactic>/`.

Written from the attack techniques themselves (Stratus Red Team's catalogue, ATT&CK for
cloud), author "opencwpp"; `cwpp detect run` loads it unless told not to.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from opencwpp.detect.sigma.rules import RuleSet, load_rules

PACK_DIR = Path(__file__).resolve().parent / "rules"


def pack_files() -> list[Path]:
    """Every rule file of the pack (sorted)."""
    return sorted(PACK_DIR.rglob("*.yml"))


def load_pack(extra: Iterable[str | Path] = (), *, builtin: bool = True) -> RuleSet:
    """The pack's rules (unless `builtin` is False) plus any other Sigma files or folders."""
    paths: list[str | Path] = [PACK_DIR] if builtin else []
    paths.extend(extra)
    return load_rules(paths)
