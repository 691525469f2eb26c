"""Value schemas of the routed topics, registered in the environment's Schema Registry.

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


@dataclass
class TopicSchemasArgs:
    registry: RegistryRef
    owner: PrincipalRef
    environment_id: pulumi.Input[str]
    display_name: pulumi.Input[str]
    schemas: Mapping[str, str]  # subject -> JSON Schema text
    ownership: Mapping[str, pulumi.Resource]  # subject -> the owner's ResourceOwner binding on it
    protect: bool


class TopicSchemas(pulumi.ComponentResource):
    """The schema manager's registry key and one JSON Schema per subject."""

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
        self.register_outputs({"subjects": list(self.schemas)})
