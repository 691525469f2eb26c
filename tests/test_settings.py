"""The settings model, read through `parse_settings` exactly as Pulumi hands config to the program:
full keys, every value a string and structured values as JSON (what `cdcctl plan` and the engine pass).

Bad values fail naming the stack file, the key path and why; valid but unusual ones parse to exactly
what the stack file says.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from core.cdc_source import CdcSettings
from core.config_node import ConfigError
from settings.aws import az_id_prefix
from settings.model import (
    AllInOneStackSettings,
    AuroraSettings,
    EnvironmentSettings,
    GlobalSettings,
    GlobalStackSettings,
    KafkaSettings,
    PrivateLinkSettings,
    ProxySettings,
    RegionSettings,
    RegionStackSettings,
    Settings,
    TopicSettings,
    Zone,
    region_settings,
)
from settings.parse import parse_settings

NS = "cdc-platform"
CDC_PASSWORD = f"{NS}:cdcDatabasePassword"
APP_PASSWORD = f"{NS}:appDatabasePassword"
ROOT_CERT = f"{NS}:cdcDatabaseRootCert"
SECRETS = frozenset(
    {"confluentcloud:cloudApiKey", "confluentcloud:cloudApiSecret", CDC_PASSWORD, APP_PASSWORD, ROOT_CERT}
)
WEEK_MS = 604800000

GLOBAL: dict[str, Any] = {"layer": "global", "regions": ["us-east-1"]}
REGION: dict[str, Any] = {
    "layer": "region",
    "globalStack": "acme/cdc-platform/prod",
    "region": "us-east-1",
    "kafka": {"type": "STANDARD"},
}
ALL_IN_ONE: dict[str, Any] = {"layer": "all-in-one", "region": "us-west-2", "kafka": {"type": "STANDARD"}}
PRIVATELINK: dict[str, Any] = {
    "type": "PRIVATELINK",
    "awsAccountId": "111122223333",
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "vpcCidr": "10.10.0.0/16",
    "zones": [
        {"azId": "use1-az1", "subnetId": "subnet-0e1a2b3c4d5e6f701"},
        {"azId": "use1-az4", "subnetId": "subnet-0e1a2b3c"},
    ],
}
PROXY: dict[str, Any] = {
    "vpcId": "vpc-0a1b2c3d",
    "subnetIds": ["subnet-0e1a2b3c", "subnet-0e1a2b3d"],
    "clientCidrs": ["10.10.0.0/16"],
}
DEFAULT_CDC = CdcSettings(
    enabled=False,
    value_format="JSON_SR",
    hostname=None,
    port=5432,
    database="events",
    user="cdc_replicator",
    sslmode="require",
    schema="public",
    table="business_events",
    slot_name="cdc_prod_east",
    publication_name="business_events_pub",
    topic_prefix="cdc",
    snapshot_mode="initial",
)


def pulumi_config(values: dict[str, Any], secrets: dict[str, str] | None = None) -> dict[str, str]:
    """Config as the engine passes it: `cdc-platform:` keys, strings, structured values as JSON."""
    raw = {
        (key if ":" in key else f"{NS}:{key}"): value if isinstance(value, str) else json.dumps(value)
        for key, value in values.items()
    }
    return {**raw, **(secrets or {})}


def parse(values: dict[str, Any], stack: str = "prod-east", secrets: dict[str, str] | None = None) -> Settings:
    return parse_settings(pulumi_config(values, secrets), stack, SECRETS)


def region_of(values: dict[str, Any], **kw: Any) -> RegionSettings:
    return region_settings(parse(values, **kw))


def refusal(values: dict[str, Any], stack: str = "prod-east", secret_keys: frozenset[str] = SECRETS) -> tuple[str, str]:
    """(key path, reason) of the error; every error names the stack's file."""
    with pytest.raises(ConfigError) as error:
        parse_settings(pulumi_config(values), stack, secret_keys)
    assert error.value.file == f"Pulumi.{stack}.yaml"
    assert str(error.value) == f"Pulumi.{stack}.yaml: {error.value.path}: {error.value.message}"
    return error.value.path, error.value.message


# --- each layer gets its own type, with the documented defaults ----------------------------------------


def test_a_minimal_global_stack() -> None:
    assert parse(GLOBAL, stack="prod") == GlobalStackSettings(
        stack="prod",
        file="Pulumi.prod.yaml",
        protect=False,
        routes_file="flink_sql/routes.yaml",
        glob=GlobalSettings(EnvironmentSettings(name="cdc-prod", stream_governance="ESSENTIALS"), ("us-east-1",)),
    )


def test_a_minimal_region_stack() -> None:
    assert parse(REGION) == RegionStackSettings(
        stack="prod-east",
        file="Pulumi.prod-east.yaml",
        protect=False,
        routes_file="flink_sql/routes.yaml",
        region=RegionSettings(
            region="us-east-1",
            kafka=KafkaSettings(type="STANDARD", availability="SINGLE_ZONE", cku=None),
            private_link=None,
            raw_topic="raw-business-events",
            raw_topic_settings=TopicSettings(partitions=6, retention_ms=WEEK_MS),
            routed_topic_settings=TopicSettings(partitions=6, retention_ms=WEEK_MS),
            flink_max_cfu=5,
            flink_key_generation=1,
            cdc=DEFAULT_CDC,
            aurora=None,
        ),
        global_stack="acme/cdc-platform/prod",
    )


def test_a_minimal_all_in_one_stack_is_both_layers_for_its_one_region() -> None:
    settings = parse(ALL_IN_ONE, stack="dev")
    assert isinstance(settings, AllInOneStackSettings)
    assert settings.glob == GlobalSettings(EnvironmentSettings("cdc-dev", "ESSENTIALS"), ("us-west-2",))
    assert settings.region.region == "us-west-2"
    assert settings.region.kafka == KafkaSettings(type="STANDARD", availability="SINGLE_ZONE", cku=None)
    assert settings.region.cdc.slot_name == "cdc_dev"
    assert (settings.stack, settings.file) == ("dev", "Pulumi.dev.yaml")


def test_regions_of_each_layer() -> None:
    assert parse({**GLOBAL, "regions": ["us-east-1", "us-west-2"]}, stack="prod").regions == ("us-east-1", "us-west-2")
    assert parse({**REGION, "region": "eu-west-1"}).regions == ("eu-west-1",)
    assert parse(ALL_IN_ONE, stack="dev").regions == ("us-west-2",)


