"""The CDC source in each stack's plan: connector config, secrets, writer endpoint, database side."""

from __future__ import annotations

import json
import re

import pytest

from cdcctl.plan import Plan
from core.cdc_source import connector_config
from rehearsal.debezium import DEBEZIUM_POSTGRES, MANAGED_ONLY, open_source_properties
from settings.parse import parse_settings
from tests.helpers import of_type, one, principal_ids, routing

REGION_STACKS = [("prod-east", "us-east-1"), ("prod-west", "us-west-2"), ("dev", "us-east-1")]


def global_of(stack: str) -> str:
    return "dev" if stack == "dev" else "prod"


@pytest.mark.parametrize("stack, region", REGION_STACKS)
def test_connector_is_managed_postgres_cdc_v2_as_the_cdc_service_account(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    p = plans[stack]
    connector = one(p, "Connector")
    config = connector.inputs["configNonsensitive"]
    assert config["connector.class"] == "PostgresCdcSourceV2"
    assert config["kafka.auth.mode"] == "SERVICE_ACCOUNT"
    assert "User:" + config["kafka.service.account.id"] == principal_ids(plans[global_of(stack)])["cdc-connector"]
    assert config["plugin.name"] == "pgoutput"
    assert config["output.data.format"] == "JSON_SR" == config["output.key.format"]
    assert config["tasks.max"] == "1"
    assert config["publication.autocreate.mode"] == "disabled"
    assert connector.inputs["kafkaCluster"]["id"] == one(p, "KafkaCluster").id


@pytest.mark.parametrize("stack, region", REGION_STACKS)
def test_connector_flattens_with_cdc_metadata_and_routes_to_the_raw_topic(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    config = one(plans[stack], "Connector").inputs["configNonsensitive"]
    aliases = config["transforms"].split(",")
    assert "unwrap" not in aliases
    extract, route, heartbeat = aliases
    assert config[f"transforms.{extract}.type"] == "io.debezium.transforms.ExtractNewRecordState"
    assert config[f"transforms.{extract}.add.fields"] == "op,table,ts_ms"
    assert config[f"transforms.{route}.type"] == "io.confluent.connect.cloud.transforms.TopicRegexRouter"
    assert config[f"transforms.{route}.replacement"] == "raw-business-events"
    # Heartbeat records (managed: __debezium-heartbeat-<lcc>.cdc) go to the declared heartbeat topic.
    assert config[f"transforms.{heartbeat}.type"] == "io.confluent.connect.cloud.transforms.TopicRegexRouter"
    assert re.fullmatch(config[f"transforms.{heartbeat}.regex"], "__debezium-heartbeat-lcc-12ab.cdc")
    assert not re.fullmatch(config[f"transforms.{heartbeat}.regex"], "cdc.public.business_events")
    assert config[f"transforms.{heartbeat}.replacement"] == "raw-business-events-heartbeat"
    assert config["heartbeat.interval.ms"] == "60000"
    assert "cdc_heartbeat" in config["heartbeat.action.query"]
    assert config["table.include.list"] == "public.business_events"  # the heartbeat table is not captured
    assert not any("RegexRouter" in v and "confluent" not in v for v in config.values())


@pytest.mark.parametrize("stack, region", REGION_STACKS)
def test_connector_reads_the_aurora_writer_endpoint_never_the_proxy(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    p = plans[stack]
    config = one(p, "Connector").inputs["configNonsensitive"]
    writer = p.outputs["databaseWriterEndpoint"]
    assert config["database.hostname"] == writer
    assert ".proxy-" not in config["database.hostname"]
    for proxy in of_type(p, "Proxy"):
        assert proxy.inputs["name"] not in config["database.hostname"]


@pytest.mark.parametrize("stack, region", REGION_STACKS)
def test_database_password_only_in_config_sensitive_as_a_secret(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    connector = one(plans[stack], "Connector")
    assert connector.inputs["configSensitive"] == "[secret]"
    assert not any("password" in key for key in connector.inputs["configNonsensitive"])


def test_each_stack_uses_its_own_replication_slot(plans: dict[str, Plan]) -> None:
    slots = [one(plans[s], "Connector").inputs["configNonsensitive"]["slot.name"] for s, _ in REGION_STACKS]
    assert len(set(slots)) == len(slots)


@pytest.mark.parametrize("stack, region", REGION_STACKS)
def test_aurora_parameter_group_enables_logical_replication(plans: dict[str, Plan], stack: str, region: str) -> None:
    group = one(plans[stack], "ClusterParameterGroup")
    assert {"name": "rds.logical_replication", "value": "1", "applyMethod": "pending-reboot"} in group.inputs[
        "parameters"
    ]
    assert group.inputs["family"].startswith("aurora-postgresql")


@pytest.mark.parametrize("stack", ["prod-east", "prod-west"])
def test_rds_proxy_pools_connections_for_the_apps(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    proxy = one(p, "Proxy")
    assert proxy.inputs["engineFamily"] == "POSTGRESQL" and proxy.inputs["requireTls"] is True
    (auth,) = proxy.inputs["auths"]
    secret = one(p, "Secret", lambda r: r.name.endswith("-proxy-credentials"))
    assert auth["authScheme"] == "SECRETS" and auth["secretArn"].endswith(secret.id)
    pool = one(p, "ProxyDefaultTargetGroup").inputs["connectionPoolConfig"]
    assert pool == {"maxConnectionsPercent": 80, "maxIdleConnectionsPercent": 50, "connectionBorrowTimeout": 120}
    target = one(p, "ProxyTarget")
    assert target.inputs["dbClusterIdentifier"] == f"cdc-{stack}-events"
    assert target.inputs["dbProxyName"] == proxy.inputs["name"]
    assert (
        one(p, "SecretVersion", lambda r: r.name.endswith("-proxy-credentials-value")).inputs["secretString"]
        == "[secret]"
    )
    policy = json.loads(one(p, "RolePolicy", lambda r: "proxy" in r.name).inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Action"] == "secretsmanager:GetSecretValue" and statement["Resource"].endswith(secret.id)
    assert p.outputs["databaseProxyEndpoint"] != p.outputs["databaseWriterEndpoint"]


def test_dev_has_no_proxy(plans: dict[str, Plan]) -> None:
    assert not of_type(plans["dev"], "Proxy") and "databaseProxyEndpoint" not in plans["dev"].outputs


def test_routing_statement_waits_for_the_connector(plans: dict[str, Plan]) -> None:
    east = plans["prod-east"]
    connector = one(east, "Connector")
    statement = routing(east)
    assert connector.urn in statement.dependencies


def test_open_source_mapping_keeps_every_setting_but_managed_only_ones() -> None:
    settings = parse_settings(
        {
            "cdc-platform:layer": "all-in-one",
            "cdc-platform:region": "us-east-1",
            "cdc-platform:kafka": '{"type": "STANDARD"}',
        },
        "t",
    )
    assert settings.region is not None
    managed = connector_config(settings.region.cdc, name="n", hostname="h", service_account_id="sa", raw_topic="raw")
    mapped = open_source_properties(managed, hostname="127.0.0.1", port=5555, password="pw", root_cert="/ca.pem")
    assert mapped["connector.class"] == DEBEZIUM_POSTGRES
    assert not set(MANAGED_ONLY) & set(mapped)
    assert mapped["transforms.routeToRawTopic.type"] == "org.apache.kafka.connect.transforms.RegexRouter"
    assert (mapped["database.hostname"], mapped["database.port"], mapped["database.password"]) == (
        "127.0.0.1",
        "5555",
        "pw",
    )
    for key, value in managed.items():
        if key not in MANAGED_ONLY and key not in ("connector.class", "database.hostname", "database.port"):
            assert mapped[key] == value or "RegexRouter" in mapped[key], key
    with pytest.raises(ValueError, match=r"signal\.data\.collection"):
        open_source_properties(
            {**managed, "signal.data.collection": "public.s"}, hostname="h", port=1, password="p", root_cert="/ca.pem"
        )
