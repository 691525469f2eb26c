"""Flink for one region: the compute pool, the deployer's Flink API key, and the routing statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_confluentcloud as confluent

from core.naming import COMPONENT
from flink_sql.statement import StatementSpec, statement_generations
from infra.access import ApiKeyArgs, PrincipalRef, api_key


@dataclass
class FlinkComputeArgs:
    display_name: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    region: str
    max_cfu: int
    deployer: PrincipalRef
    # The deployer's FlinkDeveloper/Assigner bindings when they are in this stack (dev): its key is
    # used at once, and a key acting before its bindings propagate gets 403s. Across stacks the
    # deploy order (global first) does the same.
    deployer_grants: Sequence[pulumi.Resource]
    protect: bool  # prod: the pool the running statement lives in


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
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
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
                resource=self.region,
                environment_id=args.environment_id,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=list(args.deployer_grants)),
        )
        self.register_outputs({"pool_id": self.pool.id})


@dataclass
class RoutingStatementArgs:
    # This deployment's statement (flink_sql.statement.routing_statement).
    current: pulumi.Input[StatementSpec]
    organization_id: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    compute_pool: confluent.FlinkComputePool
    principal_id: pulumi.Input[str]
    rest_endpoint: pulumi.Input[str]
    deployer_key: confluent.ApiKey
    # The last deployment's export of this statement (None on the first deployment).
    previous: pulumi.Input[Any]
    # Prod: the running generation is protected; a stopped predecessor is not (the next run drops it).
    protect: bool = False
    depends_on: Sequence[pulumi.Resource] = ()


class RoutingStatement(pulumi.ComponentResource):
    """The region's single routing statement set, replaced without losing or re-reading records."""

    def __init__(self, name: str, args: RoutingStatementArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:RoutingStatement", name, None, opts)

        def declare(values: list[Any]) -> dict[str, Any]:
            previous, current = values
            specs = statement_generations(previous, current)
            declared: list[pulumi.Resource] = []
            for spec in specs:
                declared.append(self._statement(name, spec, args, list(declared)))
            return next(s for s in specs if not s.stopped).export()

        # Which generations exist depends on the last deployment's export, so they are declared once
        # it is known (it is, in preview too: stack references are read, not created).
        self.current = pulumi.Output.all(args.previous, args.current).apply(declare)
        self.register_outputs({"current": self.current})

    def _statement(
        self, name: str, spec: StatementSpec, args: RoutingStatementArgs, predecessors: list[pulumi.Resource]
    ) -> confluent.FlinkStatement:
        return confluent.FlinkStatement(
            f"{name}-{spec.name}",
            statement_name=spec.name,
            statement=spec.sql,
            properties=spec.properties,
            stopped=spec.stopped,
            organization=confluent.FlinkStatementOrganizationArgs(id=args.organization_id),
            environment=confluent.FlinkStatementEnvironmentArgs(id=args.environment_id),
            compute_pool=confluent.FlinkStatementComputePoolArgs(id=args.compute_pool.id),
            principal=confluent.FlinkStatementPrincipalArgs(id=args.principal_id),
            rest_endpoint=args.rest_endpoint,
            credentials=confluent.FlinkStatementCredentialsArgs(
                key=args.deployer_key.id, secret=args.deployer_key.secret
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect and not spec.stopped,
                # A properties change plans as an update and then fails at apply (provider PR #1118):
                # replace instead; the old one must go first, the name is the same.
                replace_on_changes=["properties"],
                delete_before_replace=True,
                # The successor starts from the stopped predecessor's offsets.
                depends_on=[*args.depends_on, args.compute_pool, *predecessors],
            ),
        )
