"""A region's monitoring: the Cloud API key Prometheus scrapes Confluent's Metrics API export with, and
the scrape config and alert rules for what the region runs (no metrics server of our own: an existing
Prometheus or Grafana Agent loads the two documents from the stack's outputs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_confluentcloud as confluent

from core import naming
from core.naming import COMPONENT
from core.region_exports import LINK_EXPORT
from infra.access import KeyRing, PrincipalRef, cloud_api_key
from monitoring.prometheus import alert_rules, render, scrape_config
from monitoring.targets import ConnectorWatch, ConsumerWatch, LinkWatch, MonitoringTargets, Thresholds


@dataclass
class WatchedIds:
    """What one region stack runs, as the resources' ids and exports (MonitoringTargets once known)."""

    stack: str
    region: str
    cluster_type: str
    organization_id: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    compute_pool_id: pulumi.Input[str]
    flink_rest_endpoint: pulumi.Input[str]
    routing: pulumi.Input[Any]  # the routing statement's export (None while the first-deploy gate holds)
    connector: confluent.Connector | None
    heartbeat_topic: str | None  # the connector's heartbeat topic (None: no heartbeat)
    heartbeat_interval_ms: int
    consumers: Sequence[str]
    link: pulumi.Input[Any] | None = None  # this half's export (None while it is skipped)
    dead_letter_topic: str | None = None  # the raw table's error-handling target

    def targets(self) -> pulumi.Output[MonitoringTargets]:
        connector = self.connector
        ids = pulumi.Output.all(
            organization_id=self.organization_id,
            environment_id=self.environment_id,
            cluster_id=self.cluster_id,
            compute_pool_id=self.compute_pool_id,
            flink_rest_endpoint=self.flink_rest_endpoint,
            routing=self.routing,
            connector_id=connector.id if connector else None,
            connector_config=connector.config_nonsensitive if connector else None,
            link=self.link,
        )
        return ids.apply(
            lambda v: MonitoringTargets(
                stack=self.stack,
                region=self.region,
                organization_id=v["organization_id"],
                environment_id=v["environment_id"],
                cluster_id=v["cluster_id"],
                cluster_type=self.cluster_type,
                compute_pool_id=v["compute_pool_id"],
                flink_rest_endpoint=v["flink_rest_endpoint"],
                statements=(v["routing"]["name"],) if v["routing"] else (),  # none while the gate holds
                connector=ConnectorWatch(
                    v["connector_id"], v["connector_config"]["name"], self.heartbeat_topic, self.heartbeat_interval_ms
                )
                if connector
                else None,
                consumers=tuple(ConsumerWatch(c, naming.consumer_group_prefix(c)) for c in self.consumers),
                # This half's mirrors (their lag is reported here); none while the half is skipped.
                link=LinkWatch(v["link"][LINK_EXPORT.name], tuple(v["link"][LINK_EXPORT.mirrors]))
                if v["link"]
                else None,
                dead_letter_topic=self.dead_letter_topic,
            )
        )


@dataclass
class RegionMonitoringArgs:
    display_name: pulumi.Input[str]
    # The metrics principal: MetricsViewer on the environment (global layer, infra.access.Principal).
    principal: PrincipalRef
    watched: WatchedIds
    thresholds: Thresholds
    # The key's live generations (core.rotation): the scrape config names the current one.
    key_generations: pulumi.Input[Sequence[int]] = (1,)


class RegionMonitoring(pulumi.ComponentResource):
    """Metrics API key (one per region stack: each region's Prometheus rotates its own) -> what is
    watched (`targets`) -> scrape config and rules (`scrape_config`, `rules`: YAML documents as strings)."""

    def __init__(self, name: str, args: RegionMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:RegionMonitoring", name, None, opts)
        # Nothing uses the key during the deployment (Prometheus does, later): it need not wait for the
        # principal's MetricsViewer binding.
        keys = KeyRing(
            f"{name}-key",
            args.display_name,
            lambda key_name, display: cloud_api_key(
                key_name, display, args.principal, pulumi.ResourceOptions(parent=self)
            ),
        )
        key = keys.current(args.key_generations)
        self.key_id: pulumi.Output[str] = key.apply(lambda k: k.id)
        self.key_secret: pulumi.Output[str] = pulumi.Output.secret(key.apply(lambda k: k.secret))
        thresholds = args.thresholds
        self.targets = args.watched.targets()
        self.scrape_config = pulumi.Output.all(self.targets, self.key_id).apply(
            lambda v: render(scrape_config(v[0], v[1], thresholds), v[0].stack)
        )
        self.rules = self.targets.apply(lambda t: render(alert_rules(t, thresholds), t.stack))
        self.register_outputs({"key_id": self.key_id})