def test_a_global_stack_has_no_region_layer() -> None:
    with pytest.raises(ConfigError) as error:
        region_settings(parse(GLOBAL, stack="prod"))
    assert (error.value.file, error.value.path, error.value.message) == (
        "Pulumi.prod.yaml",
        f"{NS}:layer",
        "is global: this stack deploys no region (cluster, connector)",
    )


def test_every_common_key_is_read() -> None:
    settings = parse({**GLOBAL, "protect": "true", "routesFile": "rules/routes.yaml"}, stack="prod")
    assert (settings.protect, settings.routes_file) == (True, "rules/routes.yaml")


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False), (True, True), (False, False)])
def test_protect_reads_pulumi_booleans_as_strings_or_booleans(value: Any, expected: bool) -> None:
    raw = {**pulumi_config(GLOBAL), f"{NS}:protect": value}
    assert parse_settings(raw, "prod").protect is expected


def test_structured_values_may_arrive_already_parsed() -> None:
    raw = {f"{NS}:{key}": value for key, value in {**REGION, "topics": {"raw": {"partitions": 2}}}.items()}
    settings = region_settings(parse_settings(raw, "prod-east"))
    assert settings.kafka.type == "STANDARD" and settings.raw_topic_settings.partitions == 2


def test_config_of_other_namespaces_is_not_ours_to_refuse() -> None:
    assert parse({**GLOBAL, "aws:region": "eu-west-1", "confluentcloud:endpoint": "x"}, stack="prod").regions == (
        "us-east-1",
    )


def test_environment_name_and_stream_governance_are_read() -> None:
    settings = parse({**GLOBAL, "environment": {"name": "cdc-prod-2", "streamGovernance": "ADVANCED"}}, stack="prod")
    assert isinstance(settings, GlobalStackSettings)
    assert settings.glob.environment == EnvironmentSettings("cdc-prod-2", "ADVANCED")


def test_the_default_environment_name_derives_from_the_stack() -> None:
    settings = parse({**ALL_IN_ONE, "environment": {}}, stack="pr-17")
    assert isinstance(settings, AllInOneStackSettings)
    assert settings.glob.environment.name == "cdc-pr-17"


# --- clusters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kafka, expected",
    [
        ({"type": "STANDARD"}, KafkaSettings("STANDARD", "SINGLE_ZONE", None)),
        ({"type": "STANDARD", "availability": "MULTI_ZONE"}, KafkaSettings("STANDARD", "MULTI_ZONE", None)),
        ({"type": "DEDICATED", "availability": "SINGLE_ZONE", "cku": 1}, KafkaSettings("DEDICATED", "SINGLE_ZONE", 1)),
        ({"type": "DEDICATED"}, KafkaSettings("DEDICATED", "SINGLE_ZONE", 1)),
        ({"type": "DEDICATED", "availability": "MULTI_ZONE"}, KafkaSettings("DEDICATED", "MULTI_ZONE", 2)),
        ({"type": "DEDICATED", "availability": "MULTI_ZONE", "cku": 2}, KafkaSettings("DEDICATED", "MULTI_ZONE", 2)),
        ({"type": "DEDICATED", "availability": "MULTI_ZONE", "cku": 24}, KafkaSettings("DEDICATED", "MULTI_ZONE", 24)),
    ],
)
def test_cluster_shapes_confluent_offers_are_accepted(kafka: dict[str, Any], expected: KafkaSettings) -> None:
    assert region_of({**REGION, "kafka": kafka}).kafka == expected


# --- networks ------------------------------------------------------------------------------------------


def test_no_network_or_a_public_one_means_public_endpoints() -> None:
    assert region_of(REGION).private_link is None
    assert region_of({**REGION, "network": {"type": "PUBLIC"}}).private_link is None


def test_a_privatelink_network_is_read_whole() -> None:
    assert region_of({**REGION, "network": PRIVATELINK}).private_link == PrivateLinkSettings(
        aws_account_id="111122223333",
        vpc_id="vpc-0a1b2c3d4e5f60718",
        vpc_cidr="10.10.0.0/16",
        zones=(Zone("use1-az1", "subnet-0e1a2b3c4d5e6f701"), Zone("use1-az4", "subnet-0e1a2b3c")),
    )


def test_a_privatelink_network_with_one_zone_is_accepted() -> None:
    network = {**PRIVATELINK, "zones": [{"azId": "use1-az6", "subnetId": "subnet-01234567"}]}
    private_link = region_of({**REGION, "network": network}).private_link
    assert private_link is not None and private_link.zones == (Zone("use1-az6", "subnet-01234567"),)


# --- topics and Flink ----------------------------------------------------------------------------------


def test_topic_settings_are_read_per_topic() -> None:
    topics = {
        "raw": {"name": "cdc.raw_events-v2", "partitions": 1, "retentionMs": -1},
        "routed": {"partitions": 3, "retentionMs": 1},
    }
    region = region_of({**ALL_IN_ONE, "topics": topics}, stack="dev")
    assert region.raw_topic == "cdc.raw_events-v2"
    assert region.raw_topic_settings == TopicSettings(partitions=1, retention_ms=-1)
    assert region.routed_topic_settings == TopicSettings(partitions=3, retention_ms=1)


def test_a_region_stack_cannot_rename_the_raw_topic_its_global_stack_manages() -> None:
    path, message = refusal({**REGION, "topics": {"raw": {"name": "raw-renamed-events"}}})
    assert path == f"{NS}:topics.raw.name"
    assert message.startswith("'raw-renamed-events': a region stack keeps 'raw-business-events'")


def test_every_layer_names_one_raw_topic_for_both_layers() -> None:
    renamed = {"topics": {"raw": {"name": "raw-renamed-events"}}}
    assert parse({**ALL_IN_ONE, **renamed}, stack="dev").raw_topic == "raw-renamed-events"
    assert parse({**REGION, "topics": {"raw": {"name": "raw-business-events"}}}).raw_topic == "raw-business-events"
    assert parse(GLOBAL, stack="prod").raw_topic == "raw-business-events"


def test_an_empty_topic_section_keeps_the_defaults() -> None:
    region = region_of({**REGION, "topics": {"raw": {}, "routed": {}}})
    assert region.raw_topic == "raw-business-events"
    assert region.raw_topic_settings == region.routed_topic_settings == TopicSettings(6, WEEK_MS)


@pytest.mark.parametrize("cfu", [5, 10, 20, 30, 40, 50])
def test_compute_pool_sizes_confluent_offers_are_accepted(cfu: int) -> None:
    assert region_of({**REGION, "flink": {"maxCfu": cfu}}).flink_max_cfu == cfu


def test_an_empty_flink_section_keeps_the_smallest_pool_and_the_first_deployer_key() -> None:
    region = region_of({**REGION, "flink": {}})
    assert (region.flink_max_cfu, region.flink_key_generation) == (5, 1)


