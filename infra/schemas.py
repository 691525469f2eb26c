"""Key and value schemas of the routed topics, registered in the environment's Schema Registry.

The registry is shared by every region of the environment, so its subjects belong to the global
layer: two region stacks registering the same subject would each delete it on destroy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluent

from core.naming import COMPONENT
from infra.access import ApiKeyArgs, PrincipalRef, RegistryRef, api_key

# Compatibility levels, set explicitly per subject (Confluent Cloud's default is BACKWARD).
# Routed subjects: the program declares their schemas and Flink writes them; Confluent recommends
# FULL or FULL_TRANSITIVE for subjects Flink uses (CC flink/concepts/schema-statement-evolution), and
# transitive because consumers may read any retained version in any upgrade order.
ROUTED_COMPATIBILITY = "FULL_TRANSITIVE"
# The raw subject: the CDC connector registers a new version when the table changes, with no one to
# coordinate an upgrade order. BACKWARD is the registry's preferred mode "so that you can rewind
# consumers to the beginning of the topic" (CC schema-evolution): a new statement generation reads the
# whole retained topic with the latest schema; transitive, because retention spans several versions. An
# added nullable column (an optional property in the open JSON content model) passes; a removed or
# retyped column is refused by the registry (and, earlier, by `cdcctl rehearse`).
RAW_COMPATIBILITY = "BACKWARD_TRANSITIVE"


@dataclass
class TopicSchemasArgs:
    registry: RegistryRef
    owner: PrincipalRef
    environment_id: pulumi.Input[str]
    display_name: pulumi.Input[str]
    schemas: Mapping[str, str]  # subject -> JSON Schema text
    raw_subject: str  # registered by the connector: only its compatibility is declared here
    ownership: Mapping[str, pulumi.Resource]  # subject -> the owner's ResourceOwner binding on it
    protect: bool


class TopicSchemas(pulumi.ComponentResource):
    """The schema manager's registry key, one JSON Schema per routed subject (key and value), and every
    subject's compatibility level.

    SubjectConfig (pulumi_confluentcloud 2.87 / TF resource_subject_config.go): subject_name,
    rest_endpoint and schema_registry_cluster force replacement; compatibility_level and credentials
    update in place. Deleting it reverts the subject to the registry default and fails with 404 once
    the subject's last schema is gone, so a routed subject's config depends on its Schema (deleted
    first). The registry does not require a schema before a subject's config is set (OSS Schema
    Registry; unconfirmed for Confluent Cloud), which the raw subject relies on before the connector's
    first record."""

    def __init__(self, name: str, args: TopicSchemasArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:TopicSchemas", name, None, opts)
        registry = args.registry
        key = api_key(
            f"{name}-registry-key",
            ApiKeyArgs(
                display_name=args.display_name,
                owner=args.owner,
                resource=registry,
                environment_id=args.environment_id,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        credentials = confluent.SchemaCredentialsArgs(key=key.id, secret=key.secret)
        self.schemas = {
            subject: confluent.Schema(
                f"{name}-{subject}",
                schema_registry_cluster=confluent.SchemaSchemaRegistryClusterArgs(id=registry.id),
                rest_endpoint=registry.rest_endpoint,
                credentials=credentials,
                subject_name=subject,
                format="JSON",
                schema=schema,
                # Each subject waits for its own ownership binding (bindings take ~90 s to apply).
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[args.ownership[subject]]),
            )
            for subject, schema in args.schemas.items()
        }
        levels = {subject: ROUTED_COMPATIBILITY for subject in self.schemas} | {args.raw_subject: RAW_COMPATIBILITY}
        self.compatibility = {
            subject: confluent.SubjectConfig(
                f"{name}-{subject}-compatibility",
                schema_registry_cluster=confluent.SubjectConfigSchemaRegistryClusterArgs(id=registry.id),
                rest_endpoint=registry.rest_endpoint,
                credentials=confluent.SubjectConfigCredentialsArgs(key=key.id, secret=key.secret),
                subject_name=subject,
                compatibility_level=level,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=args.protect,
                    depends_on=[args.ownership[subject], *([self.schemas[subject]] if subject in self.schemas else [])],
                ),
            )
            for subject, level in levels.items()
        }
        self.register_outputs({"subjects": list(self.schemas)})
