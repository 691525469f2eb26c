"""The Confluent environment with Stream Governance, and the Schema Registry it provisions."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluent

from core.naming import COMPONENT
from infra.access import RegistryRef


@dataclass
class GovernedEnvironmentArgs:
    display_name: str
    stream_governance: str  # ESSENTIALS | ADVANCED
    protect: bool


class GovernedEnvironment(pulumi.ComponentResource):
    """Environment + Schema Registry lookup (the registry resource was removed in provider 2.0)."""

    def __init__(self, name: str, args: GovernedEnvironmentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:GovernedEnvironment", name, None, opts)
        self.environment = confluent.Environment(
            f"{name}-environment",
            display_name=args.display_name,
            stream_governance=confluent.EnvironmentStreamGovernanceArgs(package=args.stream_governance),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        # The registry is provisioned with the environment: wait for it before looking it up.
        lookup = confluent.get_schema_registry_cluster_output(
            environment=self.environment.id.apply(lambda i: confluent.GetSchemaRegistryClusterEnvironmentArgs(id=i)),
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[self.environment]),
        )
        self.schema_registry = RegistryRef(
            id=lookup.id,
            crn=lookup.resource_name,
            rest_endpoint=lookup.rest_endpoint,
            api_version=lookup.api_version,
            kind=lookup.kind,
        )
        self.register_outputs({"id": self.environment.id, "schema_registry_id": lookup.id})
