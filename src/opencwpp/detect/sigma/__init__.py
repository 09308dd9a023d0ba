"""Sigma rules over `aws_cloudtrail_events`: pySigma parses, our converter writes the SQL."""

from opencwpp.detect.sigma.rules import CompiledRule, RuleProblem, RuleSet, compile_rule, load_rules

__all__ = ["CompiledRule", "RuleProblem", "RuleSet", "compile_rule", "load_rules"]
