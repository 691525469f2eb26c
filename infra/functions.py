"""What the program's small Lambda functions (functions/*) share: their execution role's trust policy
and how an EventBridge rule invokes one."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

# Only the Lambda service may assume a function's execution role.
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def execution_role(name: str, opts: pulumi.ResourceOptions) -> aws.iam.Role:
    return aws.iam.Role(name, assume_role_policy=LAMBDA_TRUST, opts=opts)


def invoke_on(
    name: str, rule: aws.cloudwatch.EventRule, function: aws.lambda_.Function, opts: pulumi.ResourceOptions
) -> None:
    """`rule` invokes `function`: the target, and the permission that lets EventBridge (for this rule
    only) call it."""
    aws.cloudwatch.EventTarget(f"{name}-target", rule=rule.name, arn=function.arn, opts=opts)
    aws.lambda_.Permission(
        f"{name}-invoke",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="events.amazonaws.com",
        source_arn=rule.arn,
        opts=opts,
    )
