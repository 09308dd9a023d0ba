"""Evaluator throughput, and the full privilege-escalation analysis of a generated account.

Throughput: identity policies of 20 statements (wildcard actions, ARN patterns, variables,
conditions), a boundary on a third of the principals, bucket / key / trust policies, two SCP levels.
Privesc: 2,000 roles, 500 users and 5,000 managed policies, 600 role-carrying resources; the
graph and shortest paths over all 107 techniques, with the peak RSS of the process.
Run: .venv/bin/python bench/iam_bench.py [--requests N] [--only throughput|privesc]
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from typing import Any

from opencwpp.iam import PolicySet, Request, evaluate
from opencwpp.iam.estate import Carrier, Estate, Group, PolicyDoc, Principal
from opencwpp.iam.privesc import analyse

A, B = "111122223333", "444455556666"
SERVICES = ["s3", "ec2", "iam", "kms", "sqs", "sns", "dynamodb", "lambda", "logs", "sts"]
VERBS = ["Get*", "List*", "Describe*", "Put*", "Create*", "Delete*", "*", "Update*"]


def identity_policy(rng: random.Random) -> dict[str, object]:
    statements: list[dict[str, object]] = []
    for i in range(20):
        service = rng.choice(SERVICES)
        statement: dict[str, object] = {
            "Sid": f"S{i}",
            "Effect": "Deny" if i % 9 == 8 else "Allow",
            "Action": [f"{service}:{rng.choice(VERBS)}" for _ in range(rng.randint(1, 4))],
            "Resource": rng.choice(
                [
                    "*",
                    f"arn:aws:{service}:*:{A}:*",
                    "arn:aws:s3:::data-${aws:PrincipalTag/team}/*",
                    f"arn:aws:{service}:eu-west-1:{A}:thing/{rng.randint(1, 50)}*",
                ]
            ),
        }
        if i % 3 == 0:
            statement["Condition"] = {
                "StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
            }
        if i % 5 == 0:
            statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def policy_sets(rng: random.Random, count: int) -> list[PolicySet]:
    scp = [
        [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ],
        [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": ["cloudtrail:Stop*", "organizations:*"],
                        "Resource": "*",
                    },
                ],
            }
        ],
    ]
    bucket = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{B}:root", f"arn:aws:iam::{A}:role/R1"]},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::data-red/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::data-red/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    out = []
    for i in range(count):
        out.append(
            PolicySet(
                identity=[identity_policy(rng) for _ in range(rng.randint(1, 3))],
                resource=bucket if i % 2 else None,
                boundary={
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": ["s3:*", "kms:*", "sqs:*"], "Resource": "*"}
                    ],
                }
                if i % 3 == 0
                else None,
                scp=scp,
            )
        )
    return out


def requests(rng: random.Random, count: int) -> list[Request]:
    out = []
    for _ in range(count):
        service = rng.choice(SERVICES)
        verb = rng.choice(
            ["GetObject", "ListBuckets", "PutItem", "DeleteQueue", "Decrypt", "CreateUser"]
        )
        action = f"{service}:{verb}"
        resource = rng.choice(
            [
                "arn:aws:s3:::data-red/k.csv",
                f"arn:aws:{service}:eu-west-1:{A}:thing/{rng.randint(1, 60)}",
                f"arn:aws:sqs:eu-west-1:{A}:q",
            ]
        )
        out.append(
            Request(
                principal=rng.choice(
                    [
                        f"arn:aws:iam::{A}:user/u{rng.randint(1, 9)}",
                        f"arn:aws:sts::{A}:assumed-role/R1/s",
                        f"arn:aws:sts::{B}:assumed-role/X/s",
                    ]
                ),
                action=action,
                resource=resource,
                resource_account=A,
                context={
                    "aws:RequestedRegion": rng.choice(["eu-west-1", "us-east-1"]),
                    "aws:SourceIp": rng.choice(["203.0.113.9", "198.51.100.2", "2001:db8::5"]),
                    "aws:MultiFactorAuthPresent": rng.choice([True, False]),
                    "aws:SecureTransport": True,
                    "aws:PrincipalTag/team": rng.choice(["red", "blue"]),
                },
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--policy-sets", type=int, default=200)
    parser.add_argument("--only", choices=["throughput", "privesc"], default=None)
    args = parser.parse_args()
    if args.only != "privesc":
        throughput(args)
    if args.only != "throughput":
        run_privesc_bench()


def throughput(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    t0 = time.perf_counter()
    sets = policy_sets(rng, args.policy_sets)
    t1 = time.perf_counter()
    reqs = requests(rng, 2_000)
    outcomes: dict[str, int] = {}
    start = time.perf_counter()
    for i in range(args.requests):
        decision = evaluate(sets[i % len(sets)], reqs[i % len(reqs)])
        outcomes[decision.kind.value] = outcomes.get(decision.kind.value, 0) + 1
    elapsed = time.perf_counter() - start
    statements = sum(len(s.identity) for s in sets) / len(sets)
    print(
        f"policy sets: {len(sets)} (avg {statements:.0f} identity statements), "
        f"normalised in {t1 - t0:.2f} s"
    )
    print(
        f"decisions: {args.requests} in {elapsed:.2f} s → {args.requests / elapsed:,.0f} per second"
    )
    print(f"outcomes: {outcomes}")


# -- the privilege-escalation analysis of a generated account ------------------------------------

TRUSTED_SERVICES = [
    "ec2.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "glue.amazonaws.com",
    "codebuild.amazonaws.com",
    "sagemaker.amazonaws.com",
    "states.amazonaws.com",
    "cloudformation.amazonaws.com",
]
WORK = ["s3", "dynamodb", "sqs", "sns", "logs", "cloudwatch", "ec2", "lambda", "kms", "ecr"]


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _policy(rng: random.Random, i: int) -> dict[str, Any]:
    """A managed policy: mostly workload access, sometimes IAM or PassRole, rarely admin."""
    statements: list[dict[str, Any]] = []
    for _ in range(rng.randint(2, 8)):
        service = rng.choice(WORK)
        statements.append(
            {
                "Effect": "Allow",
                "Action": [f"{service}:{rng.choice(VERBS)}" for _ in range(rng.randint(1, 5))],
                "Resource": rng.choice(["*", f"arn:aws:{service}:*:{A}:app{rng.randint(1, 40)}*"]),
            }
        )
    roll = rng.random()
    if roll < 0.05:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": f"arn:aws:iam::{A}:role/svc-{rng.randint(0, 60)}*",
                "Condition": {
                    "StringEquals": {"iam:PassedToService": rng.choice(TRUSTED_SERVICES)}
                },
            }
        )
    elif roll < 0.08:
        statements.append(
            {
                "Effect": "Allow",
                "Action": rng.choice([["iam:CreateAccessKey"], ["sts:AssumeRole"], ["iam:Get*"]]),
                "Resource": rng.choice(["*", f"arn:aws:iam::{A}:user/dev-{rng.randint(0, 50)}*"]),
            }
        )
    elif roll < 0.09:
        statements.append({"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "*"})
    if i % 997 == 0:
        statements = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    return _doc(*statements)


def privesc_estate(
    rng: random.Random, roles: int = 2_000, users: int = 500, policies: int = 5_000
) -> Estate:
    estate = Estate()
    arns = [f"arn:aws:iam::{A}:policy/p{i}" for i in range(policies)]
    for i, arn in enumerate(arns):
        estate.managed[arn] = _policy(rng, i)

    def attached(n: int) -> tuple[PolicyDoc, ...]:
        return tuple(PolicyDoc(a, estate.managed[a]) for a in rng.sample(arns, n))

    for g in range(20):
        arn = f"arn:aws:iam::{A}:group/g{g}"
        docs = attached(rng.randint(1, 3))
        estate.groups[arn] = Group(arn, A, f"g{g}", docs, tuple(d.ref for d in docs))
    for u in range(users):
        arn = f"arn:aws:iam::{A}:user/dev-{u}"
        groups = tuple(rng.sample(sorted(estate.groups), rng.randint(0, 2)))
        docs = list(attached(rng.randint(1, 4)))
        for group in groups:
            docs += estate.groups[group].policies
        managed = tuple(d.ref for d in docs)
        estate.principals[arn] = Principal(
            arn, "user", A, f"dev-{u}", tuple(docs), None, groups, managed
        )
    for r in range(roles):
        name = f"svc-{r}"
        arn = f"arn:aws:iam::{A}:role/{name}"
        kind = rng.random()
        if kind < 0.6:
            principal: dict[str, Any] = {"Service": rng.choice(TRUSTED_SERVICES)}
        elif kind < 0.9:
            principal = {"AWS": f"arn:aws:iam::{A}:root"}
        else:
            principal = {"AWS": f"arn:aws:iam::{A}:user/dev-{rng.randint(0, users - 1)}"}
        trust = _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
        docs = attached(rng.randint(1, 4))
        boundary = PolicyDoc(arns[0], estate.managed[arns[1]]) if r % 20 == 0 else None
        managed = tuple(d.ref for d in docs)
        estate.principals[arn] = Principal(arn, "role", A, name, docs, boundary, (), managed, trust)
    role_arns = [a for a, p in estate.principals.items() if p.kind == "role"]
    for c in range(300):
        fn = f"arn:aws:lambda:eu-west-1:{A}:function:f{c}"
        estate.carriers.append(Carrier(fn, rng.choice(role_arns), "lambda.amazonaws.com"))
        vm = f"arn:aws:ec2:eu-west-1:{A}:instance/i-{c:08x}"
        estate.carriers.append(Carrier(vm, rng.choice(role_arns), "ec2.amazonaws.com"))
    return estate


def run_privesc_bench() -> None:
    rng = random.Random(11)
    t0 = time.perf_counter()
    estate = privesc_estate(rng)
    t1 = time.perf_counter()
    cpu = time.process_time()
    result = analyse(estate)
    t2 = time.perf_counter()
    cpu = time.process_time() - cpu
    graph = result.graph
    edges = sum(len(e) for e in graph.edges.values())
    hops: dict[int, int] = {}
    for path in result.paths.values():
        hops[len(path)] = hops.get(len(path), 0) + 1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    users = sum(1 for p in estate.principals.values() if p.kind == "user")
    print(
        f"privesc estate: {users} users, {len(estate.principals) - users} roles, "
        f"{len(estate.managed)} policies, {len(estate.carriers)} carriers "
        f"(built in {t1 - t0:.2f} s)"
    )
    print(
        f"privesc analysis: {t2 - t1:.2f} s wall, {cpu:.2f} s CPU (target < 30 s) — "
        f"{graph.evaluated_plans:,} plans "
        f"evaluated, {edges:,} edges, {len(result.findings)} principals can become admin "
        f"(by path length: {dict(sorted(hops.items()))})"
    )
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
