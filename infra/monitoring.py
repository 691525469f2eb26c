"""A region's monitoring: the Cloud API key Prometheus scrapes Confluent's Metrics API export with, and
the scrape config and alert rules for what the region runs (no metrics server of our own: an existing
Prometheus or Grafana Agent loads the two documents from the stack's outputs)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from core.naming import COMPONENT
from infra.access import PrincipalRef, cloud_api_key
from monitoring.prometheus import alert_rules, render, scrape_config
from monitoring.targets import MonitoringTargets, Thresholds


@dataclass
class RegionMonitoringArgs:
    display_name: pulumi.Input[str]
    # The metrics principal: MetricsViewer on the environment (global layer, infra.access.Principal).
    principal: PrincipalRef
    targets: pulumi.Output[MonitoringTargets]
    thresholds: Thresholds


class RegionMonitoring(pulumi.ComponentResource):
    """Metrics API key (one per region stack: each region's Prometheus rotates its own) -> scrape config
    and rules (`scrape_config`, `rules`: YAML documents as strings)."""

    def __init__(self, name: str, args: RegionMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:RegionMonitoring", name, None, opts)
        # Nothing uses the key during the deployment (Prometheus does, later): it need not wait for the
        # principal's MetricsViewer binding.
        self.key = cloud_api_key(f"{name}-key", args.display_name, args.principal, pulumi.ResourceOptions(parent=self))
        thresholds = args.thresholds
        self.scrape_config = pulumi.Output.all(args.targets, self.key.id).apply(
            lambda v: render(scrape_config(v[0], v[1], thresholds), v[0].stack)
        )
        self.rules = args.targets.apply(lambda t: render(alert_rules(t, thresholds), t.stack))
        self.register_outputs({"key_id": self.key.id})
