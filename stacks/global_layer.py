"""Global layer: environment + Stream Governance, organization, every service account, and the
routed topics' key and value schemas (subjects live in the environment's registry, shared by the
regions)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_confluentcloud as confluent

from core import naming
from core.raw_record import key_json_schema, value_json_schema
from flink_sql.routes import Route
from infra.access import Principal, PrincipalArgs, PrincipalRef, RegistryRef
from infra.environment import GovernedEnvironment, GovernedEnvironmentArgs
from infra.schemas import TopicSchemas, TopicSchemasArgs
from settings.model import AllInOneStackSettings, GlobalStackSettings
from stacks.access_policy import access_policy


@dataclass
class GlobalExports:
    """What region layers need from the global layer (exported by `prod`, read by `prod-east/west`)."""

    organization_id: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    environment_name: pulumi.Input[str]
    schema_registry: RegistryRef
    principals: dict[str, PrincipalRef]
    # Global resources that region resources wait for when both layers are in one stack (dev);
    # across stacks, the deploy order (global first) provides the same.
    in_stack: list[pulumi.Resource] = field(default_factory=list)
    # The Flink deployer's FlinkDeveloper/Assigner bindings, when in this stack.
    deployer_grants: list[pulumi.Resource] = field(default_factory=list)

    def export(self) -> None:
        pulumi.export("organizationId", self.organization_id)
        pulumi.export("environmentId", self.environment_id)
        pulumi.export("environmentName", self.environment_name)
        pulumi.export("schemaRegistry", self.schema_registry.to_export())
        pulumi.export("principals", {name: p.to_export() for name, p in self.principals.items()})

    @classmethod
    def from_stack(cls, stack_name: str, principal_names: list[str]) -> GlobalExports:
        """Read the global stack's exports through a StackReference."""
        ref = pulumi.StackReference("global-stack", stack_name=stack_name)
        principals = ref.require_output("principals")

        def principal(name: str) -> PrincipalRef:
            return PrincipalRef.from_export(principals.apply(lambda p: _exported_principal(p, name, stack_name)))

        return cls(
            organization_id=ref.require_output("organizationId"),
            environment_id=ref.require_output("environmentId"),
            environment_name=ref.require_output("environmentName"),
            schema_registry=RegistryRef.from_export(ref.require_output("schemaRegistry")),
            principals={name: principal(name) for name in principal_names},
        )


def _exported_principal(principals: dict[str, Any], name: str, stack_name: str) -> dict[str, str]:
    if name not in principals:
        raise pulumi.RunError(
            f"global stack {stack_name} exports no principal {name!r}: "
            "run `pulumi up` on the global stack first (its routes and regions must cover this stack)"
        )
    return {key: str(value) for key, value in principals[name].items()}


def global_layer(settings: GlobalStackSettings | AllInOneStackSettings, routes: tuple[Route, ...]) -> GlobalExports:
    """Environment -> organization -> service accounts with their environment/org-scoped grants -> the
    routed topics' schemas and every value subject's compatibility."""
    environment = settings.glob.environment
    governed = GovernedEnvironment(
        "environment",
        GovernedEnvironmentArgs(
            display_name=environment.name,
            stream_governance=environment.stream_governance,
            protect=settings.protect,
        ),
    )
    organization = confluent.get_organization_output()
    principals = _principals(settings, routes, governed, organization)
    schemas = _schemas(settings, routes, governed, principals[naming.SCHEMA_MANAGER])
    return GlobalExports(
        organization_id=organization.id,
        environment_id=governed.environment.id,
        environment_name=environment.name,
        schema_registry=governed.schema_registry,
        principals={name: p.ref for name, p in principals.items()},
        in_stack=[schemas],
        deployer_grants=[principals[naming.FLINK_DEPLOYER]],
    )


def _principals(
    settings: GlobalStackSettings | AllInOneStackSettings,
    routes: tuple[Route, ...],
    governed: GovernedEnvironment,
    organization: pulumi.Output[confluent.GetOrganizationResult],
) -> dict[str, Principal]:
    """Every principal of the access policy with its environment/organization-scoped grants (the
    cluster-scoped ones, the only ones naming topics, are bound by the region layers)."""
    env_name = settings.glob.environment.name
    principals: dict[str, Principal] = {}
    for name, grants in access_policy(routes, settings.glob.regions, settings.raw_topic).items():
        principals[name] = Principal(
            name,
            PrincipalArgs(
                display_name=naming.display_name(env_name, name),
                grants=grants,
                environment_crn=governed.environment.resource_name,
                organization_crn=organization.resource_name,
                schema_registry_crn=governed.schema_registry.crn,
                assignable={t: principals[t].account.id for t in grants.may_assign},
                protect=settings.protect,
            ),
        )
    return principals


def _schemas(
    settings: GlobalStackSettings | AllInOneStackSettings,
    routes: tuple[Route, ...],
    governed: GovernedEnvironment,
    schema_manager: Principal,
) -> TopicSchemas:
    """The routed topics' key and value schemas, registered by the schema manager, their and the raw
    value subject's compatibility (the raw subject's schemas are the connector's)."""
    return TopicSchemas(
        "routed-topic-schemas",
        TopicSchemasArgs(
            registry=governed.schema_registry,
            owner=schema_manager.ref,
            environment_id=governed.environment.id,
            display_name=naming.display_name(settings.glob.environment.name, naming.SCHEMA_MANAGER),
            # Flink infers each routed topic's table from these: the raw key (its `key_id` column, the
            # table's distribution: flink_sql/compiler.py KEY_PREFIX), then exactly the raw columns.
            schemas={
                subject: schema
                for r in routes
                if r.enabled
                for subject, schema in (
                    (naming.subject(r.output_topic, "key"), json.dumps(key_json_schema())),
                    (naming.subject(r.output_topic), json.dumps(value_json_schema(r.output_topic))),
                )
            },
            raw_subject=naming.subject(settings.raw_topic),
            ownership=schema_manager.owned_subjects,
            protect=settings.protect,
        ),
    )
