"""Broken stack configs: `cdcctl plan` exits 2 with one line naming file and key; nothing registers.

(The plan raises instead of exiting 2 if anything was registered before the error was found.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from tests.helpers import edit_stack, the_one_error_line

pytestmark = pytest.mark.plans

Config = dict[str, Any]
NS = "cdc-platform"


def _set(path: str, value: Any) -> Config:
    """The change `edit_stack` makes: `key.sub.sub` (first segment a cdc-platform key) to value; None deletes."""
    return {path: value}


ROUTE = {"id": "r1", "outputTopic": "filtered-r1", "conditions": [{"field": "event_type", "operator": "equals"}]}

# (case id, stack to break, mutation, file the error must name, key path it must name, reason it must start with)
CASES: list[tuple[str, str, Config, str, str, str]] = [
    (
        "missing-region",
        "prod-east",
        _set("region", None),
        "Pulumi.prod-east.yaml",
        f"{NS}:region",
        "is required: the AWS region of this stack, e.g. us-east-1",
    ),
    (
        "cku-too-small",
        "prod-east",
        _set("kafka.cku", 1),
        "Pulumi.prod-east.yaml",
        f"{NS}:kafka.cku",
        "must be >= 2 for a MULTI_ZONE dedicated cluster, got 1",
    ),
    (
        "unknown-cluster-type",
        "prod-east",
        _set("kafka.type", "MEGA"),
        "Pulumi.prod-east.yaml",
        f"{NS}:kafka.type",
        "'MEGA' is not one of STANDARD, DEDICATED",
    ),
    (
        "cku-on-standard",
        "dev",
        _set("kafka.cku", 2),
        "Pulumi.dev.yaml",
        f"{NS}:kafka.cku",
        "applies to DEDICATED clusters only, not STANDARD",
    ),
    (
        "basic-cluster",
        "dev",
        _set("kafka", {"type": "BASIC"}),
        "Pulumi.dev.yaml",
        f"{NS}:kafka.type",
        "BASIC clusters have no topic-level RBAC, which every workload grant uses: use STANDARD",
    ),
    (
        "misspelt-kafka-key",
        "prod-east",
        _set("kafka.ckus", 4),
        "Pulumi.prod-east.yaml",
        f"{NS}:kafka.ckus",
        "unknown key (allowed: availability, cku, type)",
    ),
    (
        "invalid-topic-name",
        "dev",
        _set("topics.raw.name", "raw events!"),
        "Pulumi.dev.yaml",
        f"{NS}:topics.raw.name",
        "'raw events!' is not valid: a Kafka topic name",
    ),
    (
        "zero-partitions",
        "dev",
        _set("topics.routed.partitions", 0),
        "Pulumi.dev.yaml",
        f"{NS}:topics.routed.partitions",
        "must be >= 1, got 0",
    ),
    (
        "negative-retention",
        "prod-west",
        _set("topics.raw.retentionMs", -5),
        "Pulumi.prod-west.yaml",
        f"{NS}:topics.raw.retentionMs",
        "must be a positive number of milliseconds, or -1 to keep forever; got -5",
    ),
    (
        "duplicate-topic",
        "dev",
        _set("topics.raw.name", "filtered-loan-created-events"),
        "Pulumi.dev.yaml",
        f"{NS}:topics.raw.name",
        "'filtered-loan-created-events' is also routes[0].outputTopic in flink_sql/routes.yaml",
    ),
    (
        "unknown-layer",
        "dev",
        _set("layer", "regional"),
        "Pulumi.dev.yaml",
        f"{NS}:layer",
        "'regional' is not one of global, region, all-in-one",
    ),
    (
        "missing-layer",
        "prod",
        _set("layer", None),
        "Pulumi.prod.yaml",
        f"{NS}:layer",
        "is required: one of global, region, all-in-one",
    ),
    (
        "bad-max-cfu",
        "prod-east",
        _set("flink.maxCfu", 7),
        "Pulumi.prod-east.yaml",
        f"{NS}:flink.maxCfu",
        "7 is not one of 5, 10, 20, 30, 40, 50",
    ),
    (
        "region-without-global-stack",
        "prod-east",
        _set("globalStack", None),
        "Pulumi.prod-east.yaml",
        f"{NS}:globalStack",
        "is required for a region stack: the global stack, e.g. acme/cdc-platform/prod",
    ),
    (
        "global-stack-not-in-repo",
        "prod-west",
        _set("globalStack", "acme/cdc-platform/nowhere"),
        "Pulumi.prod-west.yaml",
        f"{NS}:globalStack",
        "'acme/cdc-platform/nowhere' names no stack file in this repo (Pulumi.nowhere.yaml)",
    ),
    (
        "misspelt-top-level-key",
        "dev",
        _set("regoin", "us-east-1"),
        "Pulumi.dev.yaml",
        f"{NS}:regoin",
        "unknown key (allowed: cdc-platform:aurora, cdc-platform:cdc, cdc-platform:credentials,",
    ),
    (
        "region-key-in-global-stack",
        "prod",
        _set("kafka", {"type": "STANDARD"}),
        "Pulumi.prod.yaml",
        f"{NS}:kafka",
        "unknown key (allowed: cdc-platform:environment, cdc-platform:layer, cdc-platform:protect, "
        "cdc-platform:regions, cdc-platform:routesFile)",
    ),
    (
        "global-without-regions",
        "prod",
        _set("regions", None),
        "Pulumi.prod.yaml",
        f"{NS}:regions",
        "is required: the regions whose stacks use this global layer",
    ),
    (
        "duplicate-region",
        "prod",
        _set("regions", ["us-east-1", "us-east-1"]),
        "Pulumi.prod.yaml",
        f"{NS}:regions",
        "lists a region twice",
    ),
    (
        "privatelink-without-zones",
        "prod-east",
        _set("network.zones", None),
        "Pulumi.prod-east.yaml",
        f"{NS}:network.zones",
        "is required for a PRIVATELINK network",
    ),
    (
        "bad-az-id",
        "prod-east",
        _set("network.zones", [{"azId": "us-east-1a", "subnetId": "subnet-0123456789abcdef0"}]),
        "Pulumi.prod-east.yaml",
        f"{NS}:network.zones[0].azId",
        "'us-east-1a' is not valid: an availability-zone id of us-east-1 (use1-az1, ...)",
    ),
    (
        "unquoted-account-id",
        "prod-east",
        _set("network.awsAccountId", 111122223333),
        "Pulumi.prod-east.yaml",
        f"{NS}:network.awsAccountId",
        "must be a non-empty string",
    ),
    (
        "plain-json-cdc-format",
        "dev",
        _set("cdc.valueFormat", "JSON"),
        "Pulumi.dev.yaml",
        f"{NS}:cdc.valueFormat",
        "'JSON' is not one of JSON_SR, AVRO, PROTOBUF",
    ),
    (
        "bad-environment-name",
        "prod",
        _set("environment.name", "CDC Prod"),
        "Pulumi.prod.yaml",
        f"{NS}:environment.name",
        "'CDC Prod' is not valid: lowercase [a-z0-9-], <= 32 chars",
    ),
    (
        "cloud-secret-in-clear-text",
        "dev",
        _set("confluentcloud:cloudApiSecret", "s3cr3t"),
        "Pulumi.dev.yaml",
        "confluentcloud:cloudApiSecret",
        "must be set with `pulumi config set --secret confluentcloud:cloudApiSecret`",
    ),
    (
        "cdc-without-host-or-aurora",
        "dev",
        _set("aurora", None),
        "Pulumi.dev.yaml",
        f"{NS}:cdc.database.hostname",
        "is required when cdc is enabled without an aurora cluster",
    ),
    (
        "cdc-host-beside-aurora",
        "dev",
        _set("cdc.database", {"hostname": "db.example.com"}),
        "Pulumi.dev.yaml",
        f"{NS}:cdc.database.hostname",
        "the connector reads the Aurora writer endpoint: leave hostname out when aurora is set",
    ),
    (
        "bad-slot-name",
        "dev",
        _set("cdc.slotName", "Slot-1"),
        "Pulumi.dev.yaml",
        f"{NS}:cdc.slotName",
        "'Slot-1' is not valid: lowercase [a-z0-9_], <= 63 chars",
    ),
    (
        "proxy-single-subnet",
        "prod-east",
        _set("aurora.proxy.subnetIds", ["subnet-0e1a2b3c4d5e6f701"]),
        "Pulumi.prod-east.yaml",
        f"{NS}:aurora.proxy.subnetIds",
        "must have at least 2 items",
    ),
    (
        "proxy-idle-above-max",
        "prod-east",
        _set("aurora.proxy.maxIdleConnectionsPercent", 90),
        "Pulumi.prod-east.yaml",
        f"{NS}:aurora.proxy.maxIdleConnectionsPercent",
        "must be <= maxConnectionsPercent (80)",
    ),
    (
        "aurora-without-identifier",
        "prod-west",
        _set("aurora.clusterIdentifier", None),
        "Pulumi.prod-west.yaml",
        f"{NS}:aurora.clusterIdentifier",
        "is required",
    ),
    (
        "db-password-in-clear-text",
        "prod-east",
        _set("cdcDatabasePassword", "hunter2"),
        "Pulumi.prod-east.yaml",
        f"{NS}:cdcDatabasePassword",
        "must be set with `pulumi config set --secret cdc-platform:cdcDatabasePassword`",
    ),
    (
        "routes-file-missing",
        "dev",
        _set("routesFile", "flink_sql/nope.yaml"),
        "flink_sql/nope.yaml",
        "file",
        "cannot read: No such file or directory",
    ),
    (
        "broken-routes-file",
        "dev",
        _set("routesFile", "broken-routes.yaml"),
        "broken-routes.yaml",
        "routes[0].conditions[0].value",
        "is required for operator equals",
    ),
    (
        "cloud-api-key-in-clear-text",
        "prod",
        _set("confluentcloud:cloudApiKey", "AKIAEXAMPLE"),
        "Pulumi.prod.yaml",
        "confluentcloud:cloudApiKey",
        "must be set with `pulumi config set --secret confluentcloud:cloudApiKey`",
    ),
    # Source health (issue 20): heartbeat, the slot's WAL ceiling, the database's alarms
    (
        "heartbeat-too-frequent",
        "dev",
        _set("cdc.heartbeatIntervalMs", 500),
        "Pulumi.dev.yaml",
        f"{NS}:cdc.heartbeatIntervalMs",
        "must be 0 (off) or 1000..3600000 milliseconds, got 500",
    ),
    (
        "heartbeat-not-a-number",
        "prod-east",
        _set("cdc.heartbeatIntervalMs", "often"),
        "Pulumi.prod-east.yaml",
        f"{NS}:cdc.heartbeatIntervalMs",
        "must be an integer",
    ),
    (
        "route-writes-the-heartbeat-topic",
        "dev",
        _set("routesFile", "heartbeat-routes.yaml"),
        "heartbeat-routes.yaml",
        "routes[0].outputTopic",
        "'raw-business-events-heartbeat' is the CDC connector's heartbeat topic (cdc.heartbeatIntervalMs)",
    ),
    (
        "prod-slot-ceiling-below-dev",
        "prod-east",
        _set("aurora.maxSlotWalKeepSizeMb", 4096),
        "Pulumi.prod-east.yaml",
        f"{NS}:aurora.maxSlotWalKeepSizeMb",
        "must be >= 20480 in a protected stack (at least what dev keeps), got 4096",
    ),
    (
        "slot-ceiling-unlimited",
        "dev",
        _set("aurora.maxSlotWalKeepSizeMb", -1),
        "Pulumi.dev.yaml",
        f"{NS}:aurora.maxSlotWalKeepSizeMb",
        "must be >= 1024",
    ),
    (
        "slot-warning-over-100",
        "dev",
        _set("aurora.alarms.slotWarningPercent", 150),
        "Pulumi.dev.yaml",
        f"{NS}:aurora.alarms.slotWarningPercent",
        "must be <= 100, got 150",
    ),
    (
        "proxy-alarm-without-proxy",
        "dev",
        _set("aurora.alarms.proxySaturationPercent", 80),
        "Pulumi.dev.yaml",
        f"{NS}:aurora.alarms.proxySaturationPercent",
        "applies only with aurora.proxy",
    ),
    (
        "alarm-subscriber-protocol",
        "prod-west",
        _set("aurora.alarms.subscribers", [{"protocol": "pigeon", "endpoint": "ops@example.com"}]),
        "Pulumi.prod-west.yaml",
        f"{NS}:aurora.alarms.subscribers[0].protocol",
        "'pigeon' is not one of email",
    ),
    (
        "alarm-subscriber-endpoint",
        "prod-west",
        _set("aurora.alarms.subscribers", [{"protocol": "https", "endpoint": "http://hooks.example.com"}]),
        "Pulumi.prod-west.yaml",
        f"{NS}:aurora.alarms.subscribers[0].endpoint",
        "'http://hooks.example.com' is not valid: an endpoint for protocol https",
    ),
]


@pytest.fixture
def project(project: Path) -> Path:
    """The project's copy, with a broken routes file and one routing the heartbeat topic, which a case may
    point `routesFile` at."""
    (project / "broken-routes.yaml").write_text(yaml.safe_dump({"routes": [ROUTE]}))
    beats = {"id": "beats", "outputTopic": "raw-business-events-heartbeat"}
    (project / "heartbeat-routes.yaml").write_text(yaml.safe_dump({"routes": [beats]}))
    return project


@pytest.mark.parametrize("case, stack, change, file, key, reason", CASES, ids=[c[0] for c in CASES])
def test_bad_config_exits_2_naming_file_key_and_reason(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    stack: str,
    change: Config,
    file: str,
    key: str,
    reason: str,
) -> None:
    edit_stack(project, stack, change)

    assert main(["plan", "--stack", stack]) == 2
    line = the_one_error_line(capsys)
    assert line.startswith(f"error: {file}: {key}: {reason}"), line


def test_the_unbroken_copies_plan(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The corpus breaks configs that otherwise plan: each failure is the mutation's doing."""
    for stack in ("dev", "prod", "prod-east", "prod-west"):
        assert main(["plan", "--stack", stack, "--json"]) == 0
    capsys.readouterr()


def test_invalid_yaml_stack_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "Pulumi.dev.yaml").write_text("config:\n  cdc-platform:layer: [unclosed\n")
    assert main(["plan", "--stack", "dev"]) == 2
    assert "Pulumi.dev.yaml" in capsys.readouterr().err
