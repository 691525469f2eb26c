"""Region layer, in data-flow order: AWS side -> network -> Kafka cluster and topics -> workload access
and keys -> CDC connector -> Flink compute and the routing statement -> cluster link -> monitoring; the
exports come last."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_confluentcloud as confluent

from core import naming, rotation
from core.cdc_source import held_connections, written_heartbeat_topics
from core.region_exports import LINK_EXPORT, REGION_EXPORTS, ConsumerExport, DeliveredCredentials, RegionExports
from flink_sql.routes import Route, consumers
from flink_sql.statement import region_statement
from infra.access import ClusterAccess, ClusterAccessArgs
from infra.aurora_idle_stop import AuroraIdleStop, AuroraIdleStopArgs
from infra.cdc_connector import CdcConnector, CdcConnectorArgs
from infra.cluster_link import ClusterLinkHalf, ClusterLinkHalfArgs, PeerOutputs
from infra.consumer_secret import ConsumerSecret, ConsumerSecretArgs
from infra.database import AuroraDatabase, AuroraDatabaseArgs, ProxyArgs
from infra.database_egress import DatabaseEgress, DatabaseEgressArgs
from infra.flink import FlinkCompute, FlinkComputeArgs, RawSchemaGate, RoutingStatement, RoutingStatementArgs
from infra.kafka import KafkaCluster, KafkaClusterArgs, TopicSpec
from infra.monitoring import RegionMonitoring, RegionMonitoringArgs, WatchedIds
from infra.private_link import PrivateLinkArgs, PrivateLinkNetwork
from infra.source_alarms import SourceAlarms, SourceAlarmsArgs
from settings.model import (
    APP_PASSWORD_KEY,
    CDC_PASSWORD_KEY,
    CDC_ROOT_CERT_KEY,
    AllInOneStackSettings,
    IdleStopSettings,
    RegionStackSettings,
    link_settings,
)
from settings.pulumi_config import read_secret
from stacks.access_policy import access_policy
from stacks.global_layer import GlobalExports

# Heartbeats only show the connector is alive: one partition, a day's worth.
HEARTBEAT_RETENTION_MS = 24 * 3600 * 1000


def peer_region(settings: RegionStackSettings | AllInOneStackSettings) -> str | None:
    link = link_settings(settings)
    return link.peer_region if link else None


def region_principal_names(settings: RegionStackSettings, routes: tuple[Route, ...]) -> list[str]:
    """The principals a region layer binds: what it reads from the global layer."""
    region = settings.region
    return list(access_policy(routes, (region.region,), region.raw_topic, peer_region(settings)))


class RegionLayer:
    """One region's resources. Each step builds one part of the diagram and keeps what later steps
    (and the exports) need; `export()` publishes the stack outputs."""

    def __init__(
        self,
        settings: RegionStackSettings | AllInOneStackSettings,
        routes: tuple[Route, ...],
        glob: GlobalExports,
        previous_deployment: pulumi.StackReference,
        peer: pulumi.StackReference | None = None,
    ) -> None:
        self.stack = settings.stack
        self.file = settings.file
        self.link_settings = link_settings(settings)
        self.protect = settings.protect
        self.settings = settings.region
        self.region = settings.region.region
        self.routes = routes
        self.glob = glob
        self.heartbeat_topics = written_heartbeat_topics(self.settings.cdc, self.settings.raw_topic)
        self.policy = access_policy(
            routes, (self.region,), self.settings.raw_topic, peer_region(settings), self.heartbeat_topics
        )
        self.consumers = consumers(routes)
        # Confluent display names start with the environment name (unique per stack, see naming).
        self.display = pulumi.Output.from_input(glob.environment_name).apply(
            lambda env: naming.display_name(env, self.region)
        )
        # Which key generations the last deployment left live (core.rotation), by kind.
        self.previous_keys = previous_deployment.get_output(REGION_EXPORTS.key_generations)
        self.key_generations: dict[str, pulumi.Output[tuple[int, ...]]] = {}
        self.in_region = self._aws_provider()
        self.database = self._aws_side()
        self.source_alarms = self._source_alarms()
        self.network = self._network()
        self.database_egress = self._database_egress()
        self.kafka = self._kafka()
        self.workload_access = self._workload_access()
        self.consumer_secrets = self._consumer_secrets()
        self.connector = self._connector()
        self.flink = self._flink_compute()
        self.routing = self._routing_statement(previous_deployment)
        self.link_key = self._link_key(peer)
        self.cluster_link = self._cluster_link(peer, previous_deployment)
        self.monitoring = self._monitoring()
        self.idle_stop = self._idle_stop()

    def _aws_provider(self) -> pulumi.ResourceOptions | None:
        """AWS resources of this layer live in its region, whatever the deployer's default region is."""
        if self.settings.aurora is None and self.settings.private_link is None and not self.consumers:
            return None
        return pulumi.ResourceOptions(providers={"aws": aws.Provider(f"aws-{self.region}", region=self.region)})

    def _aws_side(self) -> AuroraDatabase | None:
        """The existing Aurora cluster's CDC parameter group and the applications' RDS Proxy."""
        aurora = self.settings.aurora
        if aurora is None:
            return None
        proxy = ProxyArgs(aurora.proxy, self.region, read_secret(APP_PASSWORD_KEY)) if aurora.proxy else None
        return AuroraDatabase(
            f"{self.region}-aurora",
            AuroraDatabaseArgs(
                aurora=aurora, name_prefix=f"{self.stack}-{self.region}", proxy=proxy, protect=self.protect
            ),
            opts=self.in_region,
        )

    def _source_alarms(self) -> SourceAlarms | None:
        """The writer's slot and WAL disk use and the proxy's saturation, alarmed into the region's topic."""
        aurora = self.settings.aurora
        if aurora is None or self.database is None:
            return None
        return SourceAlarms(
            f"{self.region}-source-alarms",
            SourceAlarmsArgs(
                cluster_identifier=aurora.cluster_identifier,
                proxy_name=self.database.proxy_name,
                settings=aurora.source_health,
                name_prefix=f"{self.stack}-{self.region}",
            ),
            opts=self.in_region,
        )

    def _network(self) -> PrivateLinkNetwork | None:
        """PrivateLink in prod; public endpoints (no network resources) in dev and pr-N."""
        private_link = self.settings.private_link
        if private_link is None:
            return None
        return PrivateLinkNetwork(
            f"{self.region}-privatelink",
            PrivateLinkArgs(
                display_name=self.display,
                environment_id=self.glob.environment_id,
                region=self.region,
                network=private_link,
                schema_registry_id=self.glob.schema_registry.id,
                protect=self.protect,
                settings_file=self.file,
            ),
            opts=self.in_region,
        )

    def _database_egress(self) -> DatabaseEgress | None:
        """In a PRIVATELINK stack the managed connector reaches Aurora only through egress PrivateLink."""
        private_link = self.settings.private_link
        if private_link is None or self.database is None or not self.settings.cdc.enabled or self.network is None:
            return None
        return DatabaseEgress(
            f"{self.region}-aurora-egress",
            DatabaseEgressArgs(
                display_name=self.display,
                environment_id=self.glob.environment_id,
                network=self.network.network,
                database=self.database,
                vpc_id=private_link.vpc_id,
                subnet_ids=[zone.subnet_id for zone in private_link.zones],
                name_prefix=f"{self.stack}-{self.region}",
                protect=self.protect,
                egress_principal_arn=private_link.egress_principal_arn,
                settings_file=self.file,
            ),
            opts=self.in_region,
        )

    @property
    def _reachable_after(self) -> list[pulumi.Resource]:
        """What a Kafka key must wait for before it can reach the cluster (PrivateLink endpoint + DNS)."""
        return self.network.ready if self.network else []

    def _kafka(self) -> KafkaCluster:
        rs = self.settings
        manager = naming.cluster_manager(self.region)
        # Flink infers the tables from these topics and their registry schemas (the connector registers
        # the raw topic's, the global layer the routed topics'): no CREATE TABLE is deployed.
        raw, routed = rs.raw_topic_settings, rs.routed_topic_settings
        topics = [TopicSpec(rs.raw_topic, raw.partitions, raw.retention_ms)]
        topics += [TopicSpec(r.output_topic, routed.partitions, routed.retention_ms) for r in self.routes if r.enabled]
        topics += [TopicSpec(topic, 1, HEARTBEAT_RETENTION_MS) for topic in self.heartbeat_topics]
        # Raw records the routing statement could not deserialize, kept as long as the raw topic keeps them.
        topics += [TopicSpec(naming.dead_letter_topic(rs.raw_topic), 1, raw.retention_ms)]
        return KafkaCluster(
            f"{self.region}-kafka",
            KafkaClusterArgs(
                display_name=self.display,
                environment_id=self.glob.environment_id,
                region=self.region,
                kafka=rs.kafka,
                manager=self.glob.principals[manager],
                manager_grants=self.policy[manager],
                schema_registry=self.glob.schema_registry,
                topics=topics,
                protect=self.protect,
                network_id=self.network.network.id if self.network else None,
                reachable_after=self._reachable_after,
            ),
        )

    def _workload_access(self) -> dict[str, ClusterAccess]:
        """Every workload principal's topic/group/subject grants on this cluster (deployers excluded:
        the cluster manager's grant belongs to the cluster)."""
        manager = naming.cluster_manager(self.region)
        return {
            name: ClusterAccess(
                f"{self.region}-{name}",
                ClusterAccessArgs(
                    principal=self.glob.principals[name],
                    grants=grants,
                    cluster=self.kafka.cluster,
                    environment_id=self.glob.environment_id,
                    schema_registry=self.glob.schema_registry,
                ),
            )
            for name, grants in self.policy.items()
            if grants.cluster_scoped and name != manager
        }

    def _live_keys(self, kind: str, current: int, held: pulumi.Input[Any] = ()) -> pulumi.Output[tuple[int, ...]]:
        """A key kind's live generations (core.rotation), kept for the `keyGenerations` export. `held`:
        older generations still in use elsewhere (None: all of the previous ones)."""

        def live(v: list[Any]) -> tuple[int, ...]:
            previous = rotation.previous_generations(v[0], kind)
            return rotation.live_generations(previous, current, previous if v[1] is None else v[1])

        self.key_generations[kind] = pulumi.Output.all(self.previous_keys, held).apply(live)
        return self.key_generations[kind]

    def _consumer_secrets(self) -> dict[str, ConsumerSecret]:
        """Each consumer app's keys (Kafka + registry, the current generation) and endpoints, in a secret
        of its own that only its readers may read (README "Credentials")."""
        delivery = self.settings.credentials
        deployer = aws.iam.get_session_context_output(arn=aws.get_caller_identity_output().arn).issuer_arn
        secrets = {}
        for consumer in self.consumers:
            settings = delivery.consumer(consumer)
            keys = self.workload_access[consumer].consumer_credentials(
                pulumi.Output.concat(self.display, "-", consumer),
                self._live_keys(rotation.consumer_kind(consumer), settings.key_generation),
                waits_for=self._reachable_after,
            )
            document = DeliveredCredentials[Any](
                bootstrap_servers=self.kafka.cluster.bootstrap_endpoint.apply(lambda e: e.removeprefix("SASL_SSL://")),
                schema_registry_url=self._registry_endpoint,
                key_generation=settings.key_generation,
                kafka_api_key=keys.kafka_api_key,
                kafka_api_secret=keys.kafka_api_secret,
                schema_registry_api_key=keys.schema_registry_api_key,
                schema_registry_api_secret=keys.schema_registry_api_secret,
            )
            secrets[consumer] = ConsumerSecret(
                f"{self.region}-{consumer}-credentials",
                ConsumerSecretArgs(
                    secret_name=naming.consumer_secret_name(self.stack, consumer),
                    delivery=settings,
                    document=document,
                    region=self.region,
                    kms_key_id=delivery.kms_key_id,
                    vault=delivery.vault,
                    deployer_role_arn=deployer,
                    protect=self.protect,
                ),
                opts=self.in_region,
            )
        return secrets

    def _connector(self) -> CdcConnector | None:
        """Managed Postgres CDC from Aurora's writer (or the configured host) into the raw topic."""
        rs = self.settings
        if not rs.cdc.enabled:
            return None
        return CdcConnector(
            f"{self.region}-postgres-cdc",
            CdcConnectorArgs(
                cdc=rs.cdc,
                display_name=pulumi.Output.concat(self.display, "-postgres-cdc"),
                environment_id=self.glob.environment_id,
                cluster_id=self.kafka.cluster.id,
                service_account_id=self.glob.principals[naming.CDC_CONNECTOR].id,
                writer_endpoint=self.database.writer_endpoint if self.database else str(rs.cdc.hostname),
                password=read_secret(CDC_PASSWORD_KEY),
                root_cert=read_secret(CDC_ROOT_CERT_KEY) if rs.cdc.sslmode.startswith("verify-") else None,
                raw_topic=rs.raw_topic,
                protect=self.protect,
                depends_on=[
                    self.kafka.topics[rs.raw_topic],
                    *self.workload_access[naming.CDC_CONNECTOR].bindings,
                    *(self.database_egress.ready if self.database_egress else []),
                ],
            ),
        )

    def _link_key(self, peer: pulumi.StackReference | None) -> pulumi.Output[confluent.ApiKey] | None:
        """The key the PEER's half of the link presents to this cluster (exported as a secret). An old
        generation stays while the peer's half still presents it: it moves on the peer's next `up`."""
        if self.link_settings is None:
            return None
        peer_half = peer.get_output(REGION_EXPORTS.cluster_link) if peer else None
        live = self._live_keys(
            rotation.LINK,
            self.settings.credentials.link_key_generation,
            held=pulumi.Output.from_input(peer_half).apply(_presented_generations),
        )
        access = self.workload_access[naming.link_principal(self.region)]
        keys = access.kafka_keys(pulumi.Output.concat(self.display, "-cluster-link"), waits_for=self._reachable_after)
        return keys.current(live)

    def _cluster_link(
        self, peer: pulumi.StackReference | None, previous_deployment: pulumi.StackReference
    ) -> ClusterLinkHalf | None:
        """This region's half of the bidirectional link and the mirrors of the peer's topics."""
        if self.link_settings is None or peer is None:
            return None
        return ClusterLinkHalf(
            f"{self.region}-link",
            ClusterLinkHalfArgs(
                link=self.link_settings,
                environment_name=self.glob.environment_name,
                local_region=self.region,
                local_cluster=self.kafka.cluster,
                local_key=self.kafka.manager_key,
                peer=PeerOutputs.from_stack(peer),
                previous=previous_deployment.get_output(REGION_EXPORTS.cluster_link),
                group_prefixes=[naming.consumer_group_prefix(c) for c in self.consumers],
                local_topics=self.policy[naming.link_principal(self.region)].mirrored_topics,
                previous_topics=previous_deployment.get_output(REGION_EXPORTS.linked_topics),
                protect=self.protect,
                settings_file=self.file,
            ),
        )

    def _flink_compute(self) -> FlinkCompute:
        return FlinkCompute(
            f"{self.region}-flink",
            FlinkComputeArgs(
                display_name=self.display,
                environment_id=self.glob.environment_id,
                region=self.region,
                max_cfu=self.settings.flink_max_cfu,
                deployer=self.glob.principals[naming.FLINK_DEPLOYER],
                deployer_grants=self.glob.deployer_grants,
                protect=self.protect,
            ),
        )

    def _routing_statement(self, previous_deployment: pulumi.StackReference) -> RoutingStatement:
        rs = self.settings
        current = pulumi.Output.from_input(self.glob.environment_name).apply(
            lambda env: region_statement(self.stack, env, rs, self.routes)
        )
        statements = self.workload_access[naming.FLINK_STATEMENTS]
        return RoutingStatement(
            f"{self.region}-routing",
            RoutingStatementArgs(
                current=current,
                organization_id=self.glob.organization_id,
                environment_id=self.glob.environment_id,
                flink=self.flink,
                principal_id=self.glob.principals[naming.FLINK_STATEMENTS].id,
                rest_endpoint=self._flink_endpoint,
                previous=previous_deployment.get_output(REGION_EXPORTS.routing_statement),
                gate=RawSchemaGate(
                    raw_topic=rs.raw_topic,
                    table=rs.cdc.table,
                    key=statements.registry_key(
                        pulumi.Output.concat(self.display, "-raw-schema-check"), waits_for=self._reachable_after
                    )
                    if rs.cdc.enabled
                    else None,
                    registry_id=self.glob.schema_registry.id,
                    registry_endpoint=self._registry_endpoint,
                    connector=self.connector,
                ),
                protect=self.protect,
                # What the statement waits for, as components (Pulumi waits for each one's children): the
                # topics (KafkaCluster), the routed topics' schemas (global layer, when in this stack), its
                # principal's grants, the connector, which registers the raw topic's schema, and in
                # PRIVATELINK stacks the endpoint and DNS its private Flink endpoint resolves through.
                depends_on=[
                    self.kafka,
                    *self.glob.in_stack,
                    statements,
                    *([self.connector] if self.connector else []),
                    *self._reachable_after,
                ],
            ),
        )

    @property
    def _flink_endpoint(self) -> pulumi.Input[str]:
        """Where statements are submitted: the region's public endpoint, or the network's private one."""
        return self.network.flink_endpoint if self.network else self.flink.region.rest_endpoint

    @property
    def _registry_endpoint(self) -> pulumi.Input[str]:
        """The registry endpoint clients in this region use: public, or the network's private one."""
        return self.network.registry_endpoint if self.network else self.glob.schema_registry.rest_endpoint

    def _monitoring(self) -> RegionMonitoring:
        """Prometheus' Metrics API key, scrape config and alert rules for what this region runs."""
        return RegionMonitoring(
            f"{self.region}-monitoring",
            RegionMonitoringArgs(
                display_name=pulumi.Output.concat(self.display, "-metrics"),
                principal=self.glob.principals[naming.METRICS_VIEWER],
                watched=WatchedIds(
                    stack=self.stack,
                    region=self.region,
                    cluster_type=self.settings.kafka.type,
                    organization_id=self.glob.organization_id,
                    environment_id=self.glob.environment_id,
                    cluster_id=self.kafka.cluster.id,
                    compute_pool_id=self.flink.pool.id,
                    flink_rest_endpoint=self._flink_endpoint,
                    routing=self.routing.current,
                    connector=self.connector.connector if self.connector else None,
                    heartbeat_topic=self.heartbeat_topics[0] if self.heartbeat_topics else None,
                    heartbeat_interval_ms=self.settings.cdc.heartbeat_interval_ms if self.heartbeat_topics else 0,
                    consumers=self.consumers,
                    link=self.cluster_link.exported if self.cluster_link else None,
                    dead_letter_topic=naming.dead_letter_topic(self.settings.raw_topic),
                ),
                thresholds=self.settings.monitoring,
                key_generations=self._live_keys(rotation.METRICS, self.settings.credentials.metrics_key_generation),
            ),
        )

    def _connector_connections(self, idle_stop: IdleStopSettings) -> int:
        """What this stack's connector holds on the cluster: configured, or measured for its settings."""
        if not self.settings.cdc.enabled:
            return 0
        configured = idle_stop.connector_connections
        return held_connections(self.settings.cdc) if configured is None else configured

    def _idle_stop(self) -> AuroraIdleStop | None:
        """dev and pr-N only (the settings refuse it in a protected stack): stop the Aurora cluster after
        `aurora.idleStop.inactivityHours` without connections beyond the CDC connectors' own."""
        aurora = self.settings.aurora
        if aurora is None or aurora.idle_stop is None:
            return None
        return AuroraIdleStop(
            f"{self.region}-aurora-idle-stop",
            AuroraIdleStopArgs(
                cluster_identifier=aurora.cluster_identifier,
                region=self.region,
                settings=aurora.idle_stop,
                connector_connections=self._connector_connections(aurora.idle_stop),
                stack=self.stack,
                name_prefix=f"{self.stack}-{self.region}",
                protect=self.protect,
            ),
            opts=self.in_region,
        )

    def export(self) -> None:
        """The stack's outputs (core.region_exports.RegionExports: what the peer, the next deployment and
        cdcctl read). Secrets stay secrets; a key id is not one."""
        link_topics = self.policy[naming.link_principal(self.region)].mirrored_topics if self.link_key else None
        exports = RegionExports[Any](
            region=self.region,
            cluster_id=self.kafka.cluster.id,
            bootstrap_endpoint=self.kafka.cluster.bootstrap_endpoint,
            rest_endpoint=self.kafka.cluster.rest_endpoint,
            compute_pool_id=self.flink.pool.id,
            routing_statement=self.routing.current,
            key_generations=pulumi.Output.all(**self.key_generations).apply(
                lambda live: {kind: list(generations) for kind, generations in sorted(live.items())}
            ),
            schema_registry_endpoint=self._registry_endpoint,
            consumers={consumer: self._consumer_export(consumer) for consumer in self.consumers},
            monitoring=self.monitoring.targets.apply(lambda t: t.to_export()),
            prometheus_scrape_config=self.monitoring.scrape_config,
            prometheus_rules=self.monitoring.rules,
            metrics_api_key=self.monitoring.key_id,
            metrics_api_secret=self.monitoring.key_secret,
            link_api_key=self.link_key.apply(lambda k: k.id) if self.link_key else None,
            link_api_secret=pulumi.Output.secret(self.link_key.apply(lambda k: k.secret)) if self.link_key else None,
            linked_topics=list(link_topics) if link_topics is not None else None,
            cluster_link=self.cluster_link.exported if self.cluster_link else None,
            database_writer_endpoint=self.database.writer_endpoint if self.database else None,
            database_proxy_endpoint=self.database.proxy_endpoint if self.database else None,
            cdc_connector_id=self.connector.connector.id if self.connector else None,
            aurora_idle_stop_function=self.idle_stop.function_name if self.idle_stop else None,
        )
        for key, value in exports.items():
            pulumi.export(key, value)

    def _consumer_export(self, consumer: str) -> dict[str, Any]:
        """Its topics in this region (the grants' read topics), the group prefix they allow and, with a
        link, the peer's same topics mirrored here (readable too)."""
        grants = self.policy[consumer]
        mirrors = sorted(grants.read_mirrors) if self.link_settings else None
        return ConsumerExport[Any](
            list(grants.read_topics),
            naming.consumer_group_prefix(consumer),
            mirrors,
            self.consumer_secrets[consumer].exported,
        ).to_export()


def _presented_generations(peer_half: Any) -> tuple[int, ...] | None:
    """The generation of this stack's link key the peer's half presents (its ClusterLinkExport): none
    without a half; an older export that does not say holds every previous generation (None)."""
    if not peer_half:
        return ()
    presented = peer_half.get(LINK_EXPORT.peer_key_generation)
    return (int(presented),) if presented is not None else None
