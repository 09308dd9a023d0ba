"""Evaluator throughput: decisions per second over a realistic mix of policies and requests.

Identity policies of 20 statements (wildcard actions, ARN patterns, variables, conditions), a
boundary on a third of the principals, bucket / key / trust policies, two SCP levels.
Run: .venv/bin/python bench/iam_bench.py [--requests N]
"""

from __future__ import annotations

import argparse
import random
import time

from opencwpp.iam import PolicySet, Request, evaluate

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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