def test_a_deployer_key_generation_is_read() -> None:
    assert region_of({**REGION, "flink": {"deployerKeyGeneration": 3}}).flink_key_generation == 3


# --- CDC and Aurora ------------------------------------------------------------------------------------


def test_cdc_with_a_hostname_and_no_aurora_reads_that_host() -> None:
    cdc = {
        "enabled": True,
        "valueFormat": "AVRO",
        "database": {
            "hostname": "DB-1.Internal.example.com",
            "port": 65535,
            "name": "events_2",
            "user": "replicator",
            "sslmode": "verify-full",
            "schema": "app",
            "table": "events_v2",
        },
        "slotName": "slot_1",
        "publicationName": "pub_1",
        "topicPrefix": "CDC.v2_x-Y",
        "snapshotMode": "no_data",
    }
    region = region_of({**REGION, "cdc": cdc}, secrets={CDC_PASSWORD: "[secret]", ROOT_CERT: "[secret]"})
    assert region.aurora is None
    assert region.cdc == CdcSettings(
        enabled=True,
        value_format="AVRO",
        hostname="DB-1.Internal.example.com",
        port=65535,
        database="events_2",
        user="replicator",
        sslmode="verify-full",
        schema="app",
        table="events_v2",
        slot_name="slot_1",
        publication_name="pub_1",
        topic_prefix="CDC.v2_x-Y",
        snapshot_mode="no_data",
    )


def test_cdc_with_aurora_reads_the_writer_endpoint_so_needs_no_hostname() -> None:
    values = {**REGION, "cdc": {"enabled": True, "valueFormat": "PROTOBUF"}, "aurora": {"clusterIdentifier": "c-1"}}
    region = region_of(values, secrets={CDC_PASSWORD: "[secret]"})
    assert region.cdc == replace(DEFAULT_CDC, enabled=True, value_format="PROTOBUF")
    assert region.aurora == AuroraSettings(
        cluster_identifier="c-1", parameter_group_family="aurora-postgresql15", proxy=None
    )


def test_disabled_cdc_may_name_a_host_beside_aurora() -> None:
    values = {**REGION, "cdc": {"database": {"hostname": "db.example.com"}}, "aurora": {"clusterIdentifier": "c"}}
    region = region_of(values)
    assert (region.cdc.enabled, region.cdc.hostname) == (False, "db.example.com")


def test_the_smallest_port_is_accepted() -> None:
    values = {**REGION, "cdc": {"database": {"port": 1}}}
    assert region_of(values).cdc.port == 1


@pytest.mark.parametrize(
    "stack, slot", [("prod-east", "cdc_prod_east"), ("PR-7.x", "cdc_pr_7_x"), ("s" * 70, "cdc_" + "s" * 59)]
)
def test_the_default_slot_name_is_one_per_stack(stack: str, slot: str) -> None:
    assert region_of(REGION, stack=stack).cdc.slot_name == slot


def test_a_proxy_gets_the_documented_pool_defaults() -> None:
    values = {**REGION, "aurora": {"clusterIdentifier": "cdc-prod-east-events", "proxy": PROXY}}
    aurora = region_of(values, secrets={APP_PASSWORD: "[secret]"}).aurora
    assert aurora == AuroraSettings(
        cluster_identifier="cdc-prod-east-events",
        parameter_group_family="aurora-postgresql15",
        proxy=ProxySettings(
            vpc_id="vpc-0a1b2c3d",
            subnet_ids=("subnet-0e1a2b3c", "subnet-0e1a2b3d"),
            client_cidrs=("10.10.0.0/16",),
            app_user="app_writer",
            max_connections_percent=80,
            max_idle_connections_percent=50,
            connection_borrow_timeout=120,
        ),
    )


def test_proxy_pool_settings_at_their_limits_are_accepted() -> None:
    proxy = {
        **PROXY,
        "appUser": "app_2",
        "maxConnectionsPercent": 100,
        "maxIdleConnectionsPercent": 100,
        "connectionBorrowTimeout": 3600,
    }
    values = {
        **REGION,
        "aurora": {"clusterIdentifier": "c", "parameterGroupFamily": "aurora-postgresql16", "proxy": proxy},
    }
    aurora = region_of(values, secrets={APP_PASSWORD: "[secret]"}).aurora
    assert aurora is not None and aurora.proxy is not None
    assert aurora.parameter_group_family == "aurora-postgresql16"
    assert (aurora.proxy.app_user, aurora.proxy.max_connections_percent) == ("app_2", 100)
    assert (aurora.proxy.max_idle_connections_percent, aurora.proxy.connection_borrow_timeout) == (100, 3600)


def test_the_smallest_proxy_pool_settings_are_accepted() -> None:
    proxy = {**PROXY, "maxConnectionsPercent": 1, "maxIdleConnectionsPercent": 1, "connectionBorrowTimeout": 1}
    values = {**REGION, "aurora": {"clusterIdentifier": "c", "proxy": proxy}}
    aurora = region_of(values, secrets={APP_PASSWORD: "[secret]"}).aurora
    assert aurora is not None and aurora.proxy is not None
    assert (aurora.proxy.max_connections_percent, aurora.proxy.connection_borrow_timeout) == (1, 1)


# --- secrets -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["confluentcloud:cloudApiKey", "confluentcloud:cloudApiSecret", CDC_PASSWORD, APP_PASSWORD, ROOT_CERT]
)
def test_credentials_in_clear_text_are_refused_before_anything_else(key: str) -> None:
    # No layer at all: the clear-text credential is still the first thing reported.
    assert refusal({key: "abc123"}, secret_keys=frozenset()) == (
        key,
        f"must be set with `pulumi config set --secret {key}`",
    )


def test_credentials_set_as_secrets_are_accepted() -> None:
    raw = pulumi_config(GLOBAL, {"confluentcloud:cloudApiKey": "[secret]", "confluentcloud:cloudApiSecret": "[s]"})
    assert parse_settings(raw, "prod", frozenset({"confluentcloud:cloudApiKey", "confluentcloud:cloudApiSecret"}))


def test_a_clear_text_api_key_is_refused_even_when_the_secret_is_a_secret() -> None:
    raw = pulumi_config(GLOBAL, {"confluentcloud:cloudApiKey": "AKIA", "confluentcloud:cloudApiSecret": "[s]"})
    with pytest.raises(ConfigError) as error:
        parse_settings(raw, "prod", frozenset({"confluentcloud:cloudApiSecret"}))
    assert (error.value.path, error.value.message) == (
        "confluentcloud:cloudApiKey",
        "must be set with `pulumi config set --secret confluentcloud:cloudApiKey`",
    )


