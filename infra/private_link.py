"""AWS PrivateLink to a Confluent network: the network, access grant, VPC endpoint and private DNS."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_confluentcloud as confluent

from core.config_node import ConfigError
from core.naming import COMPONENT
from settings.model import NAMESPACE, PrivateLinkSettings

# Kafka clients use 9092, the REST and Flink endpoints 443.
_PORTS = (443, 9092)


@dataclass
class PrivateLinkArgs:
    display_name: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    region: str
    network: PrivateLinkSettings
    schema_registry_id: pulumi.Input[str]  # the environment's registry (lsrc-...), served privately here
    protect: bool  # prod: deleting the network, endpoint or DNS cuts every client off
    settings_file: str  # named when the network's endpoint suffix is not the dot form


class PrivateLinkNetwork(pulumi.ComponentResource):
    """Confluent PRIVATELINK network reachable from one VPC; `ready` lists what clients must wait for,
    `flink_endpoint` and `registry_endpoint` are the private endpoints the region's VPC resolves."""

    def __init__(self, name: str, args: PrivateLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:PrivateLinkNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        settings = args.network
        self.network = confluent.Network(
            f"{name}-network",
            display_name=args.display_name,
            cloud="AWS",
            region=args.region,
            connection_types=["PRIVATELINK"],
            zones=[z.az_id for z in settings.zones],
            environment=confluent.NetworkEnvironmentArgs(id=args.environment_id),
            dns_config=confluent.NetworkDnsConfigArgs(resolution="PRIVATE"),
            opts=kept,
        )
        access = confluent.PrivateLinkAccess(
            f"{name}-access",
            display_name=args.display_name,
            aws=confluent.PrivateLinkAccessAwsArgs(account=settings.aws_account_id),
            environment=confluent.PrivateLinkAccessEnvironmentArgs(id=args.environment_id),
            network=confluent.PrivateLinkAccessNetworkArgs(id=self.network.id),
            opts=kept,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Confluent Cloud PrivateLink endpoint",
            vpc_id=settings.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=port, to_port=port, cidr_blocks=[settings.vpc_cidr]
                )
                for port in _PORTS
            ],
            opts=child,
        )
        self.endpoint = aws.ec2.VpcEndpoint(
            f"{name}-endpoint",
            vpc_id=settings.vpc_id,
            service_name=self.network.aws.apply(lambda a: a[0].private_link_endpoint_service),
            vpc_endpoint_type="Interface",
            security_group_ids=[security_group.id],
            subnet_ids=[z.subnet_id for z in settings.zones],
            # Confluent's names resolve through the private zone below, not AWS private DNS.
            private_dns_enabled=False,
            # The endpoint service accepts this account only once the access exists.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[access]),
        )
        zone = aws.route53.Zone(
            f"{name}-dns",
            name=self.network.dns_domain,
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=settings.vpc_id)],
            opts=kept,
        )
        endpoint_dns = self.endpoint.dns_entries.apply(lambda entries: str(entries[0].dns_name))
        self.records = [
            aws.route53.Record(
                f"{name}-dns-wildcard",
                zone_id=zone.zone_id,
                name="*",
                type="CNAME",
                ttl=60,
                records=[endpoint_dns],
                opts=kept,
            )
        ]
        for z in settings.zones:
            az_name = aws.get_availability_zone_output(
                zone_id=z.az_id, opts=pulumi.InvokeOutputOptions(parent=self)
            ).name
            self.records.append(
                aws.route53.Record(
                    f"{name}-dns-{z.az_id}",
                    zone_id=zone.zone_id,
                    name=f"*.{z.az_id}",
                    type="CNAME",
                    ttl=60,
                    # The zonal endpoint name is the regional one with "-<az name>" after its first label.
                    records=[
                        pulumi.Output.all(endpoint_dns, az_name).apply(
                            lambda parts: parts[0].replace(".", f"-{parts[1]}.", 1)
                        )
                    ],
                    opts=kept,
                )
            )
        self.ready: list[pulumi.Resource] = [self.endpoint, *self.records]
        # "Statements running on public endpoints cannot access Confluent Cloud cluster resources running
        # on private endpoints" (CC flink/operate-and-deploy/private-networking): statements go to the
        # network's private Flink endpoint, `https://flink` + the network's endpoint suffix (TF docs
        # confluent_flink_statement.md), which the zone's `*` record resolves to the VPC endpoint.
        suffix = pulumi.Output.all(self.network.endpoint_suffix, self.network.dns_domain).apply(
            lambda parts: _dot_form(str(parts[0]), str(parts[1]), args.settings_file)
        )
        self.flink_endpoint = pulumi.Output.concat("https://flink", suffix)
        # With a Confluent network and a Dedicated cluster in the region, Confluent serves the
        # environment's registry privately (CC sr/fundamentals/sr-private-link) at `https://<lsrc-id>` +
        # the network's endpoint suffix (TF docs confluent_schema, confluent_network): under the network's
        # zone and its `*` record, like the Flink endpoint (the `...aws.private.confluent.cloud` form of
        # `private_regional_rest_endpoints` lies outside that zone).
        self.registry_endpoint = pulumi.Output.concat("https://", args.schema_registry_id, suffix)
        self.register_outputs({"network_id": self.network.id, "endpoint_id": self.endpoint.id})


def _dot_form(suffix: str, domain: str, settings_file: str) -> str:
    """The endpoint suffix as `.<dns domain>`: only then is `flink<suffix>` (and the registry's name) one label
    under the private zone, answered by its `*` record. TF docs confluent_network show both a dot form
    (`.pr123a.us-east-2.aws.confluent.cloud`) and a dash form (`-pr123a...`), which the zone would not cover."""
    if suffix != f".{domain}":
        raise ConfigError(
            settings_file,
            f"{NAMESPACE}:network.type",
            f"the Confluent network's endpoint suffix {suffix!r} is not `.{domain}`: its private Flink and registry "
            "names would fall outside the private zone's `*` record; this network cannot serve the stack",
        )
    return suffix
