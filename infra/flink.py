"""Flink for one region: the compute pool, the deployer's Flink API key, and the routing statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_confluentcloud as confluent

from core import naming
from core.naming import COMPONENT
from flink_sql.routes import Route
from flink_sql.statement import (
    StatementSpec,
    added_routes,
    backfill_sql,
    backfill_statement,
    bound_millis,
    statement_generations,
)
from infra.access import ApiKeyArgs, KeyRing, PrincipalRef, api_key


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
    """Compute pool (max_cfu is updatable in place) and the deployer's Flink API keys, one per key
    generation in use (a rotation keeps the old key while a statement submitted with it remains)."""

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
        self._deployer_keys = KeyRing(
            f"{name}-deployer-key",
            pulumi.Output.concat(args.display_name, "-flink-deployer"),
            lambda key_name, display: api_key(
                key_name,
                ApiKeyArgs(
                    display_name=display, owner=args.deployer, resource=self.region, environment_id=args.environment_id
                ),
                pulumi.ResourceOptions(parent=self, depends_on=list(args.deployer_grants)),
            ),
        )
        self.register_outputs({"pool_id": self.pool.id})

    def deployer_key(self, generation: int) -> confluent.ApiKey:
        """The deployer's Flink API key of `generation` (its live generations are those of the declared
        statements: a stopped predecessor keeps its key). Flink API keys are scoped to the Flink region,
        not to a pool or cluster."""
        return self._deployer_keys.key(generation)


@dataclass
class RawSchemaGate:
    """What a first statement waits for. Flink infers the raw table from the raw value subject, which
    the connector registers with its first record (the provider returns once the connector is RUNNING,
    before that); a statement submitted earlier fails. So a first statement waits, with a warning naming
    what to do, until CDC writes the raw topic and its subject has a schema: read with the statement
    principal's own read-only registry key (it may read that subject) on the region's registry endpoint.
    In a first preview the key does not exist yet: the gate is decided during `up`."""

    raw_topic: str
    table: str  # the source table, named in the warning
    # The statement principal's registry key; None when CDC is off (nothing writes the raw topic).
    key: confluent.ApiKey | None
    registry_id: pulumi.Input[str]
    registry_endpoint: pulumi.Input[str]
    connector: pulumi.Resource | None  # registers the subject: the lookup runs after it

    def held_back(self) -> pulumi.Input[str | None]:
        """None once the subject has a schema, else why the statement waits and what to do."""
        subject = naming.subject(self.raw_topic)
        if self.key is None:
            return (
                f"cdc.enabled is false, so nothing writes {self.raw_topic}: enable CDC "
                "(cdc-platform:cdc.enabled) and `pulumi up` again"
            )
        key = self.key
        found = confluent.get_schemas_output(
            filter=confluent.GetSchemasFilterArgs(subject_prefix=subject, latest_only=True),
            rest_endpoint=self.registry_endpoint,
            credentials=pulumi.Output.all(key.id, key.secret).apply(
                lambda v: confluent.GetSchemasCredentialsArgs(key=v[0], secret=v[1])
            ),
            schema_registry_cluster=pulumi.Output.from_input(self.registry_id).apply(
                lambda i: confluent.GetSchemasSchemaRegistryClusterArgs(id=i)
            ),
            opts=pulumi.InvokeOutputOptions(depends_on=[key, *([self.connector] if self.connector else [])]),
        )
        # The lookup's credentials make its result secret; whether a subject exists is not.
        return pulumi.Output.unsecret(found.schemas).apply(
            lambda schemas: (
                None
                if any(s.subject_name == subject for s in schemas)
                else (
                    f"subject {subject} has no schema yet (the connector registers it with its first record): "
                    f"once a row of {self.table} is captured, `pulumi up` again"
                )
            )
        )


@dataclass
class RoutingStatementArgs:
    # This deployment's statement (flink_sql.statement.routing_statement).
    current: pulumi.Input[StatementSpec]
    organization_id: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    flink: FlinkCompute  # the pool and the deployer's keys
    principal_id: pulumi.Input[str]
    # Public Flink endpoint, or the private one in PRIVATELINK stacks (its kind is in the statement name).
    rest_endpoint: pulumi.Input[str]
    # The last deployment's export of this statement (None on the first deployment).
    previous: pulumi.Input[Any]
    # First-deploy gate. Only a first statement waits for it: a running one never depends on its lookup
    # (unknown in a preview that creates or replaces what the lookup waits for).
    gate: RawSchemaGate | None = None
    # Prod: the running generation is protected; a stopped predecessor is not (the next run drops it).
    protect: bool = False
    depends_on: Sequence[pulumi.Resource] = ()


class RoutingStatement(pulumi.ComponentResource):
    """The region's single routing statement set, replaced without losing or re-reading records.

    Key rotation (flink.deployerKeyGeneration + 1) is a statement generation like a SQL change: the new
    statement is submitted with the new key, the predecessor is stopped with ITS key (a `stopped`-only
    update, which the provider allows; changed credentials it may not), and the next deployment deletes
    the predecessor and then its key, which nothing else uses.

    Beside the generations: the raw table's settings statement, which every generation starts after
    (README "Bad records"), and per route added to the set a backfill of its history (README "Adding a
    route"). Both complete; neither is protected, so a later `up` can delete or re-submit them."""

    def __init__(self, name: str, args: RoutingStatementArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:RoutingStatement", name, None, opts)

        def declare(values: list[Any]) -> dict[str, Any] | None:
            previous, current, held_back = values
            if held_back and not previous:
                pulumi.log.warn(f"routing statement {current.name} not deployed: {held_back}", resource=self)
                return None
            settings = (
                [self._statement(name, current.table_settings, args, [], protect=False)]
                if current.table_settings
                else []
            )
            specs = statement_generations(previous, current)
            declared: list[confluent.FlinkStatement] = []
            for spec in specs:
                declared.append(
                    self._statement(name, spec, args, [*settings, *declared], args.protect and not spec.stopped)
                )
            for route in added_routes(previous, current):
                self._backfill(name, current, route, declared[0], args)
            return next(s for s in specs if not s.stopped).export()

        # Which generations exist depends on the last deployment's export, so they are declared once
        # it is known (it is, in preview too: stack references are read, not created). The export adds
        # the endpoint (unknown before a first private deployment: it must not hold the declaration up).
        gate = args.gate.held_back() if args.gate else None
        held_back = pulumi.Output.from_input(args.previous).apply(lambda previous: None if previous else gate)
        running = pulumi.Output.all(args.previous, args.current, held_back).apply(declare)
        self.current = pulumi.Output.all(running, args.rest_endpoint).apply(
            lambda values: {**values[0], "restEndpoint": values[1]} if values[0] else None
        )
        self.register_outputs({"current": self.current})

    def _backfill(
        self,
        name: str,
        successor: StatementSpec,
        route: Route,
        stopped: confluent.FlinkStatement,
        args: RoutingStatementArgs,
    ) -> None:
        """The added route's history: a bounded statement declared with its successor, bounded where the
        predecessor stopped. The provider's stop (an update) reads the statement back, and its read sets
        `latest_offsets_timestamp` from the status (resource_flink_statement.go), so the bound is known
        once the predecessor is STOPPED, within the same `up`. The next `up` no longer declares it: Pulumi
        deletes the completed statement."""
        sql = stopped.latest_offsets_timestamp.apply(lambda at: backfill_sql(successor, route, bound_millis(at or "")))
        self._statement(name, backfill_statement(successor, route), args, [stopped], protect=False, sql=sql)

    def _statement(
        self,
        name: str,
        spec: StatementSpec,
        args: RoutingStatementArgs,
        predecessors: Sequence[pulumi.Resource],
        protect: bool,
        sql: pulumi.Input[str] | None = None,
    ) -> confluent.FlinkStatement:
        """`spec`'s statement; a backfill's SQL (`sql`) waits for its bound, its name and key do not."""
        key = args.flink.deployer_key(spec.key_generation)
        return confluent.FlinkStatement(
            f"{name}-{spec.name}",
            statement_name=spec.name,
            statement=spec.sql if sql is None else sql,
            properties=spec.properties,
            stopped=spec.stopped,
            organization=confluent.FlinkStatementOrganizationArgs(id=args.organization_id),
            environment=confluent.FlinkStatementEnvironmentArgs(id=args.environment_id),
            compute_pool=confluent.FlinkStatementComputePoolArgs(id=args.flink.pool.id),
            principal=confluent.FlinkStatementPrincipalArgs(id=args.principal_id),
            rest_endpoint=spec.rest_endpoint or args.rest_endpoint,
            credentials=confluent.FlinkStatementCredentialsArgs(key=key.id, secret=key.secret),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=protect,
                # Every input the provider cannot change in place is in the statement's name, so a
                # replacement under the same name is left only for changes outside the program (e.g. a
                # re-created environment); the old statement must go first, the name is the same.
                delete_before_replace=True,
                # The successor starts from the stopped predecessor's offsets.
                depends_on=[*args.depends_on, args.flink.pool, key, *predecessors],
            ),
        )