def test_enabled_cdc_needs_the_database_password() -> None:
    values = {**REGION, "cdc": {"enabled": True, "database": {"hostname": "db.example.com"}}}
    assert refusal(values) == (
        CDC_PASSWORD,
        f"is required: set it with `pulumi config set --secret {CDC_PASSWORD}`",
    )


def test_a_proxy_needs_the_applications_password() -> None:
    values = {**REGION, "aurora": {"clusterIdentifier": "c", "proxy": PROXY}}
    assert refusal(values) == (
        APP_PASSWORD,
        f"is required: set it with `pulumi config set --secret {APP_PASSWORD}`",
    )


def test_all_in_one_stacks_need_the_same_secrets() -> None:
    values = {**ALL_IN_ONE, "cdc": {"enabled": True}, "aurora": {"clusterIdentifier": "c"}}
    assert refusal(values, stack="dev")[0] == CDC_PASSWORD
    assert region_of(values, stack="dev", secrets={CDC_PASSWORD: "[secret]"}).cdc.enabled is True


def test_disabled_cdc_without_a_proxy_needs_no_password() -> None:
    assert region_of({**REGION, "aurora": {"clusterIdentifier": "c"}}).aurora is not None


# --- refusals: key path and reason ---------------------------------------------------------------------

GLOBAL_KEYS = ", ".join(f"{NS}:{k}" for k in ("environment", "layer", "protect", "regions", "routesFile"))
REGION_KEYS = ", ".join(
    f"{NS}:{k}"
    for k in (
        "aurora",
        "cdc",
        "credentials",
        "flink",
        "globalStack",
        "kafka",
        "layer",
        "link",
        "monitoring",
        "network",
        "protect",
        "region",
        "routesFile",
        "topics",
    )
)
PL = f"{NS}:network"


def _pl(**changes: Any) -> dict[str, Any]:
    network = {**PRIVATELINK, **changes}
    return {**REGION, "network": {k: v for k, v in network.items() if v is not None}}


def _cdc(**cdc: Any) -> dict[str, Any]:
    return {**REGION, "cdc": cdc}


def _db(**database: Any) -> dict[str, Any]:
    return {**REGION, "cdc": {"database": database}}


def _proxy(**changes: Any) -> dict[str, Any]:
    proxy = {k: v for k, v in {**PROXY, **changes}.items() if v is not None}
    return {**REGION, "aurora": {"clusterIdentifier": "c", "proxy": proxy}}


