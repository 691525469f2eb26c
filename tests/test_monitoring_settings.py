"""`cdc-platform:monitoring`: the alert thresholds, read with their documented defaults, each bad value
refused naming the stack file and the key path, and each read value reaching the generated rules."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from monitoring.prometheus import alert_rules, render, scrape_config
from monitoring.targets import Thresholds
from settings.model import region_settings
from tests.helpers import EXAMPLE_TARGETS
from tests.test_settings import ALL_IN_ONE, GLOBAL, GLOBAL_KEYS, NS, REGION, parse, refusal

KEY = f"{NS}:monitoring"


def thresholds(monitoring: Any, base: dict[str, Any] = REGION) -> Thresholds:
    return region_settings(parse({**base, "monitoring": monitoring})).monitoring


def test_no_monitoring_section_means_the_documented_defaults() -> None:
    assert region_settings(parse(REGION)).monitoring == Thresholds(
        cluster_load_percent=80,
        flink_pending_minutes=10,
        flink_cfu_percent=90,
        consumer_lag_records=10_000,
        consumer_lag_minutes=10,
        missing_group_minutes=15,
        mirror_lag_records=10_000,
        mirror_lag_minutes=10,
        cdc_stall_minutes=15,
        cdc_stall_expected_records=10,
        api_secret_file=None,
    )


def test_every_threshold_is_read() -> None:
    read = thresholds(
        {
            "clusterLoadPercent": 70,
            "flinkPendingMinutes": 20,
            "flinkCfuPercent": 100,
            "consumerLagRecords": 1,
            "consumerLagMinutes": 1440,
            "missingGroupMinutes": 1,
            "mirrorLagRecords": 500,
            "mirrorLagMinutes": 3,
            "cdcStallMinutes": 5,
            "cdcStallExpectedRecords": 30,
            "apiSecretFile": "/run/secrets/confluent_metrics.key",
        }
    )
    assert read == Thresholds(70, 20, 100, 1, 1440, 1, 500, 3, 5, 30, "/run/secrets/confluent_metrics.key")


def test_an_all_in_one_stack_reads_them_too() -> None:
    assert thresholds({"consumerLagRecords": 50}, ALL_IN_ONE).consumer_lag_records == 50


def test_a_global_stack_has_no_monitoring_section() -> None:
    path, message = refusal({**GLOBAL, "monitoring": {}}, stack="prod")
    assert (path, message) == (KEY, f"unknown key (allowed: {GLOBAL_KEYS})")


@pytest.mark.parametrize(
    "monitoring, key, reason",
    [
        ("80", "monitoring", "must be a mapping with keys flinkPendingMinutes"),
        ({"clusterLoadPercent": 0}, "monitoring.clusterLoadPercent", "must be >= 1, got 0"),
        ({"clusterLoadPercent": 101}, "monitoring.clusterLoadPercent", "must be <= 100, got 101"),
        ({"flinkCfuPercent": "90"}, "monitoring.flinkCfuPercent", "must be an integer, not a string"),
        ({"consumerLagRecords": 0}, "monitoring.consumerLagRecords", "must be >= 1, got 0"),
        ({"consumerLagRecords": 1.5}, "monitoring.consumerLagRecords", "must be an integer, not a number"),
        ({"consumerLagMinutes": 1441}, "monitoring.consumerLagMinutes", "must be <= 1440 minutes (a day), got 1441"),
        ({"missingGroupMinutes": True}, "monitoring.missingGroupMinutes", "must be an integer, not true/false"),
        ({"cdcStallMinutes": 4}, "monitoring.cdcStallMinutes", "must be >= 5, got 4"),
        ({"cdcStallExpectedRecords": -1}, "monitoring.cdcStallExpectedRecords", "must be >= 1, got -1"),
        ({"apiSecretFile": "secrets/key"}, "monitoring.apiSecretFile", "'secrets/key' is not valid: an absolute path"),
        ({"apiSecretFile": "/etc/key file"}, "monitoring.apiSecretFile", "'/etc/key file' is not valid"),
        ({"lagRecords": 5}, "monitoring.lagRecords", "unknown key (allowed: "),
    ],
)
def test_bad_thresholds_are_refused_naming_the_key(monitoring: Any, key: str, reason: str) -> None:
    path, message = refusal({**REGION, "monitoring": monitoring})
    assert path == f"{NS}:{key}"
    assert message.startswith(reason), message


TARGETS = EXAMPLE_TARGETS


def test_thresholds_from_settings_reach_the_rules_and_the_scrape_config() -> None:
    read = thresholds(
        {
            "clusterLoadPercent": 70,
            "flinkCfuPercent": 75,
            "flinkPendingMinutes": 20,
            "consumerLagRecords": 2500,
            "consumerLagMinutes": 7,
            "missingGroupMinutes": 30,
            "cdcStallMinutes": 25,
            "cdcStallExpectedRecords": 40,
            "apiSecretFile": "/run/secrets/metrics",
        }
    )
    rules = {r.get("alert", r.get("record")): r for r in alert_rules(TARGETS, read)["groups"][0]["rules"]}
    assert rules["KafkaClusterLoadHigh"]["expr"].endswith("> 0.7")
    assert rules["FlinkComputePoolNearLimit"]["expr"].endswith(">= 0.75")
    assert rules["FlinkPendingRecordsGrowing"]["for"] == "20m"
    assert rules["ConsumerGroupLagHigh"]["expr"].endswith("> 2500") and rules["ConsumerGroupLagHigh"]["for"] == "7m"
    assert rules["ConsumerGroupMissing"]["for"] == "30m"
    stall = rules["cdc_platform:cdc_connector_stall_detected"]["expr"]
    assert "[25m]" in stall and "offset 25m" in stall and stall.endswith("* 25 / 60 >= 40)")
    (job,) = scrape_config(TARGETS, "KEY", read)["scrape_configs"]
    assert job["basic_auth"] == {"username": "KEY", "password_file": "/run/secrets/metrics"}


def test_rendered_files_are_plain_yaml_with_a_do_not_edit_header() -> None:
    text = render(alert_rules(TARGETS, Thresholds()), "prod-east")
    assert text.startswith("# Generated for stack prod-east")
    assert yaml.safe_load(text) == alert_rules(TARGETS, Thresholds())
