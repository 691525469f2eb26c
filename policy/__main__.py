"""The policy pack: `pulumi preview --policy-pack policy` (needs the Pulumi CLI)."""

import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The policy host runs this file from policy/: make the project's `policy` package importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.rules import check_resource, check_stack


def _resource(args: ResourceValidationArgs, report_violation) -> None:  # type: ignore[no-untyped-def]
    for violation in check_resource(args.resource_type, args.props):
        report_violation(violation)


def _stack(args: StackValidationArgs, report_violation) -> None:  # type: ignore[no-untyped-def]
    for violation in check_stack((r.resource_type, r.props) for r in args.resources):
        report_violation(violation)


PolicyPack(
    name="cdc-platform",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="cdc-resource-rules",
            description="Least-privilege role bindings, declared topics, valid cluster and Flink sizes.",
            validate=_resource,
        ),
        StackValidationPolicy(
            name="cdc-principal-separation",
            description="No principal is both a deployer and a workload.",
            validate=_stack,
        ),
    ],
)