# (case, stack, config values, key path, reason)
REFUSED: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "missing-layer",
        "prod",
        {"regions": ["us-east-1"]},
        f"{NS}:layer",
        "is required: one of global, region, all-in-one",
    ),
    (
        "unknown-layer",
        "prod",
        {**GLOBAL, "layer": "regional"},
        f"{NS}:layer",
        "'regional' is not one of global, region, all-in-one",
    ),
    (
        "region-key-in-global-stack",
        "prod",
        {**GLOBAL, "kafka": {"type": "BASIC"}},
        f"{NS}:kafka",
        f"unknown key (allowed: {GLOBAL_KEYS})",
    ),
    (
        "global-key-in-region-stack",
        "prod-east",
        {**REGION, "environment": {}},
        f"{NS}:environment",
        f"unknown key (allowed: {REGION_KEYS})",
    ),
    (
        "regions-in-all-in-one",
        "dev",
        {**ALL_IN_ONE, "regions": ["us-west-2"]},
        f"{NS}:regions",
        "unknown key (allowed:",
    ),
    ("misspelt-key", "prod-east", {**REGION, "regoin": "us-east-1"}, f"{NS}:regoin", "unknown key (allowed:"),
    (
        "structured-key-as-plain-text",
        "prod-east",
        {**REGION, "kafka": "STANDARD"},
        f"{NS}:kafka",
        "must be a structured value (a YAML mapping or list)",
    ),
    (
        "protect-not-boolean",
        "prod",
        {**GLOBAL, "protect": "yes"},
        f"{NS}:protect",
        "must be true or false, not a string",
    ),
    ("empty-routes-file", "prod", {**GLOBAL, "routesFile": ""}, f"{NS}:routesFile", "must be a non-empty string"),
    # global layer
    (
        "global-without-regions",
        "prod",
        {"layer": "global"},
        f"{NS}:regions",
        "is required: the regions whose stacks use this global layer",
    ),
    ("no-regions", "prod", {**GLOBAL, "regions": []}, f"{NS}:regions", "must have at least 1 item"),
    (
        "duplicate-region",
        "prod",
        {**GLOBAL, "regions": ["us-east-1", "us-west-2", "us-east-1"]},
        f"{NS}:regions",
        "lists a region twice",
    ),
    (
        "not-a-region",
        "prod",
        {**GLOBAL, "regions": ["us-east-1", "east"]},
        f"{NS}:regions[1]",
        "'east' is not valid: an AWS region such as us-east-1",
    ),
    (
        "bad-environment-name",
        "prod",
        {**GLOBAL, "environment": {"name": "CDC Prod"}},
        f"{NS}:environment.name",
        "'CDC Prod' is not valid: lowercase [a-z0-9-], <= 32 chars",
    ),
    (
        "environment-name-too-long",
        "prod",
        {**GLOBAL, "environment": {"name": "c" * 33}},
        f"{NS}:environment.name",
        f"'{'c' * 33}' is not valid: lowercase [a-z0-9-], <= 32 chars",
    ),
    (
        "unknown-governance-package",
        "prod",
        {**GLOBAL, "environment": {"streamGovernance": "PREMIUM"}},
        f"{NS}:environment.streamGovernance",
        "'PREMIUM' is not one of ESSENTIALS, ADVANCED",
    ),
    # region layer
    (
        "region-without-global-stack",
        "prod-east",
        {k: v for k, v in REGION.items() if k != "globalStack"},
        f"{NS}:globalStack",
        "is required for a region stack: the global stack, e.g. acme/cdc-platform/prod",
    ),
    (
        "global-stack-is-itself",
        "prod-east",
        {**REGION, "globalStack": "acme/cdc-platform/prod-east"},
        f"{NS}:globalStack",
        "a region stack cannot reference itself as its global stack",
    ),
    (
        "global-stack-bare-name-is-itself",
        "prod-east",
        {**REGION, "globalStack": "prod-east"},
        f"{NS}:globalStack",
        "a region stack cannot reference itself as its global stack",
    ),
    (
        "global-stack-too-deep",
        "prod-east",
        {**REGION, "globalStack": "a/b/c/d"},
        f"{NS}:globalStack",
        "'a/b/c/d' is not valid: org/project/stack",
    ),
    (
        "missing-region",
        "prod-east",
        {k: v for k, v in REGION.items() if k != "region"},
        f"{NS}:region",
        "is required: the AWS region of this stack, e.g. us-east-1",
    ),
    (
        "all-in-one-without-region",
        "dev",
        {"layer": "all-in-one", "kafka": {"type": "BASIC"}},
        f"{NS}:region",
        "is required: the AWS region of this stack, e.g. us-east-1",
    ),
    (
        "bad-region",
        "prod-east",
        {**REGION, "region": "US-EAST-1"},
        f"{NS}:region",
        "'US-EAST-1' is not valid: an AWS region such as us-east-1",
    ),
    (
        "missing-kafka",
        "prod-east",
        {k: v for k, v in REGION.items() if k != "kafka"},
        f"{NS}:kafka",
        "is required: {type, availability, cku}",
    ),
    ("kafka-without-type", "prod-east", {**REGION, "kafka": {"cku": 2}}, f"{NS}:kafka.type", "is required"),
    (
        "unknown-cluster-type",
        "prod-east",
        {**REGION, "kafka": {"type": "MEGA"}},
        f"{NS}:kafka.type",
        "'MEGA' is not one of STANDARD, DEDICATED",
    ),
    (
        "unknown-availability",
        "prod-east",
        {**REGION, "kafka": {"type": "STANDARD", "availability": "TRIPLE_ZONE"}},
        f"{NS}:kafka.availability",
        "'TRIPLE_ZONE' is not one of SINGLE_ZONE, MULTI_ZONE",
    ),
    (
        "multi-zone-dedicated-with-one-cku",
        "prod-east",
        {**REGION, "kafka": {"type": "DEDICATED", "availability": "MULTI_ZONE", "cku": 1}},
        f"{NS}:kafka.cku",
        "must be >= 2 for a MULTI_ZONE dedicated cluster, got 1",
    ),
    (
        "single-zone-dedicated-with-no-cku",
        "prod-east",
        {**REGION, "kafka": {"type": "DEDICATED", "cku": 0}},
        f"{NS}:kafka.cku",
        "must be >= 1 for a SINGLE_ZONE dedicated cluster, got 0",
    ),
    (
        "cku-not-an-integer",
        "prod-east",
        {**REGION, "kafka": {"type": "DEDICATED", "cku": "2"}},
        f"{NS}:kafka.cku",
        "must be an integer, not a string",
    ),
    (
        "basic-cluster",
        "dev",
        {**ALL_IN_ONE, "kafka": {"type": "BASIC", "availability": "SINGLE_ZONE"}},
        f"{NS}:kafka.type",
        "BASIC clusters have no topic-level RBAC, which every workload grant uses: use STANDARD",
    ),
    (
        "cluster-type-not-a-string",
        "prod-east",
        {**REGION, "kafka": {"type": 2}},
        f"{NS}:kafka.type",
        "a number is not one of STANDARD, DEDICATED",
    ),
    (
        "cku-on-standard",
        "prod-east",
        {**REGION, "kafka": {"type": "STANDARD", "cku": 2}},
        f"{NS}:kafka.cku",
        "applies to DEDICATED clusters only, not STANDARD",
    ),
    (
        "misspelt-kafka-key",
        "prod-east",
        {**REGION, "kafka": {"type": "BASIC", "ckus": 4}},
        f"{NS}:kafka.ckus",
        "unknown key (allowed: availability, cku, type)",
    ),
    # networks
    (
        "unknown-network-type",
        "prod-east",
        {**REGION, "network": {"type": "VPC_PEERING"}},
        f"{PL}.type",
        "'VPC_PEERING' is not one of PUBLIC, PRIVATELINK",
    ),
    ("network-without-type", "prod-east", {**REGION, "network": {}}, f"{PL}.type", "is required"),
    *[
        (
            f"public-network-with-{key}",
            "prod-east",
            {**REGION, "network": {"type": "PUBLIC", key: PRIVATELINK[key]}},
            f"{PL}.{key}",
            "applies to PRIVATELINK networks only",
        )
        for key in ("awsAccountId", "vpcId", "vpcCidr", "zones")
    ],
    *[
        (
            f"privatelink-without-{key}",
            "prod-east",
            _pl(**{key: None}),
            f"{PL}.{key}",
            "is required for a PRIVATELINK network",
        )
        for key in ("awsAccountId", "vpcId", "vpcCidr", "zones")
    ],
    ("privatelink-no-zones", "prod-east", _pl(zones=[]), f"{PL}.zones", "must have at least 1 item"),
    (
        "duplicate-zone",
        "prod-east",
        _pl(
            zones=[
                {"azId": "use1-az1", "subnetId": "subnet-01234567"},
                {"azId": "use1-az1", "subnetId": "subnet-89abcdef"},
            ]
        ),
        f"{PL}.zones",
        "lists an availability zone twice",
    ),
    (
        "zone-name-not-id",
        "prod-east",
        _pl(zones=[{"azId": "us-east-1a", "subnetId": "subnet-01234567"}]),
        f"{PL}.zones[0].azId",
        "'us-east-1a' is not valid: an availability-zone id of us-east-1 (use1-az1, ...)",
    ),
    (
        "zone-without-subnet",
        "prod-east",
        _pl(zones=[{"azId": "use1-az1"}]),
        f"{PL}.zones[0].subnetId",
        "is required",
    ),
    (
        "bad-subnet",
        "prod-east",
        _pl(zones=[{"azId": "use1-az1", "subnetId": "subnet-xyz"}]),
        f"{PL}.zones[0].subnetId",
        "'subnet-xyz' is not valid: an AWS subnet id",
    ),
    (
        "unquoted-account-id",
        "prod-east",
        _pl(awsAccountId=111122223333),
        f"{PL}.awsAccountId",
        "must be a non-empty string",
    ),
    (
        "short-account-id",
        "prod-east",
        _pl(awsAccountId="11112222333"),
        f"{PL}.awsAccountId",
        "'11112222333' is not valid: a 12-digit AWS account id (quote it in YAML)",
    ),
    ("bad-vpc-id", "prod-east", _pl(vpcId="vpc-1"), f"{PL}.vpcId", "'vpc-1' is not valid: an AWS VPC id"),
    (
        "vpc-cidr-with-host-bits",
        "prod-east",
        _pl(vpcCidr="10.10.0.1/16"),
        f"{PL}.vpcCidr",
        "'10.10.0.1/16' is not an IPv4 CIDR such as 10.0.0.0/16 (10.10.0.1/16 has host bits set)",
    ),
    (
        "vpc-cidr-prefix-too-long",
        "prod-east",
        _pl(vpcCidr="10.10.0.0/33"),
        f"{PL}.vpcCidr",
        "'10.10.0.0/33' is not an IPv4 CIDR such as 10.0.0.0/16 (",
    ),
    (
        "zone-of-another-region",
        "prod-east",
        _pl(zones=[{"azId": "usw2-az1", "subnetId": "subnet-01234567"}]),
        f"{PL}.zones[0].azId",
        "'usw2-az1' is not valid: an availability-zone id of us-east-1 (use1-az1, ...)",
    ),
    (
        "subnet-in-two-zones",
        "prod-east",
        _pl(
            zones=[
                {"azId": "use1-az1", "subnetId": "subnet-01234567"},
                {"azId": "use1-az2", "subnetId": "subnet-89abcdef"},
                {"azId": "use1-az3", "subnetId": "subnet-01234567"},
            ]
        ),
        f"{PL}.zones",
        "lists a subnet twice: one subnet per zone",
    ),
    # topics and Flink
    (
        "invalid-raw-topic-name",
        "prod-east",
        {**REGION, "topics": {"raw": {"name": "raw events!"}}},
        f"{NS}:topics.raw.name",
        "'raw events!' is not valid: a Kafka topic name",
    ),
    (
        "zero-partitions",
        "prod-east",
        {**REGION, "topics": {"routed": {"partitions": 0}}},
        f"{NS}:topics.routed.partitions",
        "must be >= 1, got 0",
    ),
    *[
        (
            f"retention-{value}",
            "prod-east",
            {**REGION, "topics": {topic: {"retentionMs": value}}},
            f"{NS}:topics.{topic}.retentionMs",
            f"must be a positive number of milliseconds, or -1 to keep forever; got {value}",
        )
        for topic, value in (("raw", 0), ("raw", -2), ("routed", -5))
    ],
    (
        "routed-topic-name",
        "prod-east",
        {**REGION, "topics": {"routed": {"name": "x"}}},
        f"{NS}:topics.routed.name",
        "unknown key (allowed: partitions, retentionMs)",
    ),
    (
        "unknown-topic-section",
        "prod-east",
        {**REGION, "topics": {"rawTopic": {}}},
        f"{NS}:topics.rawTopic",
        "unknown key (allowed: raw, routed)",
    ),
    (
        "bad-max-cfu",
        "prod-east",
        {**REGION, "flink": {"maxCfu": 7}},
        f"{NS}:flink.maxCfu",
        "7 is not one of 5, 10, 20, 30, 40, 50",
    ),
    (
        "deployer-key-generation-zero",
        "prod-east",
        {**REGION, "flink": {"deployerKeyGeneration": 0}},
        f"{NS}:flink.deployerKeyGeneration",
        "must be >= 1, got 0",
    ),
    # CDC
    (
        "plain-json-cdc-format",
        "prod-east",
        _cdc(valueFormat="JSON"),
        f"{NS}:cdc.valueFormat",
        "'JSON' is not one of JSON_SR, AVRO, PROTOBUF",
    ),
    (
        "cdc-enabled-not-boolean",
        "prod-east",
        _cdc(enabled="yes"),
        f"{NS}:cdc.enabled",
        "must be true or false, not a string",
    ),
    (
        "cdc-without-host-or-aurora",
        "prod-east",
        _cdc(enabled=True),
        f"{NS}:cdc.database.hostname",
        "is required when cdc is enabled without an aurora cluster",
    ),
    (
        "cdc-host-beside-aurora",
        "prod-east",
        {
            **REGION,
            "cdc": {"enabled": True, "database": {"hostname": "db.example.com"}},
            "aurora": {"clusterIdentifier": "c"},
        },
        f"{NS}:cdc.database.hostname",
        "the connector reads the Aurora writer endpoint: leave hostname out when aurora is set",
    ),
    (
        "bad-hostname",
        "prod-east",
        _db(hostname="db host"),
        f"{NS}:cdc.database.hostname",
        "'db host' is not valid: a DNS name",
    ),
    ("port-zero", "prod-east", _db(port=0), f"{NS}:cdc.database.port", "must be >= 1, got 0"),
    ("port-too-high", "prod-east", _db(port=65536), f"{NS}:cdc.database.port", "must be <= 65535, got 65536"),
    (
        "bad-database-name",
        "prod-east",
        _db(name="Events"),
        f"{NS}:cdc.database.name",
        "'Events' is not valid: a PostgreSQL identifier",
    ),
    (
        "bad-database-user",
        "prod-east",
        _db(user="cdc-user"),
        f"{NS}:cdc.database.user",
        "'cdc-user' is not valid: a PostgreSQL role name",
    ),
    (
        "bad-sslmode",
        "prod-east",
        _db(sslmode="disable"),
        f"{NS}:cdc.database.sslmode",
        "'disable' is not one of require, verify-ca, verify-full",
    ),
    (
        "bad-schema",
        "prod-east",
        _db(schema="1st"),
        f"{NS}:cdc.database.schema",
        "'1st' is not valid: a PostgreSQL schema",
    ),
    ("bad-table", "prod-east", _db(table="a.b"), f"{NS}:cdc.database.table", "'a.b' is not valid: a PostgreSQL table"),
    (
        "bad-slot-name",
        "prod-east",
        _cdc(slotName="Slot-1"),
        f"{NS}:cdc.slotName",
        "'Slot-1' is not valid: lowercase [a-z0-9_], <= 63 chars",
    ),
    (
        "slot-name-too-long",
        "prod-east",
        _cdc(slotName="s" * 64),
        f"{NS}:cdc.slotName",
        f"'{'s' * 64}' is not valid: lowercase",
    ),
    (
        "bad-publication",
        "prod-east",
        _cdc(publicationName="pub-1"),
        f"{NS}:cdc.publicationName",
        "'pub-1' is not valid: a PostgreSQL identifier",
    ),
    (
        "bad-topic-prefix",
        "prod-east",
        _cdc(topicPrefix="cdc/x"),
        f"{NS}:cdc.topicPrefix",
        "'cdc/x' is not valid: [A-Za-z0-9_.-]",
    ),
    (
        "topic-prefix-too-long",
        "prod-east",
        _cdc(topicPrefix="p" * 65),
        f"{NS}:cdc.topicPrefix",
        f"'{'p' * 65}' is not valid",
    ),
    (
        "bad-snapshot-mode",
        "prod-east",
        _cdc(snapshotMode="always"),
        f"{NS}:cdc.snapshotMode",
        "'always' is not one of initial, no_data, when_needed",
    ),
    (
        "misspelt-cdc-key",
        "prod-east",
        _cdc(slot="x"),
        f"{NS}:cdc.slot",
        "unknown key (allowed: database, enabled, heartbeatIntervalMs, publicationName, slotName, snapshotMode, "
        "topicPrefix, valueFormat)",
    ),
    # Aurora and RDS Proxy
    (
        "aurora-without-identifier",
        "prod-east",
        {**REGION, "aurora": {"parameterGroupFamily": "aurora-postgresql15"}},
        f"{NS}:aurora.clusterIdentifier",
        "is required",
    ),
    (
        "bad-cluster-identifier",
        "prod-east",
        {**REGION, "aurora": {"clusterIdentifier": "1cdc"}},
        f"{NS}:aurora.clusterIdentifier",
        "'1cdc' is not valid: an RDS cluster identifier",
    ),
    (
        "bad-parameter-group-family",
        "prod-east",
        {**REGION, "aurora": {"clusterIdentifier": "c", "parameterGroupFamily": "postgres15"}},
        f"{NS}:aurora.parameterGroupFamily",
        "'postgres15' is not valid: e.g. aurora-postgresql15",
    ),
    *[
        (f"proxy-without-{key}", "prod-east", _proxy(**{key: None}), f"{NS}:aurora.proxy.{key}", "is required")
        for key in ("vpcId", "subnetIds", "clientCidrs")
    ],
    (
        "proxy-bad-vpc",
        "prod-east",
        _proxy(vpcId="vpc-x"),
        f"{NS}:aurora.proxy.vpcId",
        "'vpc-x' is not valid: an AWS VPC id",
    ),
    (
        "proxy-single-subnet",
        "prod-east",
        _proxy(subnetIds=["subnet-0e1a2b3c"]),
        f"{NS}:aurora.proxy.subnetIds",
        "must have at least 2 items",
    ),
    (
        "proxy-bad-subnet",
        "prod-east",
        _proxy(subnetIds=["subnet-0e1a2b3c", "sn-1"]),
        f"{NS}:aurora.proxy.subnetIds[1]",
        "'sn-1' is not valid: an AWS subnet id",
    ),
    (
        "proxy-no-client-cidrs",
        "prod-east",
        _proxy(clientCidrs=[]),
        f"{NS}:aurora.proxy.clientCidrs",
        "must have at least 1 item",
    ),
    (
        "proxy-bad-client-cidr",
        "prod-east",
        _proxy(clientCidrs=["10.0.0.0/8", "any"]),
        f"{NS}:aurora.proxy.clientCidrs[1]",
        "'any' is not an IPv4 CIDR such as 10.0.0.0/16 (",
    ),
    (
        "proxy-bad-app-user",
        "prod-east",
        _proxy(appUser="App"),
        f"{NS}:aurora.proxy.appUser",
        "'App' is not valid: a PostgreSQL role name",
    ),
    (
        "proxy-idle-above-max",
        "prod-east",
        _proxy(maxIdleConnectionsPercent=90),
        f"{NS}:aurora.proxy.maxIdleConnectionsPercent",
        "must be <= maxConnectionsPercent (80)",
    ),
    (
        "proxy-idle-above-lowered-max",
        "prod-east",
        _proxy(maxConnectionsPercent=40),
        f"{NS}:aurora.proxy.maxIdleConnectionsPercent",
        "must be <= maxConnectionsPercent (40)",
    ),
    (
        "proxy-max-above-100",
        "prod-east",
        _proxy(maxConnectionsPercent=101),
        f"{NS}:aurora.proxy.maxConnectionsPercent",
        "must be <= 100, got 101",
    ),
    (
        "proxy-idle-zero",
        "prod-east",
        _proxy(maxIdleConnectionsPercent=0),
        f"{NS}:aurora.proxy.maxIdleConnectionsPercent",
        "must be >= 1, got 0",
    ),
    (
        "proxy-borrow-zero",
        "prod-east",
        _proxy(connectionBorrowTimeout=0),
        f"{NS}:aurora.proxy.connectionBorrowTimeout",
        "must be >= 1, got 0",
    ),
    (
        "proxy-borrow-above-an-hour",
        "prod-east",
        _proxy(connectionBorrowTimeout=3601),
        f"{NS}:aurora.proxy.connectionBorrowTimeout",
        "must be <= 3600 seconds, got 3601",
    ),
]


