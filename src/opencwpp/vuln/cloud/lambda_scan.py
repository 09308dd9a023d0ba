"""`cwpp vuln scan aws` for Lambda: every function's code and layers, findings keyed to its ARN.

Each function is one target (uid prefix `<function ARN>#`): a rescan resolves its fixed
vulnerabilities and leaves other functions alone. A function that cannot be read is reported
and its previous findings stay as they were; the run goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from botocore.exceptions import ClientError

from opencwpp.collect.aws.session import AwsContext
from opencwpp.collect.base import paginate
from opencwpp.core.models import Finding, ResourceRef
from opencwpp.findings import FindingFilter, finish_run, load_findings, save_findings, start_run
from opencwpp.lake.lake import Lake
from opencwpp.vuln.cloud.download import MAX_BYTES
from opencwpp.vuln.cloud.eol import RuntimeEol, load_runtime_eol
from opencwpp.vuln.cloud.lambda_code import (
    KIND,
    CodeFetcher,
    FetchError,
    Function,
    NotScanned,
    api_error,
)
from opencwpp.vuln.context import ContextIndex
from opencwpp.vuln.findings import build_findings
from opencwpp.vuln.match import AdvisoryIndex, match_packages
from opencwpp.vuln.scan import save_packages


@dataclass
class FunctionScan:
    """The outcome for one function: its findings, or why it was not (fully) scanned."""

    function: Function
    packages: int = 0
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    runtime_eol: str | None = None


@dataclass
class AwsScanResult:
    """Every function met, and the regions that could not be listed."""

    run_id: str
    functions: list[FunctionScan] = field(default_factory=list)
    region_errors: dict[str, str] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        """The findings of every function scanned."""
        return [f for s in self.functions for f in s.findings]


def _enrich(finding: Finding, fn: Function, eol: RuntimeEol | None, today: date) -> Finding:
    """The finding with its cloud resource (account, region, function) and runtime end of life."""
    ev = dict(finding.evidence)
    pkg = ev["package"]
    reasons = list(ev["priority"]["reasons"])
    if eol is not None and eol.past(today):
        reasons.insert(1 if reasons[0].startswith("exploited") else 0, eol.reason())
    ev["priority"] = {**ev["priority"], "reasons": reasons}
    ev["resource"] = {
        "arn": fn.arn,
        "type": KIND,
        "function_name": fn.name,
        "runtime": fn.runtime,
        "account_id": fn.account_id,
        "region": fn.region,
        "layers": fn.layers,
    }
    ref = ResourceRef(
        uid=finding.resource.uid,
        type=KIND,
        account_id=fn.account_id,
        region=fn.region,
        name=f"{pkg['name']} in {fn.name}",
    )
    reason = f"{pkg['name']} {pkg['version']} is affected ({'; '.join(reasons)})"
    return replace(finding, resource=ref, evidence=ev, status_reason=reason)


def _previous_checks(lake: Lake, prefix: str) -> set[str]:
    stored = load_findings(lake, FindingFilter(pillars=("vulnerability",), resource=prefix))
    return {s.finding.check_id for s in stored if s.finding.resource.uid.startswith(prefix)}


def _scan_function(
    lake: Lake,
    run_id: str,
    fetcher: CodeFetcher,
    index: AdvisoryIndex,
    eol: dict[str, RuntimeEol],
    today: date,
    listed: Function,
    contexts: ContextIndex,
) -> FunctionScan:
    result = FunctionScan(listed)
    try:
        fn, inv = fetcher.function(listed.arn, listed.region)
    except NotScanned as err:
        result.skipped = str(err)
        return result
    except FetchError as err:
        result.error = str(err)
        return result
    # The listed (unqualified) ARN is the function's identity, whatever GetFunction echoes.
    fn = replace(fn, arn=listed.arn)
    inv.target = fn.arn
    result.function, complete = fn, True
    for layer in fn.layers:
        try:
            packages, problems = fetcher.layer(layer, fn.region)
        except FetchError as err:
            inv.problems.append(str(err))
            complete = False
            continue
        inv.packages.extend(packages)
        inv.problems.extend(problems)
    save_packages(lake, inv)
    runtime = eol.get(fn.runtime or "")
    if runtime is not None and runtime.past(today):
        result.runtime_eol = runtime.reason()
    hits = match_packages(index, inv.packages)
    context = contexts.for_lambda(fn.arn)
    result.findings = [
        _enrich(f, fn, runtime, today)
        for f in build_findings(lake, index, fn.arn, KIND, hits, context)
    ]
    prefix = f"{fn.arn}#"
    # With a layer unread, only the vulnerabilities found again are judged (nothing resolved
    # because its package could not be seen).
    assessed = _previous_checks(lake, prefix) if complete else set()
    save_findings(lake, run_id, result.findings, assessed, resource_prefix=prefix)
    result.packages, result.problems = len(inv.packages), inv.problems
    return result


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _resolve_gone(lake: Lake, run_id: str, region_prefix: str, present: set[str]) -> None:
    """Resolves the findings of functions of a fully listed region that no longer exist."""
    stored = load_findings(lake, FindingFilter(pillars=("vulnerability",), resource=region_prefix))
    gone: dict[str, set[str]] = {}
    for s in stored:
        arn, sep, _ = s.finding.resource.uid.partition("#")
        if sep and arn.startswith(region_prefix) and arn not in present:
            gone.setdefault(arn, set()).add(s.finding.check_id)
    for arn, checks in sorted(gone.items()):
        save_findings(lake, run_id, [], checks, resource_prefix=f"{arn}#")
        lake.execute("DELETE FROM cwpp_packages WHERE resource_uid = ?", [arn])


def scan_lambda(
    lake: Lake,
    ctx: AwsContext,
    regions: Sequence[str],
    *,
    index: AdvisoryIndex | None = None,
    today: date | None = None,
    max_bytes: int = MAX_BYTES,
) -> AwsScanResult:
    """Scans every Lambda function (zip package and layers) of `regions` into the lake."""
    run_id = start_run(lake, "vuln-scan-aws")
    result = AwsScanResult(run_id)
    index = index or AdvisoryIndex(lake)
    eol = load_runtime_eol(lake)
    today = today or datetime.now(UTC).date()
    fetcher = CodeFetcher(ctx, max_bytes)
    contexts = ContextIndex(lake)
    for region in regions:
        try:
            listed = paginate(ctx.client("lambda", region), "list_functions", "Functions")
        except ClientError as err:
            result.region_errors[region] = str(api_error("ListFunctions", err))
            continue
        functions = [Function.of(item, region) for item in listed]
        for fn in functions:
            scanned = _scan_function(lake, run_id, fetcher, index, eol, today, fn, contexts)
            result.functions.append(scanned)
        prefix = f"arn:{_partition(region)}:lambda:{region}:{ctx.account_id}:function:"
        _resolve_gone(lake, run_id, prefix, {fn.arn for fn in functions})
    summary = {
        "functions": len(result.functions),
        "scanned": sum(1 for s in result.functions if not (s.error or s.skipped)),
        "failed": sum(1 for s in result.functions if s.error),
        "findings": len(result.findings),
        "regions_failed": sorted(result.region_errors),
    }
    finish_run(lake, run_id, "ok", summary)
    return result
