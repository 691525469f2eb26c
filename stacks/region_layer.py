"""Region layer: network -> Kafka cluster and topics -> workload access and keys -> Flink compute."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from core import naming
from flink_sql.compiler import compile_routes, registry_options
from flink_sql.routes import Route, consumers
from infra.access import ClusterAccess, ClusterAccessArgs
from infra.cdc_connector import CdcConnector, CdcConnectorArgs
from infra.database import AuroraDatabase, AuroraDatabaseArgs
from infra.flink import FlinkCompute, FlinkComputeArgs, RoutingStatement, RoutingStatementArgs
from infra.kafka import KafkaCluster, KafkaClusterArgs, TopicSpec
from infra.private_link import PrivateLinkArgs, PrivateLinkNetwork
from infra.settings import NAMESPACE, Settings
from stacks.access_policy import access_policy
from stacks.global_layer import GlobalExports

# The stack export holding the deployed routing statement; the next deployment reads it back.
ROUTING_EXPORT = "routingStatement"


def region_principal_names(settings: Settings, routes: tuple[Route, ...]) -> list[str]:
    """The principals a region layer binds: what it reads from the global layer."""
    assert settings.region is not None
    return list(access_policy(routes, (settings.region.region,), settings.region.raw_topic))


def region_layer(
    settings: Settings,
    routes: tuple[Route, ...],
    glob: GlobalExports,
    previous_deployment: pulumi.StackReference,
) -> None:
    assert settings.region is not None
    rs = settings.region
    region = rs.region
    # Confluent display names start with the environment name (unique per stack, see naming).
    display = pulumi.Output.from_input(glob.environment_name).apply(lambda env: naming.display_name(env, region))

    # AWS resources of this layer live in its region, whatever the deployer's default region is.
    in_region = None
    if rs.aurora is not None or rs.network.type == "PRIVATELINK":
        in_region = pulumi.ResourceOptions(providers={"aws": aws.Provider(f"aws-{region}", region=region)})
    database = None
    if rs.aurora is not None:
        database = AuroraDatabase(
            f"{region}-aurora",
            AuroraDatabaseArgs(
                aurora=rs.aurora,
                name_prefix=f"{settings.stack}-{region}",
                app_password=pulumi.Config(NAMESPACE).require_secret("appDatabasePassword")
                if rs.aurora.proxy
                else None,
            ),
            opts=in_region,
        )

    network = None
    if rs.network.type == "PRIVATELINK":
        assert rs.network.aws_account_id and rs.network.vpc_id and rs.network.vpc_cidr
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
            opts=in_region,
        )

    policy = access_policy(routes, (region,), rs.raw_topic)
    manager = naming.cluster_manager(region)
    # Flink infers the tables from these topics and their registry schemas (the connector registers
    # the raw topic's, the global layer the routed topics'): no CREATE TABLE is deployed.
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
            schema_registry=glob.schema_registry,
            topics=topics,
            protect=settings.protect,
            network_id=network.network.id if network else None,
            reachable_after=network.ready if network else [],
        ),
    )
    cluster = kafka.cluster

    route_consumers = consumers(routes)
    workload_access = {
        name: ClusterAccess(
            f"{region}-{name}",
            ClusterAccessArgs(
                principal=glob.principals[name],
                grants=grants,
                cluster=cluster,
                environment_id=glob.environment_id,
                schema_registry=glob.schema_registry,
                # Consumer apps authenticate with keys; the connector and Flink run as the account.
                key_display_name=pulumi.Output.concat(display, "-", name) if name in route_consumers else None,
                key_waits_for=network.ready if network else [],
            ),
        )
        for name, grants in policy.items()
        if grants.cluster_scoped and name != manager
    }

    connector = None
    if rs.cdc.enabled:
        connector = CdcConnector(
            f"{region}-postgres-cdc",
            CdcConnectorArgs(
                cdc=rs.cdc,
                display_name=pulumi.Output.concat(display, "-postgres-cdc"),
                environment_id=glob.environment_id,
                cluster_id=cluster.id,
                service_account_id=glob.principals[naming.CDC_CONNECTOR].id,
                writer_endpoint=database.writer_endpoint if database else str(rs.cdc.hostname),
                password=pulumi.Config(NAMESPACE).require_secret("cdcDatabasePassword"),
                raw_topic=rs.raw_topic,
                depends_on=[kafka.topics[rs.raw_topic], *workload_access[naming.CDC_CONNECTOR].bindings],
            ),
        )

    flink_access = workload_access[naming.FLINK_STATEMENTS]
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
    routing = RoutingStatement(
        f"{region}-routing",
        RoutingStatementArgs(
            name_prefix=settings.stack,
            sql=compile_routes(routes, rs.raw_topic, registry_options(rs.cdc.value_format)).statement_set,
            organization_id=glob.organization_id,
            environment_id=glob.environment_id,
            compute_pool=flink.pool,
            principal_id=glob.principals[naming.FLINK_STATEMENTS].id,
            catalog=glob.environment_name,
            database=display,
            rest_endpoint=flink.region.rest_endpoint,
            deployer_key=flink.deployer_key,
            previous=previous_deployment.get_output(ROUTING_EXPORT),
            # The connector registers the raw topic's schema, from which Flink infers the source table.
            depends_on=[
                *kafka.topics.values(),
                *glob.in_stack,
                *flink_access.bindings,
                *([connector] if connector else []),
            ],
        ),
    )

    pulumi.export("computePoolId", flink.pool.id)
    pulumi.export(ROUTING_EXPORT, routing.current)
    if database is not None:
        pulumi.export("databaseWriterEndpoint", database.writer_endpoint)
        if database.proxy_endpoint is not None:
            pulumi.export("databaseProxyEndpoint", database.proxy_endpoint)  # what the applications use
    if connector is not None:
        pulumi.export("cdcConnectorId", connector.connector.id)
    pulumi.export(
        "consumerCredentials",
        pulumi.Output.secret({c: client_credentials(workload_access[c]) for c in route_consumers}),
    )


def client_credentials(access: ClusterAccess) -> dict[str, pulumi.Output[str]]:
    """What a consumer application configures: its Kafka and Schema Registry API keys."""
    assert access.api_key is not None and access.registry_key is not None
    return {
        "kafkaApiKey": access.api_key.id,
        "kafkaApiSecret": access.api_key.secret,
        "schemaRegistryApiKey": access.registry_key.id,
        "schemaRegistryApiSecret": access.registry_key.secret,
    }