@pytest.mark.parametrize("case, stack, values, key, reason", REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_config_is_refused_naming_key_path_and_reason(
    case: str, stack: str, values: dict[str, Any], key: str, reason: str
) -> None:
    path, message = refusal(values, stack)
    assert path == key
    assert message.startswith(reason), message


# --- config namespaces ---------------------------------------------------------------------------------

NAMESPACES = "(allowed: cdc-platform, confluentcloud, aws, vault, pulumi)"


@pytest.mark.parametrize(
    "key, reason",
    [
        ("cdc-platfrom:protect", f"unknown config namespace 'cdc-platfrom' {NAMESPACES}; did you mean cdc-platform:?"),
        ("confluent:cloudApiKey", f"unknown config namespace 'confluent' {NAMESPACES}; did you mean confluentcloud:?"),
        ("kubernetes:context", f"unknown config namespace 'kubernetes' {NAMESPACES}"),
        ("protect", f"unknown config namespace '' {NAMESPACES}"),
    ],
)
def test_a_misspelt_or_foreign_namespace_is_refused_not_ignored(key: str, reason: str) -> None:
    raw = {**pulumi_config(GLOBAL), key: "true"}
    with pytest.raises(ConfigError) as error:
        parse_settings(raw, "prod", SECRETS)
    assert (error.value.file, error.value.path, error.value.message) == ("Pulumi.prod.yaml", key, reason)


def test_a_key_with_two_colons_is_an_unknown_key_of_its_namespace() -> None:
    raw = {**pulumi_config(GLOBAL), f"{NS}:environment:name": "cdc-x"}
    with pytest.raises(ConfigError) as error:
        parse_settings(raw, "prod", SECRETS)
    assert error.value.path == f"{NS}:environment:name"
    assert error.value.message.startswith(f"unknown key (allowed: {NS}:environment, ")


def test_the_providers_and_pulumis_namespaces_are_accepted() -> None:
    values = {**GLOBAL, "aws:region": "us-east-1", "confluentcloud:endpoint": "x", "pulumi:tags": "{}"}
    assert parse(values, stack="prod").regions == ("us-east-1",)


# --- the routes file -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["rules.yaml", "flink_sql/routes.yaml", "flink_sql/../rules/routes.yaml"])
def test_a_routes_file_inside_the_project_is_kept_as_written(path: str) -> None:
    assert parse({**GLOBAL, "routesFile": path}, stack="prod").routes_file == path


@pytest.mark.parametrize("path", ["/etc/routes.yaml", "../routes.yaml", "flink_sql/../../routes.yaml"])
def test_a_routes_file_outside_the_project_is_refused(path: str) -> None:
    assert refusal({**GLOBAL, "routesFile": path}, stack="prod") == (
        f"{NS}:routesFile",
        f"{path!r} must be a path inside the project directory",
    )


@pytest.mark.parametrize("value", ['["routes.yaml"]', '{"file": "routes.yaml"}', "5"])
def test_a_structured_routes_file_is_refused(value: str) -> None:
    assert refusal({**GLOBAL, "routesFile": value}, stack="prod") == (
        f"{NS}:routesFile",
        "must be a file path (a string), not a structured value",
    )


# --- protected stacks ----------------------------------------------------------------------------------

PROTECTED_CDC = {**REGION, "protect": "true", "cdc": {"enabled": True, "database": {"hostname": "db.example.com"}}}


@pytest.mark.parametrize("sslmode", [None, "require", "verify-ca"])
def test_a_protected_stacks_connector_must_verify_the_database_fully(sslmode: str | None) -> None:
    values = {**PROTECTED_CDC, "cdc": {"enabled": True, "database": {"hostname": "db.example.com"}}}
    if sslmode:
        values["cdc"]["database"]["sslmode"] = sslmode
    assert refusal(values) == (
        f"{NS}:cdc.database.sslmode",
        f"must be verify-full in a protected stack (with {ROOT_CERT}), not {sslmode or 'require'}",
    )


def test_a_protected_stack_verifying_fully_needs_the_root_certificate() -> None:
    values = {**PROTECTED_CDC, "cdc": {"enabled": True, "database": {"hostname": "h", "sslmode": "verify-full"}}}
    with pytest.raises(ConfigError) as error:
        parse_settings(pulumi_config(values, {CDC_PASSWORD: "[secret]"}), "prod-east", SECRETS)
    assert (error.value.path, error.value.message) == (
        ROOT_CERT,
        f"is required: set it with `pulumi config set --secret {ROOT_CERT}`",
    )
    region = region_of(values, secrets={CDC_PASSWORD: "[secret]", ROOT_CERT: "[secret]"})
    assert (region.cdc.sslmode, region.cdc.enabled) == ("verify-full", True)


def test_verify_ca_in_an_unprotected_stack_also_needs_the_root_certificate() -> None:
    values = {**REGION, "cdc": {"enabled": True, "database": {"hostname": "h", "sslmode": "verify-ca"}}}
    with pytest.raises(ConfigError) as error:
        parse_settings(pulumi_config(values, {CDC_PASSWORD: "[secret]"}), "prod-east", SECRETS)
    assert error.value.path == ROOT_CERT


def test_require_in_an_unprotected_stack_needs_no_root_certificate() -> None:
    values = {**REGION, "cdc": {"enabled": True, "database": {"hostname": "h"}}}
    assert region_of(values, secrets={CDC_PASSWORD: "[secret]"}).cdc.sslmode == "require"


def test_a_protected_stack_without_cdc_keeps_the_default_sslmode() -> None:
    assert region_of({**REGION, "protect": True}).cdc == DEFAULT_CDC


def test_a_protected_stack_never_opens_the_proxy_to_every_address() -> None:
    values = {**_proxy(clientCidrs=["10.0.0.0/8", "0.0.0.0/0"]), "protect": "true"}
    assert refusal(values) == (
        f"{NS}:aurora.proxy.clientCidrs[1]",
        "0.0.0.0/0 is open to every address: a protected stack names its networks",
    )


def test_a_protected_stack_never_peers_a_vpc_cidr_of_every_address() -> None:
    assert refusal({**_pl(vpcCidr="0.0.0.0/0"), "protect": True}) == (
        f"{PL}.vpcCidr",
        "0.0.0.0/0 is open to every address: a protected stack names its networks",
    )


def test_an_unprotected_stack_may_open_the_proxy_to_every_address() -> None:
    aurora = region_of(_proxy(clientCidrs=["0.0.0.0/0"]), secrets={APP_PASSWORD: "[secret]"}).aurora
    assert aurora is not None and aurora.proxy is not None and aurora.proxy.client_cidrs == ("0.0.0.0/0",)


def test_a_protected_stack_accepts_named_networks() -> None:
    values = {**_pl(vpcCidr="10.10.0.0/16"), "protect": "true"}
    private_link = region_of(values).private_link
    assert private_link is not None and private_link.vpc_cidr == "10.10.0.0/16"


# --- availability-zone ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region, prefix",
    [
        ("us-east-1", "use1"),
        ("us-west-2", "usw2"),
        ("eu-central-1", "euc1"),
        ("eu-north-1", "eun1"),
        ("ap-southeast-2", "apse2"),
        ("ap-northeast-3", "apne3"),
        ("sa-east-1", "sae1"),
        ("ca-central-1", "cac1"),
        ("us-gov-west-1", "usgw1"),
        ("us-gov-east-1", "usge1"),
    ],
)
def test_availability_zone_ids_follow_the_region(region: str, prefix: str) -> None:
    assert az_id_prefix(region) == prefix
    network = {**PRIVATELINK, "zones": [{"azId": f"{prefix}-az3", "subnetId": "subnet-01234567"}]}
    private_link = region_of({**REGION, "region": region, "network": network}).private_link
    assert private_link is not None and private_link.zones == (Zone(f"{prefix}-az3", "subnet-01234567"),)


def test_availability_zone_ids_may_have_two_digits() -> None:
    network = {**PRIVATELINK, "zones": [{"azId": "use1-az12", "subnetId": "subnet-01234567"}]}
    private_link = region_of({**REGION, "network": network}).private_link
    assert private_link is not None and private_link.zones[0].az_id == "use1-az12"


# --- partitions ----------------------------------------------------------------------------------------


def test_the_largest_partition_count_kafka_carries_is_accepted() -> None:
    topics = {"raw": {"partitions": 2**31 - 1}}
    assert region_of({**REGION, "topics": topics}).raw_topic_settings.partitions == 2**31 - 1


def test_more_partitions_than_kafka_carries_are_refused() -> None:
    assert refusal({**REGION, "topics": {"routed": {"partitions": 2**31}}}) == (
        f"{NS}:topics.routed.partitions",
        "must be <= 2147483647 (Kafka's int32)",
    )
