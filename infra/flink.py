"""Flink compute for one region: the compute pool and the deployer's Flink API key."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluent

from infra.access import COMPONENT, ApiKeyArgs, PrincipalRef, api_key


@dataclass
class FlinkComputeArgs:
    display_name: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    region: str
    max_cfu: int
    deployer: PrincipalRef


class FlinkCompute(pulumi.ComponentResource):
    """Compute pool (max_cfu is updatable in place) and one Flink API key per region for the deployer."""

    def __init__(self, name: str, args: FlinkComputeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:FlinkCompute", name, None, opts)
        self.pool = confluent.FlinkComputePool(
            f"{name}-pool",
            display_name=args.display_name,
            cloud="AWS",
            region=args.region,
            max_cfu=args.max_cfu,
            environment=confluent.FlinkComputePoolEnvironmentArgs(id=args.environment_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.region = confluent.get_flink_region_output(
            cloud="AWS", region=args.region, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        # Flink API keys are scoped to the Flink region, not to a pool or cluster.
        self.deployer_key = api_key(
            f"{name}-deployer-key",
            ApiKeyArgs(
                display_name=pulumi.Output.concat(args.display_name, "-flink-deployer"),
                owner=args.deployer,
                resource_id=self.region.id,
                resource_api_version=self.region.api_version,
                resource_kind=self.region.kind,
                environment_id=args.environment_id,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"pool_id": self.pool.id})
