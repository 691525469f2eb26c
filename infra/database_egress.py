"""The managed CDC connector's private path to Aurora: egress PrivateLink from the Confluent network to
an internal NLB in front of the cluster's writer, kept on the writer by a small function.

    connector -> DNS record (writer FQDN) -> access point (egress endpoint, the network's gateway)
      -> VPC endpoint service (allows Confluent's principal) -> internal NLB :5432 -> IP target = writer

Rules relied on (sources in MULTI-REGION-FACTS.md section 5):
- A Dedicated cluster on a Confluent network uses the NETWORK's gateway for egress (no new Gateway):
  `AccessPoint(gateway=network.gateways[0], aws_egress_private_link_endpoint=...)` and a `DnsRecord`
  (TF docs confluent_access_point / confluent_dns_record).
- Confluent's RDS egress guide: NLB target group type IP, TCP 5432, TCP health check; "Enforce inbound
  rules on PrivateLink traffic" off; an endpoint service that allows Confluent's principal. It calls a
  static IP target test-only (the writer's IP changes on failover) and suggests RDS Proxy, which
  cannot carry logical replication: hence the writer follower (functions/writer_follower).
- `database.hostname` stays the cluster's writer endpoint: the DNS record resolves exactly that name
  inside Confluent's network, and it is the name on the server certificate (sslmode verify-full).
- The endpoint service must be in the network's region (no cross-region PrivateLink).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_confluentcloud as confluent

from core import naming
from core.config_node import ConfigError
from core.naming import COMPONENT
from functions.writer_follower import handler as follower
from infra.database import POSTGRES_PORT, AuroraDatabase
from infra.functions import execution_role, invoke_on
from settings.model import NAMESPACE

# Relative to the project directory, where Pulumi runs the program: plans do not depend on the checkout's
# location; the one file only (no __pycache__ in the archive).
FOLLOWER_HANDLER = "functions/writer_follower/handler.py"
# How often the follower re-checks even without an event (RDS events can be missed or late).
FOLLOWER_SCHEDULE = "rate(5 minutes)"


@dataclass
class DatabaseEgressArgs:
    display_name: pulumi.Input[str]
    environment_id: pulumi.Input[str]
    network: confluent.Network  # the region's Confluent network (PRIVATELINK): its gateway carries egress
    database: AuroraDatabase
    vpc_id: str
    subnet_ids: Sequence[str]  # one per zone, where the NLB lives
    name_prefix: str  # AWS names (naming.aws_name)
    protect: bool
    # network.egressPrincipalArn when set; else the network gateway's, looked up. `settings_file` names
    # the file the error points to when neither is known.
    egress_principal_arn: str | None
    settings_file: str


class DatabaseEgress(pulumi.ComponentResource):
    """NLB + endpoint service on the AWS side, access point + DNS record on Confluent's, and the
    function that keeps the NLB's target on the writer. `ready`: what the connector waits for."""

    def __init__(self, name: str, args: DatabaseEgressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:DatabaseEgress", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        nlb_group = aws.ec2.SecurityGroup(
            f"{name}-nlb-sg",
            vpc_id=args.vpc_id,
            description="CDC egress NLB: out to the Aurora cluster only",
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    security_groups=[args.database.cluster_group],
                )
            ],
            opts=child,
        )
        # The NLB's health check and forwarded connections both need it: the first target waits for it.
        admitted = args.database.admit(f"{name}-cluster-from-nlb", nlb_group, "CDC connector via egress NLB")
        nlb = aws.lb.LoadBalancer(
            f"{name}-nlb",
            name=naming.aws_name(args.name_prefix, "cdc", limit=32),  # ELB names: <= 32 characters
            load_balancer_type="network",
            internal=True,
            subnets=list(args.subnet_ids),
            security_groups=[nlb_group.id],
            # PrivateLink traffic arrives from Confluent's endpoint, not from an address a rule could name.
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            # Off by default for NLBs: the writer sits in one zone (and moves on failover) while the
            # endpoint's traffic enters in others; every zone's node must forward to it.
            enable_cross_zone_load_balancing=True,
            opts=kept,
        )
        self.target_group = aws.lb.TargetGroup(
            f"{name}-writer",
            name=naming.aws_name(args.name_prefix, "writer", limit=32),
            target_type="ip",
            protocol="TCP",
            port=POSTGRES_PORT,
            vpc_id=args.vpc_id,
            # TCP check every 10 s, healthy after 2 (defaults 30 s and 3): the follower's run at deploy waits
            # for healthy within its timeout (functions/writer_follower/handler.py HEALTH_POLL_S, TIMEOUT_S).
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                protocol="TCP", port=str(POSTGRES_PORT), interval=10, healthy_threshold=2, unhealthy_threshold=2
            ),
            opts=kept,
        )
        listener = aws.lb.Listener(
            f"{name}-listener",
            load_balancer_arn=nlb.arn,
            port=POSTGRES_PORT,
            protocol="TCP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            opts=child,
        )
        gateway_id = args.network.gateways.apply(lambda gateways: str(gateways[0].id))
        principal = args.egress_principal_arn or self._gateway_principal(gateway_id, args)
        service = aws.ec2.VpcEndpointService(
            f"{name}-service",
            acceptance_required=False,
            network_load_balancer_arns=[nlb.arn],
            allowed_principals=[principal],
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[listener]),
        )
        access_point = confluent.AccessPoint(
            f"{name}-access-point",
            display_name=pulumi.Output.concat(args.display_name, "-aurora-egress"),
            environment=confluent.AccessPointEnvironmentArgs(id=args.environment_id),
            gateway=confluent.AccessPointGatewayArgs(id=gateway_id),
            aws_egress_private_link_endpoint=confluent.AccessPointAwsEgressPrivateLinkEndpointArgs(
                vpc_endpoint_service_name=service.service_name,
                # One endpoint per zone (default: one zone). It forces replacement: decided at creation.
                enable_high_availability=True,
            ),
            opts=kept,
        )
        record = confluent.DnsRecord(
            f"{name}-dns",
            display_name=pulumi.Output.concat(args.display_name, "-aurora-writer"),
            environment=confluent.DnsRecordEnvironmentArgs(id=args.environment_id),
            domain=args.database.writer_endpoint,
            gateway=confluent.DnsRecordGatewayArgs(id=gateway_id),
            private_link_access_point=confluent.DnsRecordPrivateLinkAccessPointArgs(id=access_point.id),
            opts=kept,
        )
        first_target = self._writer_follower(name, args, [listener, admitted])
        self.ready: list[pulumi.Resource] = [access_point, record, admitted, first_target]
        self.register_outputs({"access_point_id": access_point.id, "target_group_arn": self.target_group.arn})

    def _gateway_principal(self, gateway_id: pulumi.Output[str], args: DatabaseEgressArgs) -> pulumi.Output[str]:
        """Confluent's side of the link is an IAM principal of the network's gateway: the only one the
        endpoint service admits. The gateway reports it only when it is an egress PrivateLink gateway
        (TF resource_gateway.go), unconfirmed for a Confluent network's own: refuse with what to do."""

        def first(gateways: list[Any]) -> str:
            if not gateways or not gateways[0].principal_arn:
                raise ConfigError(
                    args.settings_file,
                    f"{NAMESPACE}:network.egressPrincipalArn",
                    "is required: the network's gateway reports no egress principal; read it in the Confluent "
                    "Console (the network's egress endpoints) and set it here",
                )
            return str(gateways[0].principal_arn)

        lookup = confluent.get_gateway_output(
            id=gateway_id,
            environment=pulumi.Output.from_input(args.environment_id).apply(
                lambda i: confluent.GetGatewayEnvironmentArgs(id=i)
            ),
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        return lookup.aws_egress_private_link_gateways.apply(first)

    def _writer_follower(self, name: str, args: DatabaseEgressArgs, path: list[pulumi.Resource]) -> pulumi.Resource:
        """The function, its triggers (the cluster's RDS events and a schedule), and its first run at
        deploy, which registers the writer and waits for it to pass the NLB's health check (so after
        `path`: the listener and the cluster's ingress rule from the NLB) before the connector starts."""
        child = pulumi.ResourceOptions(parent=self)
        role = execution_role(f"{name}-follower-role", child)
        aws.iam.RolePolicyAttachment(
            f"{name}-follower-logs",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-follower-targets",
            role=role.id,
            # Register/deregister on this one target group; DescribeTargetHealth takes no resource scope.
            policy=self.target_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "elasticloadbalancing:RegisterTargets",
                                    "elasticloadbalancing:DeregisterTargets",
                                ],
                                "Resource": arn,
                            },
                            {"Effect": "Allow", "Action": "elasticloadbalancing:DescribeTargetHealth", "Resource": "*"},
                        ],
                    }
                )
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-follower",
            runtime="python3.12",
            handler="handler.main",
            code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(FOLLOWER_HANDLER)}),
            role=role.arn,
            timeout=follower.TIMEOUT_S,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "CLUSTER_ARN": args.database.cluster.arn,
                    "WRITER_ENDPOINT": args.database.writer_endpoint,
                    "TARGET_GROUP_ARN": self.target_group.arn,
                    "PORT": str(POSTGRES_PORT),
                }
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        triggers = {
            "failover": aws.cloudwatch.EventRule(
                f"{name}-on-failover",
                description="RDS events of the CDC source cluster (the follower acts on failovers)",
                # On the cluster's ARN (`resources`), never `detail.SourceIdentifier`: AWS documents it both
                # with and without an `rds:` prefix (DATA-PLANE-FACTS.md, Aurora failover events).
                event_pattern=args.database.cluster.arn.apply(
                    lambda arn: json.dumps(
                        {"source": ["aws.rds"], "detail-type": ["RDS DB Cluster Event"], "resources": [arn]}
                    )
                ),
                opts=child,
            ),
            "schedule": aws.cloudwatch.EventRule(
                f"{name}-every-5-min", schedule_expression=FOLLOWER_SCHEDULE, opts=child
            ),
        }
        for kind, rule in triggers.items():
            invoke_on(f"{name}-{kind}", rule, function, child)
        return aws.lambda_.Invocation(
            f"{name}-first-target",
            function_name=function.name,
            input=json.dumps({"source": "cdc-platform.deploy"}),
            # Run again whenever the target group or the cluster is replaced.
            triggers={"target_group": self.target_group.arn, "cluster": args.database.cluster.cluster_identifier},
            opts=pulumi.ResourceOptions(parent=self, depends_on=path),
        )
