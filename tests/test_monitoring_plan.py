"""The program side of monitoring, on every stack's offline plan: a metrics principal with MetricsViewer
on the environment only, one Cloud API key per region stack with its secret kept secret, and exports
that carry the stack's own ids into the scrape config and the rules."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
import yaml

from cdcctl.mocks import ORG_CRN
from cdcctl.plan import Plan
from monitoring import prometheus
from monitoring.prometheus import alert_rules, render, scrape_config
from monitoring.targets import LinkWatch, MonitoringTargets, Thresholds
from tests.helpers import REPO, bindings_of, of_type, one, principal_ids, routing

REGION_STACKS = ("dev", "prod-east", "prod-west")


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_metrics_principal_may_only_view_metrics_of_its_environment(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    principal = principal_ids(p)["metrics-viewer"]
    environment = one(p, "Environment")
    # The environment: the least scope covering a region's cluster, connector and (environment-level) pool.
    assert bindings_of(p, principal) == {("MetricsViewer", f"{ORG_CRN}/environment={environment.id}")}


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_metrics_principal_is_protected_exactly_where_the_stack_protects(plans: dict[str, Plan], stack: str) -> None:
    account = one(plans[stack], "ServiceAccount", lambda r: r.inputs["displayName"].endswith("-metrics-viewer"))
    assert account.protect == (stack == "prod")


@pytest.mark.parametrize("stack", REGION_STACKS)
def test_each_region_stack_owns_a_cloud_api_key_of_the_metrics_principal(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    global_plan = plans["prod" if stack.startswith("prod") else stack]
    key = one(p, "ApiKey", lambda r: r.name.endswith("-monitoring-key"))
    assert "managedResource" not in key.inputs  # a Cloud key: the Metrics API refuses cluster keys
    assert key.inputs["owner"]["id"] == principal_ids(global_plan)["metrics-viewer"].removeprefix("User:")
    assert p.outputs["metricsApiKey"] == key.id
    assert p.outputs["metricsApiSecret"] == "[secret]"
    assert json.dumps(p.outputs).count("mock-api-secret") == 0


@pytest.mark.parametrize("stack", REGION_STACKS)
def test_monitoring_export_names_the_stacks_own_resources(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    targets = MonitoringTargets.from_export(p.outputs["monitoring"], stack)
    connector = one(p, "Connector")
    assert (targets.stack, targets.region) == (stack, p.outputs["region"])
    assert targets.cluster_id == one(p, "KafkaCluster").id == p.outputs["clusterId"]
    assert targets.compute_pool_id == one(p, "FlinkComputePool").id
    assert targets.connector is not None
    assert (targets.connector.id, targets.connector.name) == (
        connector.id,
        connector.inputs["configNonsensitive"]["name"],
    )
    assert targets.statements == (p.outputs["routingStatement"]["name"],)
    assert targets.flink_rest_endpoint == routing(p).inputs["restEndpoint"]
    assert {(c.name, c.group_prefix) for c in targets.consumers} == {
        (name, consumer["groupPrefix"]) for name, consumer in p.outputs["consumers"].items()
    }
    # Its half of the cluster link (prod regions): the mirrors it hosts, as declared; dev has none.
    mirrors = sorted(m.inputs["mirrorTopicName"] for m in of_type(p, "KafkaMirrorTopic"))
    if not of_type(p, "ClusterLink"):
        assert targets.link is None and not mirrors
        return
    assert targets.link is not None and list(targets.link.mirror_topics) == mirrors
    assert targets.link.name == one(p, "ClusterLink").inputs["link"]


@pytest.mark.parametrize("stack", REGION_STACKS)
def test_exported_prometheus_files_are_the_generators_output_for_those_ids(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    targets = MonitoringTargets.from_export(p.outputs["monitoring"], stack)
    assert p.outputs["prometheusScrapeConfig"] == render(
        scrape_config(targets, p.outputs["metricsApiKey"], Thresholds()), stack
    )
    assert p.outputs["prometheusRules"] == render(alert_rules(targets, Thresholds()), stack)


@pytest.mark.parametrize("stack", REGION_STACKS)
def test_the_fast_emitter_writes_what_the_pure_python_one_does(
    plans: dict[str, Plan], stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """render uses libyaml's emitter where PyYAML has it: the same text as its pure-Python SafeDumper."""
    assert prometheus.DUMPER is yaml.CSafeDumper  # PyYAML's wheels on this platform carry libyaml
    monkeypatch.setattr(prometheus, "DUMPER", yaml.SafeDumper)
    p = plans[stack]
    targets = MonitoringTargets.from_export(p.outputs["monitoring"], stack)
    assert p.outputs["prometheusScrapeConfig"] == render(
        scrape_config(targets, p.outputs["metricsApiKey"], Thresholds()), stack
    )
    assert p.outputs["prometheusRules"] == render(alert_rules(targets, Thresholds()), stack)


@pytest.mark.parametrize("stack", REGION_STACKS)
def test_scrape_job_reads_the_export_endpoint_once_a_minute_with_a_secret_file(
    plans: dict[str, Plan], stack: str
) -> None:
    p = plans[stack]
    (job,) = yaml.safe_load(p.outputs["prometheusScrapeConfig"])["scrape_configs"]
    assert job["metrics_path"] == "/v2/metrics/cloud/export"
    assert job["static_configs"][0]["targets"] == ["api.telemetry.confluent.cloud"]
    assert (job["scrape_interval"], job["honor_timestamps"], job["scheme"]) == ("1m", True, "https")
    assert job["params"] == {
        "resource.kafka.id": [p.outputs["clusterId"]],
        "resource.compute_pool.id": [p.outputs["computePoolId"]],
        "resource.connector.id": [p.outputs["cdcConnectorId"]],
    }
    assert job["basic_auth"] == {
        "username": p.outputs["metricsApiKey"],
        "password_file": f"/etc/prometheus/secrets/{stack}-metrics-api-secret",
    }


def test_cluster_load_is_watched_on_dedicated_clusters_only(plans: dict[str, Plan]) -> None:
    def alerts(stack: str) -> set[str]:
        groups = yaml.safe_load(plans[stack].outputs["prometheusRules"])["groups"]
        return {rule["alert"] for rule in groups[0]["rules"] if "alert" in rule}

    assert "KafkaClusterLoadHigh" in alerts("prod-east")  # DEDICATED
    assert "KafkaClusterLoadHigh" not in alerts("dev")  # STANDARD: no cluster_load_percent
    assert {"MirrorTopicLagHigh", "ClusterLinkUnavailable"} <= alerts("prod-east")  # its half of the link
    assert not {"MirrorTopicLagHigh", "ClusterLinkUnavailable"} & alerts("dev")  # no link declared


def test_readme_documents_every_alert_the_rules_can_hold(plans: dict[str, Plan]) -> None:
    targets = replace(
        MonitoringTargets.from_export(plans["prod-east"].outputs["monitoring"], "prod-east"),
        link=LinkWatch("link", ("us-west-2.raw-business-events",)),
    )
    alerts = {r["alert"] for r in alert_rules(targets, Thresholds())["groups"][0]["rules"] if "alert" in r}
    section = (REPO / "README.md").read_text().split("## Monitoring", 1)[1]
    documented = set(re.findall(r"^\| `(\w+)`", section, flags=re.MULTILINE))
    assert alerts <= documented
