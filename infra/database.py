"""The AWS database side: Aurora's logical-replication parameter group and the apps' RDS Proxy."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.naming import COMPONENT
from settings.model import AuroraSettings, ProxySettings

POSTGRES_PORT = 5432


def proxy_trust_policy(partition: str, account_id: str, region: str) -> dict[str, object]:
    """Only RDS, acting for a DB proxy of this account and region, may assume the proxy's role: the
    confused-deputy guard (aws:SourceAccount / aws:SourceArn) AWS recommends for service roles. The
    proxy's own ARN does not exist before the role, hence the `db-proxy:*` pattern."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "rds.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:rds:{region}:{account_id}:db-proxy:*"},
                },
            }
        ],
    }


@dataclass
class ProxyArgs:
    settings: ProxySettings
    region: str
    app_password: pulumi.Input[str]  # a Pulumi secret: the login the proxy presents to Aurora


@dataclass
class AuroraDatabaseArgs:
    aurora: AuroraSettings
    name_prefix: str  # AWS names: unique per stack and region (made valid by naming.aws_name)
    protect: bool  # prod: the proxy and its login secret survive a mistaken delete
    proxy: ProxyArgs | None  # RDS Proxy for the applications, if the settings ask for one


class AuroraDatabase(pulumi.ComponentResource):
    """An existing Aurora cluster (by identifier), its CDC parameter group, and RDS Proxy for apps.

    Outputs: `writer_endpoint` for the connector, `proxy_endpoint` for the applications.
    """

    def __init__(self, name: str, args: AuroraDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:AuroraDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        aurora = args.aurora
        cluster = aws.rds.get_cluster_output(
            cluster_identifier=aurora.cluster_identifier, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.writer_endpoint: pulumi.Output[str] = cluster.endpoint
        self.cluster = cluster
        # The cluster's first VPC security group (the cluster is referenced, not managed, here): the one
        # the program's rules open port 5432 on.
        self.cluster_group: pulumi.Output[str] = cluster.vpc_security_group_ids.apply(lambda groups: groups[0])
        self.parameter_group = aws.rds.ClusterParameterGroup(
            f"{name}-cdc-params",
            name=naming.aws_name(args.name_prefix, "cdc"),
            family=aurora.parameter_group_family,
            description="Logical replication for the CDC connector (attach to the cluster, reboot the writer)",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="rds.logical_replication", value="1", apply_method="pending-reboot"
                ),
                # The slot's WAL ceiling (MB; a cluster-level parameter in the Aurora PostgreSQL
                # parameter reference; PostgreSQL reloads it without a restart). Past it the slot is
                # `lost` and the connector must re-snapshot: README "Source health".
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="max_slot_wal_keep_size",
                    value=str(aurora.source_health.max_slot_wal_keep_size_mb),
                    apply_method="immediate",
                ),
            ],
            opts=child,
        )
        self.proxy_endpoint: pulumi.Output[str] | None = None
        self.proxy_name: pulumi.Output[str] | None = None  # for the proxy's alarms (infra/source_alarms.py)
        if args.proxy is not None:
            self.proxy_endpoint = self._proxy(name, args, args.proxy, cluster)
        self.register_outputs({"writer_endpoint": self.writer_endpoint, "proxy_endpoint": self.proxy_endpoint})

    def admit(self, name: str, source: aws.ec2.SecurityGroup, why: str) -> aws.vpc.SecurityGroupIngressRule:
        """Let `source`'s members reach the cluster on 5432: without this rule nothing they send is
        admitted (the cluster's groups know nothing of the program's)."""
        return aws.vpc.SecurityGroupIngressRule(
            name,
            security_group_id=self.cluster_group,
            referenced_security_group_id=source.id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description=why,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _proxy(
        self,
        name: str,
        args: AuroraDatabaseArgs,
        proxy_args: ProxyArgs,
        cluster: pulumi.Output[aws.rds.GetClusterResult],
    ) -> pulumi.Output[str]:
        proxy_settings = proxy_args.settings
        region = proxy_args.region
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        secret = aws.secretsmanager.Secret(
            f"{name}-proxy-credentials",
            name=f"{naming.aws_name(args.name_prefix)}/rds-proxy/{proxy_settings.app_user}",
            description="Database login RDS Proxy uses for the applications",
            # 0 = delete at once (allowed: 0 or 7-30 days, default 30): an unprotected stack can be
            # re-created right after a destroy; a deleted name stays taken for the whole window.
            recovery_window_in_days=None if args.protect else 0,
            opts=kept,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-proxy-credentials-value",
            secret_id=secret.id,
            # Stays a secret: the password is one, and json_dumps keeps that.
            secret_string=pulumi.Output.json_dumps(
                {"username": proxy_settings.app_user, "password": proxy_args.app_password}
            ),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-proxy-role",
            assume_role_policy=aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).apply(
                lambda caller: json.dumps(proxy_trust_policy(caller.arn.split(":")[1], caller.account_id, region))
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-proxy-read-secret",
            role=role.id,
            # Only this one secret: the proxy reads the login it presents to Aurora.
            policy=secret.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}],
                    }
                )
            ),
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-proxy-sg",
            description="Applications to RDS Proxy (PostgreSQL)",
            vpc_id=proxy_settings.vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=POSTGRES_PORT,
                    to_port=POSTGRES_PORT,
                    cidr_blocks=list(proxy_settings.client_cidrs),
                )
            ],
            # Out to the cluster only: no open range in a prod security group.
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp", from_port=POSTGRES_PORT, to_port=POSTGRES_PORT, security_groups=[self.cluster_group]
                )
            ],
            opts=child,
        )
        self.admit(f"{name}-cluster-from-proxy", security_group, "RDS Proxy for the applications")
        proxy = aws.rds.Proxy(
            f"{name}-proxy",
            name=naming.aws_name(args.name_prefix, "apps"),
            engine_family="POSTGRESQL",
            role_arn=role.arn,
            vpc_subnet_ids=list(proxy_settings.subnet_ids),
            vpc_security_group_ids=[security_group.id],
            require_tls=True,
            auths=[
                aws.rds.ProxyAuthArgs(
                    auth_scheme="SECRETS",
                    iam_auth="DISABLED",
                    secret_arn=secret.arn,
                    client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                )
            ],
            opts=kept,
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-proxy-pool",
            db_proxy_name=proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=proxy_settings.max_connections_percent,
                max_idle_connections_percent=proxy_settings.max_idle_connections_percent,
                connection_borrow_timeout=proxy_settings.connection_borrow_timeout,
            ),
            opts=child,
        )
        aws.rds.ProxyTarget(
            f"{name}-proxy-target",
            db_proxy_name=proxy.name,
            target_group_name=target_group.name,
            db_cluster_identifier=cluster.cluster_identifier,
            opts=child,
        )
        self.proxy_name = proxy.name
        return proxy.endpoint
