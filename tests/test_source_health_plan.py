"""Every CDC region's plan holds its source-health pieces: the connector's heartbeat, the slot's WAL
ceiling in the cluster parameter group, the writer's alarms and the region's SNS topic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cdcctl.plan import Plan
from tests.helpers import copy_project, of_type, one

pytestmark = pytest.mark.plans

CDC_STACKS = [("prod-east", "cdc-prod-east-events", 102_400), ("prod-west", "cdc-prod-west-events", 102_400)]
CDC_STACKS += [("dev", "cdc-dev-events", 20_480)]


def alarms(p: Plan) -> dict[str, dict[str, object]]:
    return {r.name.rsplit("source-alarms-", 1)[1]: r.inputs for r in of_type(p, "MetricAlarm")}


@pytest.mark.parametrize("stack, cluster, ceiling_mb", CDC_STACKS)
def test_the_slot_ceiling_is_in_the_cluster_parameter_group_with_its_layer_default(
    plans: dict[str, Plan], stack: str, cluster: str, ceiling_mb: int
) -> None:
    group = one(plans[stack], "ClusterParameterGroup")
    parameters = {p["name"]: p for p in group.inputs["parameters"]}
    assert parameters["max_slot_wal_keep_size"]["value"] == str(ceiling_mb)
    assert parameters["max_slot_wal_keep_size"]["applyMethod"] == "immediate"  # PostgreSQL reloads it


@pytest.mark.parametrize("stack, cluster, ceiling_mb", CDC_STACKS)
def test_the_writers_slot_and_wal_disk_use_alarm_at_half_the_ceiling_into_the_regions_topic(
    plans: dict[str, Plan], stack: str, cluster: str, ceiling_mb: int
) -> None:
    p = plans[stack]
    topic = one(p, "Topic", lambda r: r.type.startswith("aws:sns"))
    found = alarms(p)
    for short, metric in (("slot-disk", "ReplicationSlotDiskUsage"), ("wal-disk", "TransactionLogsDiskUsage")):
        alarm = found[short]
        assert alarm["metricName"] == metric and alarm["namespace"] == "AWS/RDS"
        assert alarm["dimensions"] == {"DBClusterIdentifier": cluster, "Role": "WRITER"}
        assert alarm["threshold"] == ceiling_mb * 2**20 // 2
        assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert topic.inputs["name"].endswith("source-alarms")
    assert all(r.parent == f"{topic.parent}" for r in of_type(p, "MetricAlarm"))


def test_only_a_stack_with_a_proxy_alarms_on_its_saturation(plans: dict[str, Plan]) -> None:
    east = alarms(plans["prod-east"])
    proxy = one(plans["prod-east"], "Proxy")
    saturation = east["proxy-saturation"]
    metrics = {q["id"]: q for q in saturation["metricQueries"]}
    assert metrics["saturation"]["expression"] == "100 * borrowed / allowed"
    assert metrics["borrowed"]["metric"]["dimensions"] == {"ProxyName": proxy.inputs["name"]}
    assert saturation["threshold"] == 90
    assert east["proxy-borrow-latency"]["threshold"] == 100_000  # microseconds
    assert set(alarms(plans["dev"])) == {"slot-disk", "wal-disk"}  # dev has no proxy


@pytest.mark.parametrize("stack", ["prod-east", "prod-west", "dev"])
def test_the_connector_beats_every_minute_into_the_heartbeat_table(plans: dict[str, Plan], stack: str) -> None:
    config = one(plans[stack], "Connector").inputs["configNonsensitive"]
    assert config["heartbeat.interval.ms"] == "60000"
    assert config["heartbeat.action.query"].startswith("INSERT INTO public.cdc_heartbeat (slot_name, beat_at)")
    assert f"'{config['slot.name']}'" in config["heartbeat.action.query"]


def test_subscribers_and_thresholds_come_from_settings(tmp_path: Path) -> None:
    from cdcctl.plan import plan

    project = copy_project(tmp_path)
    stack_file = project / "Pulumi.prod-west.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["cdc-platform:aurora"]["maxSlotWalKeepSizeMb"] = 204_800
    document["config"]["cdc-platform:aurora"]["alarms"] = {
        "slotWarningPercent": 25,
        "subscribers": [{"protocol": "email", "endpoint": "oncall@example.com"}],
    }
    document["config"]["cdc-platform:cdc"]["heartbeatIntervalMs"] = 0
    stack_file.write_text(yaml.safe_dump(document))
    p = plan("prod-west", project)
    (subscription,) = of_type(p, "TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email", "oncall@example.com")
    assert alarms(p)["slot-disk"]["threshold"] == 204_800 * 2**20 // 4
    config = one(p, "Connector").inputs["configNonsensitive"]
    assert "heartbeat.interval.ms" not in config and "heartbeat" not in config["transforms"]
    assert not [t for t in of_type(p, "KafkaTopic") if t.inputs["topicName"].endswith("-heartbeat")]
