"""Non-production savings: stop the stack's Aurora cluster after hours without activity (dev, pr-N).

    EventBridge schedule (hourly) -> function (functions/aurora_idle_stop/handler.py)
      reads: the cluster (RDS), its DatabaseConnections per 5 minutes (CloudWatch), and the connections
             the stacks' CDC connectors hold on it (SSM parameters under one path, one per stack)
      does:  StopDBCluster when nothing but the connectors was connected for `inactivityHours`;
             StartDBCluster when a developer invokes it with {"action": "start"}

dev and its pr-N copies share one cluster: each stack registers its own connector's connections
(`<path>/<stack>`) and each stack's function subtracts the sum, so another stack's idle connector is
never mistaken for activity, and a destroyed stack takes its registration with it. Several stacks'
functions reach the same decision on the same cluster; a second stop request is refused by RDS and
logged. The settings refuse this component in a protected stack; the constructor refuses it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.naming import COMPONENT
from infra.functions import execution_role, invoke_on
from settings.model import IdleStopSettings

# Relative to the project directory, where Pulumi runs the program: the archive's content, not this
# machine's path, decides whether the function changes.
HANDLER = "functions/aurora_idle_stop/handler.py"
SCHEDULE = "rate(1 hour)"
# Where stacks register the connections their CDC connectors hold, per cluster: <path>/<cluster>/<stack>.
CONNECTIONS_PATH = "/cdc-platform/aurora-idle-stop"
LOG_RETENTION_DAYS = 14


def connections_path(cluster_identifier: str) -> str:
    return f"{CONNECTIONS_PATH}/{cluster_identifier}"


@dataclass
class AuroraIdleStopArgs:
    cluster_identifier: str  # the existing Aurora cluster (settings: aurora.clusterIdentifier)
    region: str
    settings: IdleStopSettings
    connector_connections: int  # what this stack's connector holds on the cluster (0 without one)
    stack: str
    name_prefix: str  # AWS names: unique per stack and region (naming.aws_name)
    protect: bool


def _policy(partition: str, account: str, region: str, cluster: str, function_name: str) -> str:
    """Exactly what the function does: read, stop and start this one cluster, read its metrics (GetMetricData
    takes no resource scope), read the connectors' registrations, write its own log group."""
    arn = f"arn:{partition}:{{}}:{region}:{account}:{{}}"
    path = connections_path(cluster)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["rds:DescribeDBClusters", "rds:StopDBCluster", "rds:StartDBCluster"],
                    "Resource": arn.format("rds", f"cluster:{cluster}"),
                },
                {"Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "ssm:GetParametersByPath",
                    "Resource": [arn.format("ssm", f"parameter{path}"), arn.format("ssm", f"parameter{path}/*")],
                },
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": arn.format("logs", f"log-group:/aws/lambda/{function_name}:*"),
                },
            ],
        }
    )


class AuroraIdleStop(pulumi.ComponentResource):
    """The registration of this stack's connector connections, the function, its role and log group,
    and the hourly schedule. Output: `function_name` (the start path invokes it)."""

    def __init__(self, name: str, args: AuroraIdleStopArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.protect:
            raise ValueError("AuroraIdleStop is never deployed in a protected stack (prod)")
        super().__init__(f"{COMPONENT}:AuroraIdleStop", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster = args.cluster_identifier
        function_name = naming.aws_name(args.name_prefix, "idle-stop")
        # Counted out of the activity signal by every function watching this cluster; removed with the stack.
        aws.ssm.Parameter(
            f"{name}-connector-connections",
            name=f"{connections_path(cluster)}/{args.stack}",
            type="String",
            insecure_value=str(args.connector_connections),  # a count, not a secret: readable in plans
            description=f"Connections the CDC connector of stack {args.stack} holds on this Aurora cluster",
            opts=child,
        )
        # Created before the function, so Lambda never creates it itself without a retention.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child,
        )
        role = execution_role(f"{name}-role", child)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        policy = aws.iam.RolePolicy(
            f"{name}-permissions",
            role=role.id,
            policy=pulumi.Output.all(caller.arn, caller.account_id).apply(
                lambda v: _policy(v[0].split(":")[1], v[1], args.region, cluster, function_name)
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description="Stops the non-production Aurora cluster after hours without activity",
            runtime="python3.12",
            handler="handler.main",
            code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(HANDLER)}),
            role=role.arn,
            timeout=60,
            memory_size=128,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "CLUSTER_ID": cluster,
                    "INACTIVITY_HOURS": str(args.settings.inactivity_hours),
                    "CONNECTIONS_PATH": connections_path(cluster),
                }
            ),
            # Its permissions exist before its first run; its log group before its first line.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, log_group]),
        )
        schedule = aws.cloudwatch.EventRule(
            f"{name}-hourly",
            description="Hourly idle check of the non-production Aurora cluster",
            schedule_expression=SCHEDULE,
            opts=child,
        )
        invoke_on(f"{name}-hourly", schedule, function, child)
        self.function_name: pulumi.Output[str] = function.name
        self.register_outputs({"function_name": self.function_name})
