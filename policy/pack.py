"""The pack's policies, apart from the process that serves them (policy/__main__.py), so tests drive
them through the policy SDK's own analyzer exactly as the Pulumi engine does."""

from __future__ import annotations

from pulumi_policy import (
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import check_resource, check_stack

NAME = "cdc-platform"


def _resource(args: ResourceValidationArgs, report_violation) -> None:  # type: ignore[no-untyped-def]
    for violation in check_resource(args.resource_type, args.props, bool(args.opts.protect)):
        report_violation(violation)


def _stack(args: StackValidationArgs, report_violation) -> None:  # type: ignore[no-untyped-def]
    resources = ((r.resource_type, r.props, bool(r.opts.protect), r.name) for r in args.resources)
    for violation in check_stack(resources):
        report_violation(violation)


POLICIES = [
    ResourceValidationPolicy(
        name="cdc-resource-rules",
        description=(
            "Least-privilege role bindings, declared topics, valid cluster and Flink sizes, private prod "
            "clusters, credentials only in sensitive config, no ingress open to everyone."
        ),
        validate=_resource,
    ),
    StackValidationPolicy(
        name="cdc-stack-rules",
        description=(
            "No principal is both a deployer and a workload; one writer per topic; no output holds several "
            "consumers' keys; prod protects what a deletion would lose."
        ),
        validate=_stack,
    ),
]
