"""Loading Sigma rule files with pySigma and compiling each rule to one SQL predicate.

A rule file that does not parse, or a rule the converter cannot express, is reported by name
with its reason (`RuleProblem`); the other rules still run. Correlation rules reference base
rules by name or id across every file loaded together; a base rule referenced by a correlation
with `generate: false` (Sigma's default) only feeds the correlation and does not alert itself.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleNotFoundError
from sigma.rule import SigmaRule

from opencwpp.core.errors import UsageError
from opencwpp.detect.sigma.convert import UnsupportedRule, condition_sql
from opencwpp.detect.sigma.correlation import CorrelationSpec, compile_correlation
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


Rule = SigmaRule | SigmaCorrelationRule


def triage(falsepositives: Iterable[str]) -> str:
    """An alert's remediation: what to check, and the rule's known false positives.

    Sigma has no remediation field; its `falsepositives` say what benign activity looks like,
    so they are given as such, not as a fix.
    """
    known = "; ".join(text.strip().rstrip(".") for text in falsepositives if text.strip())
    text = "Check the matching events with the owner of the identity"
    return f"{text}. Known false positives: {known}." if known else f"{text}."


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
    correlation: CorrelationSpec | None = None

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

    @property
    def evidence(self) -> dict[str, Any]:
        """What an alert keeps of its rule (fresh lists: a caller may change its copy)."""
        return {
            "rule_id": self.id,
            "rule_title": self.title,
            "rule_author": self.author,
            "rule_level": self.level,
            "rule_references": list(self.references),
            "rule_tags": list(self.tags),
            "rule_falsepositives": list(self.falsepositives),
            "rule_path": self.path,
        }

    @property
    def triage(self) -> str:
        """An alert's remediation text (see `triage`)."""
        return triage(self.falsepositives)


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


def _parse(paths: Iterable[str | Path], result: RuleSet) -> list[tuple[Rule, str]]:
    """Every rule of every file with its source; files that do not parse become problems."""
    parsed: list[tuple[Rule, str]] = []
    for path in rule_files(paths):
        try:
            collection = SigmaCollection.from_yaml(
                path.read_text(encoding="utf-8"), resolve_references=False
            )
        except (SigmaError, OSError, UnicodeDecodeError) as err:
            result.problems.append(RuleProblem(str(path), str(err).splitlines()[0]))
            continue
        parsed.extend(
            (item, str(path))
            for item in collection.rules
            if isinstance(item, SigmaRule | SigmaCorrelationRule)
        )
    return parsed


def _correlation(
    rule: SigmaCorrelationRule,
    source: str,
    everything: SigmaCollection,
    compiled: dict[int, CompiledRule],
) -> CompiledRule:
    """Resolves a correlation's references and compiles it (raises `UnsupportedRule`)."""
    members: list[tuple[str, SigmaRule, str]] = []
    for ref in rule.rules or ():
        try:
            target = everything[ref.reference]
        except SigmaRuleNotFoundError as err:
            raise UnsupportedRule(f"unknown rule reference {ref.reference!r}") from err
        if isinstance(target, SigmaCorrelationRule):
            raise UnsupportedRule(f"references correlation rule {ref.reference!r} (not supported)")
        if id(target) not in compiled:
            raise UnsupportedRule(f"referenced rule {ref.reference!r} could not be compiled")
        members.append((ref.reference, target, compiled[id(target)].where))
    spec = compile_correlation(rule, members)
    return CompiledRule(
        id=str(rule.id or rule.name or rule.title),
        title=rule.title,
        level=rule.level.name.lower() if rule.level else "medium",
        where="(" + " OR ".join(m.where for m in spec.members) + ")",
        author=rule.author or "",
        description=rule.description or "",
        references=tuple(str(r) for r in rule.references or ()),
        tags=tuple(str(t) for t in rule.tags or ()),
        falsepositives=tuple(str(f) for f in rule.falsepositives or ()),
        path=source,
        correlation=spec,
    )


def load_rules(paths: Iterable[str | Path]) -> RuleSet:
    """Loads and compiles every rule; unusable ones are listed with their reason."""
    result = RuleSet()
    parsed = _parse(paths, result)
    compiled: dict[int, CompiledRule] = {}
    for item, source in parsed:
        if isinstance(item, SigmaRule):
            try:
                compiled[id(item)] = compile_rule(item, source)
            except (UnsupportedRule, SigmaError) as err:
                result.problems.append(RuleProblem(source, str(err).splitlines()[0]))
    everything = SigmaCollection([item for item, _ in parsed], resolve_references=False)
    correlations: list[CompiledRule] = []
    silenced: set[int] = set()
    for item, source in parsed:
        if not isinstance(item, SigmaCorrelationRule):
            continue
        try:
            correlations.append(_correlation(item, source, everything, compiled))
        except (UnsupportedRule, SigmaError) as err:
            name = item.title or str(item.id)
            reason = str(err).splitlines()[0]
            result.problems.append(RuleProblem(source, f"correlation {name!r}: {reason}"))
            continue
        if not item.generate:
            silenced.update(id(everything[ref.reference]) for ref in item.rules or ())
    result.rules.extend(rule for key, rule in compiled.items() if key not in silenced)
    result.rules.extend(correlations)
    return result
