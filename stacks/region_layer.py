"""Region layer: network -> Kafka cluster and topics -> workload access and keys -> Flink compute."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from flink_sql.routes import Route
from infra import naming
from infra.access import ClusterAccess, ClusterAccessArgs
from infra.flink import FlinkCompute, FlinkComputeArgs
from infra.kafka import KafkaCluster, KafkaClusterArgs, TopicSpec
from infra.private_link import PrivateLinkArgs, PrivateLinkNetwork
from infra.settings import Settings
from stacks.access_policy import access_policy
from stacks.global_layer import GlobalExports


def region_principal_names(settings: Settings, routes: tuple[Route, ...]) -> list[str]:
    """The principals a region layer binds: what it reads from the global layer."""
    assert settings.region is not None
    return list(access_policy(routes, (settings.region.region,), settings.region.raw_topic))


def region_layer(settings: Settings, routes: tuple[Route, ...], glob: GlobalExports) -> None:
    assert settings.region is not None
    rs = settings.region
    region = rs.region
    # Confluent display names start with the environment name (unique per stack, see naming).
    display = pulumi.Output.from_input(glob.environment_name).apply(lambda env: naming.display_name(env, region))

    network = None
    if rs.network.type == "PRIVATELINK":
        assert rs.network.aws_account_id and rs.network.vpc_id and rs.network.vpc_cidr
        provider = aws.Provider(f"aws-{region}", region=region)
        network = PrivateLinkNetwork(
            f"{region}-privatelink",
            PrivateLinkArgs(
                display_name=display,
                environment_id=glob.environment_id,
                region=region,
                aws_account_id=rs.network.aws_account_id,
                vpc_id=rs.network.vpc_id,
                vpc_cidr=rs.network.vpc_cidr,
                zones=rs.network.zones,
            ),
            opts=pulumi.ResourceOptions(providers={"aws": provider}),
        )

    policy = access_policy(routes, (region,), rs.raw_topic)
    manager = naming.cluster_manager(region)
    topics = [TopicSpec(rs.raw_topic, rs.raw_topic_settings.partitions, rs.raw_topic_settings.retention_ms)]
    topics += [
        TopicSpec(r.output_topic, rs.routed_topic_settings.partitions, rs.routed_topic_settings.retention_ms)
        for r in routes
        if r.enabled
    ]
    kafka = KafkaCluster(
        f"{region}-kafka",
        KafkaClusterArgs(
            display_name=display,
            environment_id=glob.environment_id,
            region=region,
            kafka=rs.kafka,
            manager=glob.principals[manager],
            manager_grants=policy[manager],
            schema_registry_crn=glob.schema_registry_crn,
            topics=topics,
            protect=settings.protect,
            network_id=network.network.id if network else None,
            reachable_after=network.ready if network else [],
        ),
    )
    cluster = kafka.cluster

    consumers = naming.consumers(routes)
    workload_access = {
        name: ClusterAccess(
            f"{region}-{name}",
            ClusterAccessArgs(
                principal=glob.principals[name],
                grants=grants,
                cluster=cluster,
                environment_id=glob.environment_id,
                schema_registry_crn=glob.schema_registry_crn,
                # Consumer apps authenticate with keys; the connector and Flink run as the account.
                key_display_name=pulumi.Output.concat(display, "-", name) if name in consumers else None,
                key_waits_for=network.ready if network else [],
            ),
        )
        for name, grants in policy.items()
        if grants.cluster_scoped and name != manager
    }

    flink = FlinkCompute(
        f"{region}-flink",
        FlinkComputeArgs(
            display_name=display,
            environment_id=glob.environment_id,
            region=region,
            max_cfu=rs.flink_max_cfu,
            deployer=glob.principals[naming.FLINK_DEPLOYER],
        ),
    )

    pulumi.export("region", region)
    pulumi.export("clusterId", cluster.id)
    pulumi.export("bootstrapEndpoint", cluster.bootstrap_endpoint)
    pulumi.export("restEndpoint", cluster.rest_endpoint)
    pulumi.export("computePoolId", flink.pool.id)
    pulumi.export(
        "consumerCredentials",
        pulumi.Output.secret(
            {c: {"key": key.id, "secret": key.secret} for c in consumers if (key := workload_access[c].api_key)}
        ),
    )
