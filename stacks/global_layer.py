"""Global layer: environment + Stream Governance, organization, and every service account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_confluentcloud as confluent

from flink_sql.routes import Route
from infra import naming
from infra.access import Principal, PrincipalArgs, PrincipalRef
from infra.environment import GovernedEnvironment, GovernedEnvironmentArgs
from infra.settings import Settings
from stacks.access_policy import access_policy


@dataclass
class GlobalExports:
    """What region layers need from the global layer (exported by `prod`, read by `prod-east/west`)."""

    environment_id: pulumi.Input[str]
    environment_name: pulumi.Input[str]
    schema_registry_id: pulumi.Input[str]
    schema_registry_crn: pulumi.Input[str]
    schema_registry_rest_endpoint: pulumi.Input[str]
    principals: dict[str, PrincipalRef]

    def export(self) -> None:
        pulumi.export("environmentId", self.environment_id)
        pulumi.export("environmentName", self.environment_name)
        pulumi.export("schemaRegistryId", self.schema_registry_id)
        pulumi.export("schemaRegistryCrn", self.schema_registry_crn)
        pulumi.export("schemaRegistryRestEndpoint", self.schema_registry_rest_endpoint)
        pulumi.export(
            "principals",
            {name: {"id": p.id, "apiVersion": p.api_version, "kind": p.kind} for name, p in self.principals.items()},
        )

    @classmethod
    def from_stack(cls, stack_name: str, principal_names: list[str]) -> GlobalExports:
        """Read the global stack's exports through a StackReference."""
        ref = pulumi.StackReference("global-stack", stack_name=stack_name)
        principals = ref.require_output("principals")

        def principal(name: str) -> PrincipalRef:
            def field(key: str) -> pulumi.Output[str]:
                return principals.apply(lambda p: _principal_field(p, name, key, stack_name))

            return PrincipalRef(field("id"), field("apiVersion"), field("kind"))

        return cls(
            environment_id=ref.require_output("environmentId"),
            environment_name=ref.require_output("environmentName"),
            schema_registry_id=ref.require_output("schemaRegistryId"),
            schema_registry_crn=ref.require_output("schemaRegistryCrn"),
            schema_registry_rest_endpoint=ref.require_output("schemaRegistryRestEndpoint"),
            principals={name: principal(name) for name in principal_names},
        )


def _principal_field(principals: dict[str, Any], name: str, key: str, stack_name: str) -> str:
    if name not in principals:
        raise pulumi.RunError(
            f"global stack {stack_name} exports no principal {name!r}: "
            "run `pulumi up` on the global stack first (its routes and regions must cover this stack)"
        )
    return str(principals[name][key])


def global_layer(settings: Settings, routes: tuple[Route, ...]) -> GlobalExports:
    """Environment -> organization -> service accounts with their environment/org-scoped grants."""
    assert settings.environment is not None
    env_name = settings.environment.name
    governed = GovernedEnvironment(
        "environment",
        GovernedEnvironmentArgs(
            display_name=env_name,
            stream_governance=settings.environment.stream_governance,
            protect=settings.protect,
        ),
    )
    organization = confluent.get_organization_output()
    # The raw topic name only shapes cluster-scoped grants, which region layers bind.
    policy = access_policy(routes, settings.regions, raw_topic="")
    principals: dict[str, Principal] = {}
    for name, grants in policy.items():
        principals[name] = Principal(
            name,
            PrincipalArgs(
                display_name=naming.display_name(env_name, name),
                grants=grants,
                environment_crn=governed.environment.resource_name,
                organization_crn=organization.resource_name,
                assignable={t: principals[t].account.id for t in grants.may_assign},
            ),
        )
    registry = governed.schema_registry
    return GlobalExports(
        environment_id=governed.environment.id,
        environment_name=env_name,
        schema_registry_id=registry.id,
        schema_registry_crn=registry.resource_name,
        schema_registry_rest_endpoint=registry.rest_endpoint,
        principals={name: p.ref for name, p in principals.items()},
    )
