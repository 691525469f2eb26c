"""The stacks' monitoring on the real promtool (Debian's prometheus package, `make promtool`).

Every stack's `cdcctl monitoring` files pass `promtool check config` and `check rules`, and
`promtool test rules` feeds series shaped as Confluent's Metrics API export emits them (metric names
and labels of ../shared/METRICS-FACTS.md section 2, one point a minute, COUNTER metrics as per-minute
deltas, the scrape job's own labels added) and asserts, per alert, a case that fires and one that stays
quiet: a lag spike that recovers, sustained lag, a group gone idle, a stalled connector, link lag.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from cdcctl.plan import Plan
from monitoring.prometheus import alert_rules, job_name, render
from monitoring.targets import LinkWatch, MonitoringTargets, Thresholds
from tests.helpers import EXAMPLE_TARGETS, STACKS

STACK = "prod-east"
LINK = LinkWatch("cdc-prod-link", ("us-west-2.raw-business-events", "us-west-2.filtered-loan-created-events"))


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: `make promtool` installs Debian's prometheus package")
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cdcctl monitoring` of every stack, into one directory (as a Prometheus config dir would hold)."""
    out = tmp_path_factory.mktemp("monitoring")
    for stack in STACKS:
        assert main(["monitoring", "--stack", stack, "--out", str(out)]) == 0
    return out


