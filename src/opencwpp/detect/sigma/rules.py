"""Loading Sigma rule files with pySigma and compiling each rule to one SQL predicate.

A rule file that does not parse, or a rule the converter cannot express, is reported by name
with its reason (`RuleProblem`); the other rules still run.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from opencwpp.core.errors import UsageError
from opencwpp.detect.sigma.convert import UnsupportedRule, condition_sql
from opencwpp.detect.sigma.fields import cloudtrail_pipeline

# ATT&CK enterprise tactics: Sigma tags name them, findings carry their ids too.
TACTICS = {
    "reconnaissance": "TA0043",
    "resource-development": "TA0042",
    "initial-access": "TA0001",
    "execution": "TA0002",
    "persistence": "TA0003",
    "privilege-escalation": "TA0004",
    "defense-evasion": "TA0005",
    "credential-access": "TA0006",
    "discovery": "TA0007",
    "lateral-movement": "TA0008",
    "collection": "TA0009",
    "command-and-control": "TA0011",
    "exfiltration": "TA0010",
    "impact": "TA0040",
}


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A Sigma rule with what an alert must keep (DRL: the author) and its SQL predicate."""

    id: str
    title: str
    level: str
    where: str
    author: str = ""
    description: str = ""
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    path: str = ""
    kind: str = "sigma"

    @property
    def check_id(self) -> str:
        """The finding check id: `sigma:<rule id>`, or `stateful:<id>` for our SQL detections."""
        return f"{self.kind}:{self.id}"

    @property
    def mitre_attack(self) -> tuple[str, ...]:
        """ATT&CK technique ids (T1562.008) and tactic ids (TA0005) from the tags."""
        out: list[str] = []
        for tag in self.tags:
            namespace, _, name = tag.partition(".")
            if namespace != "attack":
                continue
            if name[:1].lower() == "t" and name[1:2].isdigit():
                out.append(name.upper())
            elif name in TACTICS:
                out.append(TACTICS[name])
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """A rule (or file) that could not be used, and why."""

    source: str
    reason: str


@dataclass
class RuleSet:
    """The rules that compiled, and the problems of those that did not."""

    rules: list[CompiledRule] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)


def compile_rule(rule: SigmaRule, source: str = "") -> CompiledRule:
    """One parsed rule → SQL predicate (raises `UnsupportedRule` / `SigmaError`)."""
    rule = copy.deepcopy(rule)
    cloudtrail_pipeline().apply(rule)
    parts = [condition_sql(cond.parsed) for cond in rule.detection.parsed_condition]
    where = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    return CompiledRule(
        id=str(rule.id or rule.name or rule.title),
        title=rule.title,
        level=rule.level.name.lower() if rule.level else "medium",
        where=where,
        author=rule.author or "",
        description=rule.description or "",
        references=tuple(str(r) for r in rule.references or ()),
        tags=tuple(str(t) for t in rule.tags or ()),
        falsepositives=tuple(str(f) for f in rule.falsepositives or ()),
        path=source,
    )


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    """Sigma YAML files named, or found under folders (sorted)."""
    out: list[Path] = []
    for item in paths:
        path = Path(item).expanduser()
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")))
        else:
            raise UsageError(f"no such rule file or folder: {item}")
    return out


def load_rules(paths: Iterable[str | Path]) -> RuleSet:
    """Loads and compiles every rule; unusable ones are listed with their reason."""
    result = RuleSet()
    for path in rule_files(paths):
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
        except (SigmaError, OSError, UnicodeDecodeError) as err:
            result.problems.append(RuleProblem(str(path), str(err).splitlines()[0]))
            continue
        for item in collection.rules:
            if isinstance(item, SigmaCorrelationRule):
                result.problems.append(
                    RuleProblem(str(path), "correlation rules are not supported yet")
                )
                continue
            if not isinstance(item, SigmaRule):
                continue
            try:
                result.rules.append(compile_rule(item, str(path)))
            except (UnsupportedRule, SigmaError) as err:
                result.problems.append(RuleProblem(str(path), str(err).splitlines()[0]))
    return result
