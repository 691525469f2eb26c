"""Region layer, in data-flow order: AWS side -> network -> Kafka cluster and topics -> workload access
and keys -> CDC connector -> Flink compute and the routing statement -> monitoring; the exports come last."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_confluentcloud as confluent

from core import naming
from core.cdc_source import held_connections, written_heartbeat_topics
from core.config_node import ConfigError
from flink_sql.routes import Route, consumers
from flink_sql.statement import region_statement
from infra.access import ClusterAccess, ClusterAccessArgs
from infra.aurora_idle_stop import AuroraIdleStop, AuroraIdleStopArgs
from infra.cdc_connector import CdcConnector, CdcConnectorArgs
from infra.cluster_link import ClusterLinkHalf, ClusterLinkHalfArgs, Peer
from infra.database import AuroraDatabase, AuroraDatabaseArgs, ProxyArgs
from infra.database_egress import DatabaseEgress, DatabaseEgressArgs
from infra.flink import FlinkCompute, FlinkComputeArgs, RoutingStatement, RoutingStatementArgs
from infra.kafka import KafkaCluster, KafkaClusterArgs, TopicSpec
from infra.monitoring import RegionMonitoring, RegionMonitoringArgs
from infra.private_link import PrivateLinkArgs, PrivateLinkNetwork
from infra.settings import (
    APP_PASSWORD_KEY,
    CDC_PASSWORD_KEY,
    CDC_ROOT_CERT_KEY,
    NAMESPACE,
    AllInOneStackSettings,
    IdleStopSettings,
    RegionStackSettings,
    link_settings,
    mirror_transition_problem,
    read_secret,
)
from infra.source_alarms import SourceAlarms, SourceAlarmsArgs
from monitoring.targets import EXPORT as MONITORING_EXPORT
from monitoring.targets import ConnectorWatch, ConsumerWatch, LinkWatch, MonitoringTargets
from stacks.access_policy import access_policy
from stacks.global_layer import GlobalExports

# The stack export holding the deployed routing statement; the next deployment reads it back.
ROUTING_EXPORT = "routingStatement"
HEARTBEAT_RETENTION_MS = 24 * 3600 * 1000


# The stack export holding this half of the cluster link (name, mirror status, mirrors).
LINK_EXPORT = "clusterLink"


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
        self.in_region = self._aws_provider()
        self.database = self._aws_side()
        self.source_alarms = self._source_alarms()
        self.network = self._network()
        self.database_egress = self._database_egress()
        self.kafka = self._kafka()
        self.workload_access = self._workload_access()
        self.consumer_credentials = self._consumer_keys()
        self.connector = self._connector()
        self.flink = self._flink_compute()
        self.routing = self._routing_statement(previous_deployment)
        self.link_key = self._link_key()
        self.cluster_link = self._cluster_link(peer, previous_deployment)
        self.watched = self._monitoring_targets()
        self.monitoring = self._monitoring()
        self.idle_stop = self._idle_stop()

    def _aws_provider(self) -> pulumi.ResourceOptions | None:
        """AWS resources of this layer live in its region, whatever the deployer's default region is."""
        if self.settings.aurora is None and self.settings.private_link is None:
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

    def _connector_connections(self, idle_stop: IdleStopSettings) -> int:
        """What this stack's connector holds on the cluster: configured, or measured for its settings."""
        if not self.settings.cdc.enabled:
            return 0
        configured = idle_stop.connector_connections
        return held_connections(self.settings.cdc) if configured is None else configured

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
                protect=self.protect,
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
        # Heartbeats only show the connector is alive: one partition, a day's worth.
        topics += [TopicSpec(topic, 1, HEARTBEAT_RETENTION_MS) for topic in self.heartbeat_topics]
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

    def _consumer_keys(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        """Consumer apps authenticate with keys (Kafka + registry); the connector and Flink run as the
        account itself. What each app configures, by consumer."""
        credentials = {}
        for consumer in self.consumers:
            access = self.workload_access[consumer]
            display = pulumi.Output.concat(self.display, "-", consumer)
            kafka_key = access.kafka_key(display, waits_for=self._reachable_after)
            registry_key = access.registry_key(
                pulumi.Output.concat(display, "-registry"), waits_for=self._reachable_after
            )
            credentials[consumer] = {
                "kafkaApiKey": kafka_key.id,
                "kafkaApiSecret": kafka_key.secret,
                "schemaRegistryApiKey": registry_key.id,
                "schemaRegistryApiSecret": registry_key.secret,
            }
        return credentials

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

    def _link_key(self) -> confluent.ApiKey | None:
        """The key the PEER's half of the link presents to this cluster (exported as a secret)."""
        if self.link_settings is None:
            return None
        access = self.workload_access[naming.link_principal(self.region)]
        return access.kafka_key(pulumi.Output.concat(self.display, "-cluster-link"), waits_for=self._reachable_after)

    def _cluster_link(
        self, peer: pulumi.StackReference | None, previous_deployment: pulumi.StackReference
    ) -> pulumi.Output[dict[str, Any] | None] | None:
        """This region's half of the bidirectional link and the mirrors of the peer's topics, declared
        once the peer's outputs are read. A peer without a cluster yet (its first `up` has not run:
        `pulumi stack init` it first, see README) skips both with a warning: the second region's `up`
        creates the second half after the first exists, which also avoids the provider's link-id race."""
        link = self.link_settings
        if link is None or peer is None:
            return None
        # Only non-secret peer outputs decide what is declared (a secret would make every export built
        # from them secret); the link secret goes to the resource as an Output of its own.
        values = pulumi.Output.all(
            environment=self.glob.environment_name,
            cluster_id=peer.get_output("clusterId"),
            region=peer.get_output("region"),
            bootstrap=peer.get_output("bootstrapEndpoint"),
            link_key=peer.get_output("linkApiKey"),
            topics=peer.get_output("linkedTopics"),
            peer_half=peer.get_output(LINK_EXPORT),
            previous=previous_deployment.get_output(LINK_EXPORT),
        )
        link_secret = peer.get_output("linkApiSecret")

        def declare(v: dict[str, Any]) -> dict[str, Any] | None:
            if not v["cluster_id"] or not v["link_key"]:
                pulumi.log.warn(
                    f"cluster link to {link.peer_stack} skipped: the peer has no cluster yet. "
                    f"Run `pulumi up --stack {link.peer_stack}`, then `pulumi up` here again."
                )
                return None
            if v["region"] != link.peer_region:
                raise ConfigError(
                    self.file,
                    f"{NAMESPACE}:link.peerRegion",
                    f"is {link.peer_region}, but {link.peer_stack} is in {v['region']}",
                )
            previous_status = (v["previous"] or {}).get("mirrorStatus")
            problem = mirror_transition_problem(previous_status, link.mirror_status)
            if problem:
                raise ConfigError(self.file, f"{NAMESPACE}:link.mirrorStatus", problem)
            # Mirrors need the link usable from both sides: each waits for the peer's half (Confluent's
            # example makes every mirror depend on both halves).
            topics = tuple(v["topics"]) if v["peer_half"] else ()
            if not v["peer_half"]:
                pulumi.log.warn(
                    f"mirrors of {link.peer_stack}'s topics wait for its half of the link: "
                    f"run `pulumi up --stack {link.peer_stack}`, then `pulumi up` here again."
                )
            name = naming.link_name(v["environment"], (self.region, link.peer_region))
            half = ClusterLinkHalf(
                f"{self.region}-link",
                ClusterLinkHalfArgs(
                    link_name=name,
                    local_cluster=self.kafka.cluster,
                    local_key=self.kafka.manager_key,
                    peer=Peer(
                        region=v["region"],
                        cluster_id=v["cluster_id"],
                        bootstrap_endpoint=v["bootstrap"],
                        link_key=v["link_key"],
                        link_secret=link_secret,
                        topics=topics,
                    ),
                    group_prefixes=[naming.consumer_group_prefix(c) for c in self.consumers],
                    mirror_status=link.mirror_status,
                    protect=self.protect,
                ),
            )
            mirrors = sorted(naming.mirror_topic(v["region"], topic) for topic in half.mirrors)
            return {"name": name, "mirrorStatus": link.mirror_status, "mirrors": mirrors}

        return values.apply(declare)

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
        gate = self._statement_held_back()
        current = pulumi.Output.from_input(self.glob.environment_name).apply(
            lambda env: region_statement(self.stack, env, rs, self.routes)
        )
        return RoutingStatement(
            f"{self.region}-routing",
            RoutingStatementArgs(
                current=current,
                organization_id=self.glob.organization_id,
                environment_id=self.glob.environment_id,
                flink=self.flink,
                principal_id=self.glob.principals[naming.FLINK_STATEMENTS].id,
                rest_endpoint=self._flink_endpoint(),
                previous=previous_deployment.get_output(ROUTING_EXPORT),
                # Only a first statement waits for the gate: a running one never depends on its lookup
                # (unknown in a preview that creates or replaces what the lookup waits for).
                held_back=previous_deployment.get_output(ROUTING_EXPORT).apply(
                    lambda previous: None if previous else gate
                ),
                protect=self.protect,
                # What the statement waits for, as components (Pulumi waits for each one's children): the
                # topics (KafkaCluster), the routed topics' schemas (global layer, when in this stack), its
                # principal's grants, the connector, which registers the raw topic's schema, and in
                # PRIVATELINK stacks the endpoint and DNS its private Flink endpoint resolves through.
                depends_on=[
                    self.kafka,
                    *self.glob.in_stack,
                    self.workload_access[naming.FLINK_STATEMENTS],
                    *([self.connector] if self.connector else []),
                    *self._reachable_after,
                ],
            ),
        )

    def _statement_held_back(self) -> pulumi.Input[str | None]:
        """First-deploy gate. Flink infers the raw table from the raw value subject, which the connector
        registers with its first record (the provider returns once the connector is RUNNING, before
        that); a statement submitted earlier fails. So a first statement waits, with a warning naming
        what to do, until CDC writes the raw topic and its subject has a schema: read with the statement
        principal's own read-only registry key (it may read that subject) on the region's registry
        endpoint. In a first preview the key does not exist yet: the gate is decided during `up`."""
        rs = self.settings
        subject = naming.subject(rs.raw_topic)
        if not rs.cdc.enabled:
            return (
                f"cdc.enabled is false, so nothing writes {rs.raw_topic}: enable CDC "
                "(cdc-platform:cdc.enabled) and `pulumi up` again"
            )
        key = self.workload_access[naming.FLINK_STATEMENTS].registry_key(
            pulumi.Output.concat(self.display, "-raw-schema-check"), waits_for=self._reachable_after
        )
        found = confluent.get_schemas_output(
            filter=confluent.GetSchemasFilterArgs(subject_prefix=subject, latest_only=True),
            rest_endpoint=self._registry_endpoint(),
            credentials=pulumi.Output.all(key.id, key.secret).apply(
                lambda v: confluent.GetSchemasCredentialsArgs(key=v[0], secret=v[1])
            ),
            schema_registry_cluster=pulumi.Output.from_input(self.glob.schema_registry.id).apply(
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
                    f"once a row of {rs.cdc.table} is captured, `pulumi up` again"
                )
            )
        )

    def _flink_endpoint(self) -> pulumi.Input[str]:
        """Where statements are submitted. "Statements running on public endpoints cannot access
        Confluent Cloud cluster resources running on private endpoints" (CC flink/operate-and-deploy/
        private-networking), so a PRIVATELINK stack uses the network's private Flink endpoint,
        `https://flink` + the network's endpoint suffix (TF docs confluent_flink_statement.md), which
        the zone's `*` record already resolves to the region's VPC endpoint."""
        if self.network is None:
            return self.flink.region.rest_endpoint
        return pulumi.Output.concat("https://flink", self.network.network.endpoint_suffix)

    def _monitoring_targets(self) -> pulumi.Output[MonitoringTargets]:
        """What this region's monitoring watches, by id: the scrape config and rules are built from it."""
        connector = self.connector.connector if self.connector else None
        ids = pulumi.Output.all(
            organization_id=self.glob.organization_id,
            environment_id=self.glob.environment_id,
            cluster_id=self.kafka.cluster.id,
            compute_pool_id=self.flink.pool.id,
            flink_rest_endpoint=self._flink_endpoint(),
            routing=self.routing.current,
            connector_id=connector.id if connector else None,
            connector_config=connector.config_nonsensitive if connector else None,
            link=self.cluster_link,
        )
        return ids.apply(
            lambda v: MonitoringTargets(
                stack=self.stack,
                region=self.region,
                organization_id=v["organization_id"],
                environment_id=v["environment_id"],
                cluster_id=v["cluster_id"],
                cluster_type=self.settings.kafka.type,
                compute_pool_id=v["compute_pool_id"],
                flink_rest_endpoint=v["flink_rest_endpoint"],
                statements=(v["routing"]["name"],) if v["routing"] else (),  # none while the gate holds
                connector=ConnectorWatch(
                    v["connector_id"],
                    v["connector_config"]["name"],
                    self.heartbeat_topics[0] if self.heartbeat_topics else None,
                    self.settings.cdc.heartbeat_interval_ms if self.heartbeat_topics else 0,
                )
                if connector
                else None,
                consumers=tuple(ConsumerWatch(c, naming.consumer_group_prefix(c)) for c in self.consumers),
                # This half's mirrors (their lag is reported here); none while the half is skipped.
                link=LinkWatch(v["link"]["name"], tuple(v["link"]["mirrors"])) if v["link"] else None,
            )
        )

    def _monitoring(self) -> RegionMonitoring:
        """Prometheus' Metrics API key, scrape config and alert rules for what this region runs."""
        return RegionMonitoring(
            f"{self.region}-monitoring",
            RegionMonitoringArgs(
                display_name=pulumi.Output.concat(self.display, "-metrics"),
                principal=self.glob.principals[naming.METRICS_VIEWER],
                targets=self.watched,
                thresholds=self.settings.monitoring,
            ),
        )

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

    def _registry_endpoint(self) -> pulumi.Input[str]:
        """The registry endpoint clients in this region use. With a Confluent network and a Dedicated
        cluster in the region, Confluent serves the environment's registry privately (CC sr/fundamentals/
        sr-private-link) at `https://<lsrc-id>` + the network's endpoint suffix (TF docs confluent_schema,
        confluent_network): under the network's zone and its `*` record, so the region's VPC resolves it
        like the Flink endpoint (the `...aws.private.confluent.cloud` form of `private_regional_rest_endpoints`
        lies outside that zone)."""
        if self.network is None:
            return self.glob.schema_registry.rest_endpoint
        return pulumi.Output.concat("https://", self.glob.schema_registry.id, self.network.network.endpoint_suffix)

    def export(self) -> None:
        pulumi.export("region", self.region)
        if self.link_key is not None:
            # What the peer's half reads: this cluster's topics to mirror and the link's key here.
            pulumi.export("linkApiKey", self.link_key.id)  # a key id is not a secret; its secret is
            pulumi.export("linkApiSecret", pulumi.Output.secret(self.link_key.secret))
            pulumi.export("linkedTopics", list(self.policy[naming.link_principal(self.region)].mirrored_topics))
        if self.cluster_link is not None:
            pulumi.export(LINK_EXPORT, self.cluster_link)
        pulumi.export("clusterId", self.kafka.cluster.id)
        pulumi.export("bootstrapEndpoint", self.kafka.cluster.bootstrap_endpoint)
        pulumi.export("restEndpoint", self.kafka.cluster.rest_endpoint)
        pulumi.export("computePoolId", self.flink.pool.id)
        pulumi.export(ROUTING_EXPORT, self.routing.current)
        if self.database is not None:
            pulumi.export("databaseWriterEndpoint", self.database.writer_endpoint)
            if self.database.proxy_endpoint is not None:
                pulumi.export("databaseProxyEndpoint", self.database.proxy_endpoint)  # what the applications use
        if self.connector is not None:
            pulumi.export("cdcConnectorId", self.connector.connector.id)
        if self.idle_stop is not None:
            pulumi.export("auroraIdleStopFunction", self.idle_stop.function_name)  # the start path invokes it
        pulumi.export("consumerCredentials", pulumi.Output.secret(self.consumer_credentials))
        # What a consumer app configures besides its keys (`cdcctl consumer NAME --stack S`): the registry,
        # the topics its grants let it read and the group-id prefix they allow (the access policy's).
        pulumi.export("schemaRegistryEndpoint", self._registry_endpoint())
        pulumi.export(
            "consumers",
            {
                consumer: {
                    # Its topics in this region; with a link, also the peer's mirrored here (readable too).
                    "topics": list(self.policy[consumer].read_topics),
                    **({"peerMirrors": sorted(self.policy[consumer].read_mirrors)} if self.link_settings else {}),
                    "groupPrefix": naming.consumer_group_prefix(consumer),
                }
                for consumer in self.consumers
            },
        )
        # Monitoring: the watched ids (`cdcctl status`), and the scrape config and alert rules an existing
        # Prometheus loads as they are (`pulumi stack output prometheusRules`); the key's secret stays secret.
        pulumi.export(MONITORING_EXPORT, self.watched.apply(lambda t: t.to_export()))
        pulumi.export("prometheusScrapeConfig", self.monitoring.scrape_config)
        pulumi.export("prometheusRules", self.monitoring.rules)
        pulumi.export("metricsApiKey", self.monitoring.key.id)
        pulumi.export("metricsApiSecret", pulumi.Output.secret(self.monitoring.key.secret))
