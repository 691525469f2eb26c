"""The managed Postgres CDC V2 connector: Aurora's writer -> flat raw records -> the raw topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluent

from core.cdc_source import CdcSettings, connector_config
from core.naming import COMPONENT


@dataclass
class CdcConnectorArgs:
    cdc: CdcSettings
    display_name: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    cluster_id: pulumi.Input[str]
    service_account_id: pulumi.Input[str]
    writer_endpoint: pulumi.Input[str]  # Aurora's writer: RDS Proxy rejects logical replication
    password: pulumi.Input[str]  # a Pulumi secret
    # PEM CA bundle the server's certificate is verified against (sslmode verify-*), a Pulumi secret.
    root_cert: pulumi.Input[str] | None
    raw_topic: str
    protect: bool  # prod: deleting the connector loses its offsets (the slot's position)
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
        sensitive = {"database.password": pulumi.Output.secret(args.password)}
        if args.root_cert is not None:
            # Secret-typed on PostgresCdcSourceV2 ("SSL Root Certificate"), so never in clear config.
            sensitive["database.sslrootcert"] = pulumi.Output.secret(args.root_cert)
        self.connector = confluent.Connector(
            f"{name}-connector",
            environment=confluent.ConnectorEnvironmentArgs(id=args.environment_id),
            kafka_cluster=confluent.ConnectorKafkaClusterArgs(id=args.cluster_id),
            config_nonsensitive=config,
            config_sensitive=sensitive,
            # Topics and grants first: the connector writes as its service account from the start.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"connector_id": self.connector.id})
