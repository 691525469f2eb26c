"""Alarms where the database lives: the Aurora writer's slot and WAL disk use, and RDS Proxy saturation,
into one SNS topic per region whose subscribers are a setting (aurora.alarms.subscribers).

Thresholds (README "Source health", next to the Prometheus alerts): the slot metrics alarm at
`aurora.alarms.slotWarningPercent` of `max_slot_wal_keep_size` (the ceiling the parameter group sets),
the proxy at `proxySaturationPercent` of its connections borrowed and at `proxyBorrowLatencyMs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from core import naming
from core.naming import COMPONENT
from settings.model import SourceHealthSettings

# Aurora publishes both per instance and per (DBClusterIdentifier, Role): Role=WRITER follows a failover.
# ReplicationSlotDiskUsage: bytes of slot files; TransactionLogsDiskUsage: WAL kept, -1 without logical
# replication (Aurora User Guide, Aurora metrics). OldestReplicationSlotLag is documented for RDS
# PostgreSQL only: no alarm on it here (README "Source health").
SLOT_METRICS = {"ReplicationSlotDiskUsage": "slot-disk", "TransactionLogsDiskUsage": "wal-disk"}
PERIOD_S = 300


@dataclass
class SourceAlarmsArgs:
    cluster_identifier: str
    proxy_name: pulumi.Input[str] | None  # the applications' RDS Proxy, when the stack has one
    settings: SourceHealthSettings
    name_prefix: str  # AWS names: unique per stack and region (naming.aws_name)


class SourceAlarms(pulumi.ComponentResource):
    """SNS topic + subscribers, and one CloudWatch alarm per source-side signal."""

    def __init__(self, name: str, args: SourceAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:SourceAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        health = args.settings
        self.topic = aws.sns.Topic(f"{name}-topic", name=naming.aws_name(args.name_prefix, "source-alarms"), opts=child)
        for index, subscriber in enumerate(health.subscribers):
            # email/https stay pending until the recipient confirms (the provider cannot delete a
            # pending one; deleting the topic does): README "Source health".
            aws.sns.TopicSubscription(
                f"{name}-subscriber-{index}",
                topic=self.topic.arn,
                protocol=subscriber.protocol,
                endpoint=subscriber.endpoint,
                opts=child,
            )
        actions = [self.topic.arn]
        writer = {"DBClusterIdentifier": args.cluster_identifier, "Role": "WRITER"}
        self.alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-{short}",
                name=naming.aws_name(args.name_prefix, short, limit=255),
                alarm_description=(
                    f"{metric} of {args.cluster_identifier}'s writer >= {health.slot_warning_percent}% of "
                    f"max_slot_wal_keep_size ({health.max_slot_wal_keep_size_mb} MB): a slot is not advancing. "
                    "Run `cdcctl slots status` (README Source health)."
                ),
                namespace="AWS/RDS",
                metric_name=metric,
                dimensions=writer,
                statistic="Maximum",
                period=PERIOD_S,
                evaluation_periods=1,
                threshold=health.slot_warning_bytes,
                comparison_operator="GreaterThanOrEqualToThreshold",
                # A stopped cluster (dev's idle stop) publishes nothing: that is no slot growing.
                treat_missing_data="notBreaching",
                alarm_actions=actions,
                ok_actions=actions,
                opts=child,
            )
            for metric, short in SLOT_METRICS.items()
        ]
        if args.proxy_name is not None:
            self.alarms += self._proxy_alarms(name, args, args.proxy_name, actions)
        self.register_outputs({"topic_arn": self.topic.arn})

    def _proxy_alarms(
        self, name: str, args: SourceAlarmsArgs, proxy_name: pulumi.Input[str], actions: list[pulumi.Output[str]]
    ) -> list[aws.cloudwatch.MetricAlarm]:
        """Saturation (connections borrowed / the pool's maximum) and borrow latency, per proxy (RDS Proxy
        metrics, dimension ProxyName; DatabaseConnectionsBorrowLatency is in microseconds)."""
        child = pulumi.ResourceOptions(parent=self)
        health = args.settings

        def metric(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/RDS",
                    metric_name=metric_name,
                    dimensions={"ProxyName": proxy_name},
                    period=PERIOD_S,
                    stat="Maximum",
                ),
            )

        saturation = aws.cloudwatch.MetricAlarm(
            f"{name}-proxy-saturation",
            name=naming.aws_name(args.name_prefix, "proxy-saturation", limit=255),
            alarm_description=(
                f"RDS Proxy borrows >= {health.proxy_saturation_percent}% of its maximum database connections: "
                "applications queue (connectionBorrowTimeout). Raise maxConnectionsPercent or the instance size."
            ),
            metric_queries=[
                metric("borrowed", "DatabaseConnectionsCurrentlyBorrowed"),
                metric("allowed", "MaxDatabaseConnectionsAllowed"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="saturation", expression="100 * borrowed / allowed", label="percent borrowed", return_data=True
                ),
            ],
            evaluation_periods=2,
            threshold=health.proxy_saturation_percent,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
        latency = aws.cloudwatch.MetricAlarm(
            f"{name}-proxy-borrow-latency",
            name=naming.aws_name(args.name_prefix, "proxy-borrow-latency", limit=255),
            alarm_description=(
                f"RDS Proxy takes >= {health.proxy_borrow_latency_ms} ms to lend a database connection: the pool "
                "is exhausted or the writer is slow to accept connections."
            ),
            namespace="AWS/RDS",
            metric_name="DatabaseConnectionsBorrowLatency",
            dimensions={"ProxyName": proxy_name},
            statistic="Average",
            period=PERIOD_S,
            evaluation_periods=2,
            threshold=health.proxy_borrow_latency_ms * 1000,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=child,
        )
        return [saturation, latency]
