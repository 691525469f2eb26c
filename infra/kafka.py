"""A Kafka cluster with its deployer key and every topic it holds, declared in Pulumi: no topic is
ever created implicitly by a job or a Flink CREATE TABLE."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_confluentcloud as confluent

from core.grants import Grants
from core.naming import COMPONENT
from infra.access import (
    ClusterAccess,
    ClusterAccessArgs,
    PrincipalRef,
    RegistryRef,
)
from settings.model import KafkaSettings


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int


@dataclass
class KafkaClusterArgs:
    display_name: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    region: str
    kafka: KafkaSettings
    manager: PrincipalRef
    manager_grants: Grants
    schema_registry: RegistryRef
    topics: Sequence[TopicSpec]
    protect: bool
    network_id: pulumi.Input[str] | None = None
    # Resources the manager key must wait for (PrivateLink endpoint and DNS records).
    reachable_after: Sequence[pulumi.Resource] = field(default_factory=list)


class KafkaCluster(pulumi.ComponentResource):
    """Cluster -> cluster manager's CloudClusterAdmin + Kafka API key -> topics via the REST endpoint."""

    def __init__(self, name: str, args: KafkaClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:KafkaCluster", name, None, opts)
        kafka = args.kafka
        self.cluster = confluent.KafkaCluster(
            f"{name}-cluster",
            display_name=args.display_name,
            availability=kafka.availability,
            cloud="AWS",
            region=args.region,
            environment=confluent.KafkaClusterEnvironmentArgs(id=args.environment_id),
            network=confluent.KafkaClusterNetworkArgs(id=args.network_id) if args.network_id else None,
            basic=confluent.KafkaClusterBasicArgs() if kafka.type == "BASIC" else None,
            standard=confluent.KafkaClusterStandardArgs() if kafka.type == "STANDARD" else None,
            dedicated=confluent.KafkaClusterDedicatedArgs(cku=kafka.cku) if kafka.cku is not None else None,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        manager_access = ClusterAccess(
            f"{name}-manager",
            ClusterAccessArgs(
                principal=args.manager,
                grants=args.manager_grants,
                cluster=self.cluster,
                environment_id=args.environment_id,
                schema_registry=args.schema_registry,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Over PrivateLink the cluster is reachable only once the endpoint and DNS exist.
        self.manager_key = manager_access.kafka_key(
            pulumi.Output.concat(args.display_name, "-manager"), waits_for=args.reachable_after
        )
        credentials = confluent.KafkaTopicCredentialsArgs(key=self.manager_key.id, secret=self.manager_key.secret)
        self.topics = {
            topic.name: confluent.KafkaTopic(
                f"{name}-topic-{topic.name}",
                kafka_cluster=confluent.KafkaTopicKafkaClusterArgs(id=self.cluster.id),
                topic_name=topic.name,
                partitions_count=topic.partitions,
                # Listed explicitly: the provider diffs only what is declared (TF #99, #156).
                config={"cleanup.policy": "delete", "retention.ms": str(topic.retention_ms)},
                rest_endpoint=self.cluster.rest_endpoint,
                credentials=credentials,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            for topic in args.topics
        }
        self.register_outputs({"cluster_id": self.cluster.id, "bootstrap_endpoint": self.cluster.bootstrap_endpoint})
