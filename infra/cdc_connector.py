"""The managed Postgres CDC V2 connector: Aurora's writer -> flat raw records -> the raw topic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluent

from infra.access import COMPONENT
from infra.settings import CdcSettings

# SMT aliases. Not `unwrap`: that alias is reserved on managed CDC connectors.
EXTRACT = "extractNewState"
ROUTE = "routeToRawTopic"


def connector_config(
    cdc: CdcSettings, *, name: str, hostname: str, service_account_id: str, raw_topic: str
) -> dict[str, str]:
    """The connector's non-secret config. One definition: the stack deploys it and the rehearsal maps
    it to open-source Debezium (cdcctl/debezium.py). The password goes in config_sensitive only."""
    captured = f"{cdc.schema}.{cdc.table}"
    return {
        "connector.class": "PostgresCdcSourceV2",
        "name": name,
        "kafka.auth.mode": "SERVICE_ACCOUNT",
        "kafka.service.account.id": service_account_id,
        "database.hostname": hostname,
        "database.port": str(cdc.port),
        "database.user": cdc.user,
        "database.dbname": cdc.database,
        "database.sslmode": cdc.sslmode,
        "topic.prefix": cdc.topic_prefix,
        "table.include.list": captured,
        "plugin.name": "pgoutput",
        "slot.name": cdc.slot_name,
        "publication.name": cdc.publication_name,
        # The publication is a database prerequisite (db/migrations): the role needs no CREATE.
        "publication.autocreate.mode": "disabled",
        "snapshot.mode": cdc.snapshot_mode,
        # One setting drives the connector's format and the Flink tables' (compiler.registry_options).
        "output.data.format": cdc.value_format,
        "output.key.format": cdc.value_format,
        # Deletes arrive as rewritten records (__deleted=true), never as tombstones.
        "tombstones.on.delete": "false",
        "transforms": f"{EXTRACT},{ROUTE}",
        f"transforms.{EXTRACT}.type": "io.debezium.transforms.ExtractNewRecordState",
        f"transforms.{EXTRACT}.add.fields": "op,table,ts_ms",
        f"transforms.{EXTRACT}.delete.tombstone.handling.mode": "rewrite",
        # RegexRouter is not available on managed connectors; TopicRegexRouter is.
        f"transforms.{ROUTE}.type": "io.confluent.connect.cloud.transforms.TopicRegexRouter",
        f"transforms.{ROUTE}.regex": re.escape(f"{cdc.topic_prefix}.{captured}"),
        f"transforms.{ROUTE}.replacement": raw_topic,
        "tasks.max": "1",
    }


@dataclass
class CdcConnectorArgs:
    cdc: CdcSettings
    display_name: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    service_account_id: pulumi.Input[str]
    writer_endpoint: pulumi.Input[str]  # Aurora's writer: RDS Proxy rejects logical replication
    password: pulumi.Input[str]  # a Pulumi secret
    raw_topic: str
    depends_on: Sequence[pulumi.Resource] = ()


class CdcConnector(pulumi.ComponentResource):
    """Managed PostgresCdcSourceV2 running as the CDC service account (no API key)."""

    def __init__(self, name: str, args: CdcConnectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:CdcConnector", name, None, opts)
        config = pulumi.Output.all(args.display_name, args.writer_endpoint, args.service_account_id).apply(
            lambda v: connector_config(
                args.cdc, name=v[0], hostname=v[1], service_account_id=v[2], raw_topic=args.raw_topic
            )
        )
        self.connector = confluent.Connector(
            f"{name}-connector",
            environment=confluent.ConnectorEnvironmentArgs(id=args.environment_id),
            kafka_cluster=confluent.ConnectorKafkaClusterArgs(id=args.cluster_id),
            config_nonsensitive=config,
            config_sensitive={"database.password": pulumi.Output.secret(args.password)},
            # Topics and grants first: the connector writes as its service account from the start.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"connector_id": self.connector.id})