def _promtool(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.plans  # `written` plans every stack
@pytest.mark.parametrize("stack", STACKS)
def test_every_stacks_scrape_config_passes_promtool(promtool: str, written: Path, stack: str) -> None:
    result = _promtool(promtool, "check", "config", str(written / f"{stack}-scrape.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.plans  # `written` plans every stack
@pytest.mark.parametrize("stack", STACKS)
def test_every_stacks_rules_pass_promtool(promtool: str, written: Path, stack: str) -> None:
    result = _promtool(promtool, "check", "rules", str(written / f"{stack}-rules.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("SUCCESS: 0 rules found" in result.stdout) == (stack == "prod")


def test_rules_with_a_cluster_link_pass_promtool(promtool: str, tmp_path: Path, plans: dict[str, Plan]) -> None:
    rules = tmp_path / "linked-rules.yml"
    rules.write_text(render(alert_rules(_linked(plans), Thresholds()), STACK))
    result = _promtool(promtool, "check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr


# --- promtool test rules --------------------------------------------------------------------------------


@dataclass
class Case:
    """Input series (name, labels, promtool values), then at `at` exactly these alerts (their
    expression's labels) of `alert` are firing; none is `quiet`."""

    name: str
    alert: str
    series: list[tuple[str, dict[str, str], str]]
    at: str
    firing: list[dict[str, str]] = field(default_factory=list)
    linked: bool = False


def _cases(t: MonitoringTargets) -> list[Case]:
    assert t.connector is not None
    cluster, pool, connector = {"kafka_id": t.cluster_id}, {"compute_pool_id": t.compute_pool_id}, t.connector.id
    statement = {**pool, "flink_statement_name": t.statements[0]}
    flink_labels = {**statement, "flink_statement_uid": "1b8f6c2e-statement-uid", "table_name": "raw-business-events"}
    connected = {"connector_id": connector}
    link = {**cluster, "link_name": LINK.name}
    mirror = LINK.mirror_topics[1]

    def lag(group: str, partition: str, values: str) -> tuple[str, dict[str, str], str]:
        labels = {**cluster, "consumer_group_id": group, "topic": "filtered-loan-created-events"}
        return ("confluent_kafka_server_consumer_lag_offsets", {**labels, "partition": partition}, values)

    groups_up = [lag(f"{c.group_prefix}app", "0", "3x60") for c in t.consumers]
    sent = "confluent_kafka_connect_sent_records"
    received = "confluent_kafka_server_received_records"
    beats = {**cluster, "topic": t.connector.heartbeat_topic or ""}
    dead = {**cluster, "topic": t.dead_letter_topic or ""}
    return [
        # One record Flink could not deserialize lands in the dead-letter topic; then none.
        Case("a dead letter", "RoutingDeadLetterRecords", [(received, dead, "0x10 1 0x20")], "15m", [dead]),
        Case("no dead letters", "RoutingDeadLetterRecords", [(received, dead, "0x40")], "30m"),
        Case("scrape down", "ConfluentMetricsScrapeFailing", [("up", {}, "1x10 0x20")], "25m", [{}]),
        Case("scrape up", "ConfluentMetricsScrapeFailing", [("up", {}, "1x30")], "25m"),
        Case(
            "connector deleted",
            "ConfluentMetricsResourceInaccessible",
            [(_ACCESS, {"resource_id": connector, "resource_type": "resource.connector.id"}, "0x5 1x20")],
            "20m",
            [{"resource_id": connector, "resource_type": "resource.connector.id"}],
        ),
        Case(
            "all resources readable",
            "ConfluentMetricsResourceInaccessible",
            [(_ACCESS, {"resource_id": connector, "resource_type": "resource.connector.id"}, "0x30")],
            "20m",
        ),
        Case("sustained load", "KafkaClusterLoadHigh", [(_LOAD, cluster, "0.92x40")], "30m", [cluster]),
        Case("load spike that recovers", "KafkaClusterLoadHigh", [(_LOAD, cluster, "0.5x10 0.95x5 0.5x25")], "20m"),
        Case(
            "backlog growing for half an hour",
            "FlinkPendingRecordsGrowing",
            [("confluent_flink_pending_records", flink_labels, "1000+200x40")],
            "30m",
            [statement],
        ),
        Case(
            "backlog that drains",
            "FlinkPendingRecordsGrowing",
            [("confluent_flink_pending_records", flink_labels, "1000+500x5 3000-500x4 1000x25")],
            "20m",
        ),
        Case(
            "pool at 19 of 20 CFUs",
            "FlinkComputePoolNearLimit",
            [(_CFUS, pool, "19x40"), (_CFU_LIMIT, pool, "20x40")],
            "30m",
            [pool],
        ),
        Case(
            "pool at 8 of 20 CFUs",
            "FlinkComputePoolNearLimit",
            [(_CFUS, pool, "8x40"), (_CFU_LIMIT, pool, "20x40")],
            "30m",
        ),
        Case(
            "statement failed",
            "FlinkStatementUnhealthy",
            [(_STATEMENT_STATUS, {**statement, "status": "FAILED"}, "1x20")],
            "10m",
            [{**statement, "status": "FAILED"}],
        ),
        Case(
            "statement running",
            "FlinkStatementUnhealthy",
            [(_STATEMENT_STATUS, {**statement, "status": "RUNNING"}, "1x20")],
            "10m",
        ),
        Case(
            "connector failed",
            "CdcConnectorNotRunning",
            [(_CONNECTOR_STATUS, {**connected, "status": "FAILED"}, "1x20")],
            "10m",
            [{**connected, "status": "FAILED"}],
        ),
        Case(
            "connector running",
            "CdcConnectorNotRunning",
            [(_CONNECTOR_STATUS, {**connected, "status": "RUNNING"}, "1x20")],
            "10m",
        ),
        # 20 records a minute for two hours, then none: a stall half an hour in and still 80 minutes in
        # (after the hour-long baseline has slid past the last record: the recorded detection remembers).
        Case("stalled connector", "CdcConnectorStalled", [(sent, connected, "20x120 0x120")], "150m", [connected]),
        Case("stall still alerting", "CdcConnectorStalled", [(sent, connected, "20x120 0x120")], "200m", [connected]),
        Case("connector's series vanish", "CdcConnectorStalled", [(sent, connected, "20x120")], "150m", [connected]),
        Case("steady stream", "CdcConnectorStalled", [(sent, connected, "20x240")], "150m"),
        # A heartbeat a minute into its topic, whether or not the captured table changes; then none.
        Case("heartbeat stops", "CdcHeartbeatMissing", [(received, beats, "1x20 0x30")], "45m", [beats]),
        Case("heartbeat series vanish", "CdcHeartbeatMissing", [(received, beats, "1x20")], "45m", [beats]),
        Case("heartbeat beating", "CdcHeartbeatMissing", [(received, beats, "1x60")], "45m"),
        Case("stall that recovered", "CdcConnectorStalled", [(sent, connected, "20x120 0x30 20x60")], "170m"),
        # A record every 20 minutes predicts under one record per 15-minute window: silence is normal.
        Case("quiet database", "CdcConnectorStalled", [(sent, connected, "1 0x19 1 0x19 1 0x19 0x120")], "150m"),
        Case(
            "sustained lag",
            "ConsumerGroupLagHigh",
            [lag("loan-consumer-app", "0", "12000x40"), lag("loan-consumer-app", "1", "9000x40")],
            "30m",
            [{**cluster, "consumer_group_id": "loan-consumer-app"}],
        ),
        Case(
            "lag spike that recovers",
            "ConsumerGroupLagHigh",
            [lag("loan-consumer-app", "0", "500x10 30000x5 500x25")],
            "25m",
        ),
        Case(
            "group gone idle",
            "ConsumerGroupMissing",
            [*groups_up[1:], lag(f"{t.consumers[0].group_prefix}app", "0", "5x10")],
            "35m",
            [{**cluster, "consumer": t.consumers[0].name}],
        ),
        Case("every group consuming", "ConsumerGroupMissing", groups_up, "35m"),
        Case(
            "mirror lag",
            "MirrorTopicLagHigh",
            [(_MIRROR_LAG, {**link, "topic": mirror}, "50000x30")],
            "20m",
            [{**link, "topic": mirror}],
            linked=True,
        ),
        Case(
            "mirror lag spike that recovers",
            "MirrorTopicLagHigh",
            [(_MIRROR_LAG, {**link, "topic": mirror}, "0x10 50000x5 0x15")],
            "20m",
            linked=True,
        ),
        Case(
            "link unavailable",
            "ClusterLinkUnavailable",
            [(_LINK_COUNT, {**link, "link_state": "unavailable", "mode": "DESTINATION"}, "1x20")],
            "10m",
            [{**link, "link_state": "unavailable"}],
            linked=True,
        ),
        Case(
            "link active",
            "ClusterLinkUnavailable",
            [(_LINK_COUNT, {**link, "link_state": "active", "mode": "DESTINATION"}, "1x20")],
            "10m",
            linked=True,
        ),
        Case(
            "one mirror failed",
            "MirrorTopicsNotMirroring",
            [
                (_MIRROR_COUNT, {**link, "link_mirror_topic_state": "Mirror"}, "1x30"),
                (_MIRROR_COUNT, {**link, "link_mirror_topic_state": "FailedMirror"}, "1x30"),
            ],
            "20m",
            [link],
            linked=True,
        ),
        Case(
            "every mirror mirroring",
            "MirrorTopicsNotMirroring",
            [(_MIRROR_COUNT, {**link, "link_mirror_topic_state": "Mirror"}, "2x30")],
            "20m",
            linked=True,
        ),
    ]


_ACCESS = "confluent_scrape_resource_access_error"
_LOAD = "confluent_kafka_server_cluster_load_percent"
_CFUS = "confluent_flink_compute_pool_utilization_current_cfus"
_CFU_LIMIT = "confluent_flink_compute_pool_utilization_cfu_limit"
_STATEMENT_STATUS = "confluent_flink_statement_status"
_CONNECTOR_STATUS = "confluent_kafka_connect_connector_status"
_MIRROR_LAG = "confluent_kafka_server_cluster_link_mirror_topic_offset_lag"
_LINK_COUNT = "confluent_kafka_server_cluster_link_count"
_MIRROR_COUNT = "confluent_kafka_server_cluster_link_mirror_topic_count"


def _targets(plans: dict[str, Plan]) -> MonitoringTargets:
    return MonitoringTargets.from_export(plans[STACK].outputs["monitoring"], f"offline plan of {STACK}")


def _linked(plans: dict[str, Plan]) -> MonitoringTargets:
    return replace(_targets(plans), link=LINK)


# Case names (ids play no part in them); each test builds its case with the plan's real ids.
_EXAMPLE = replace(EXAMPLE_TARGETS, stack=STACK)
CASE_NAMES = [c.name for c in _cases(_EXAMPLE)]


def test_every_alert_has_a_firing_and_a_quiet_case(plans: dict[str, Plan]) -> None:
    cases = _cases(_targets(plans))
    rules = alert_rules(_linked(plans), Thresholds())["groups"][0]["rules"]
    alerts = {rule["alert"] for rule in rules if "alert" in rule}
    assert {c.alert for c in cases if c.firing} == alerts
    assert {c.alert for c in cases if not c.firing} == alerts


@pytest.mark.parametrize("name", CASE_NAMES)
def test_alert_rule_on_export_shaped_series(promtool: str, tmp_path: Path, plans: dict[str, Plan], name: str) -> None:
    targets = _targets(plans)
    (case,) = [c for c in _cases(targets) if c.name == name]
    rules_doc = alert_rules(_linked(plans) if case.linked else targets, Thresholds())
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(render(rules_doc, STACK))
    scraped = {
        "job": job_name(STACK),
        "instance": "api.telemetry.confluent.cloud",
        "stack": STACK,
        "region": "us-east-1",
    }
    test = {
        "rule_files": [rules_file.name],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": _series(metric, {**scraped, **labels}), "values": values}
                    for metric, labels, values in case.series
                ],
                "alert_rule_test": [
                    {
                        "eval_time": case.at,
                        "alertname": case.alert,
                        "exp_alerts": [
                            _expected(
                                rules_doc,
                                case.alert,
                                scraped if case.alert.startswith("ConfluentMetricsScrape") else {},
                                labels,
                            )
                            for labels in case.firing
                        ],
                    }
                ],
            }
        ],
    }
    test_file = tmp_path / "test.yml"
    test_file.write_text(yaml.safe_dump(test, sort_keys=False))
    result = _promtool(promtool, "test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


def _series(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


def _expected(rules_doc: dict[str, Any], alert: str, kept: dict[str, str], labels: dict[str, str]) -> dict[str, Any]:
    """The alert as Prometheus would fire it: the expression's labels (`kept`: the input series' own,
    for a rule that does not aggregate), the rule's labels, and its annotations expanded."""
    expression_labels = {**kept, **labels}
    (rule,) = [
        r
        for r in rules_doc["groups"][0]["rules"]
        if r.get("alert") == alert and all(expression_labels.get(k, v) == v for k, v in r["labels"].items())
    ]
    annotations = {
        key: re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: expression_labels[m.group(1)], text)
        for key, text in rule["annotations"].items()
    }
    return {"exp_labels": {**expression_labels, **rule["labels"]}, "exp_annotations": annotations}
