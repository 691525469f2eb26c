"""Stops a non-production Aurora cluster after a period without activity, and starts it on request.

Deployed only in unprotected stacks (dev, pr-N: the settings refuse it in a protected stack), invoked
hourly by an EventBridge schedule, and by a developer with `{"action": "start"}` (README "Aurora
idle stop"). The decision is pure (`decide`, `ignored_connections`, `metric_query`); `main` only wires
AWS in. boto3 comes with the Lambda runtime: it is not a dependency of the program.

The activity signal is one the program owns: the cluster's own CloudWatch metric `DatabaseConnections`
(AWS/RDS, dimensions DBClusterIdentifier + Role), the highest count in each 5-minute period. It counts
client network connections only, not the engine's or Aurora's own sessions (AWS docs: "Amazon
CloudWatch metrics for Amazon Aurora"), so on an idle cluster it equals the connections the CDC
connectors hold: Debezium's replication connection and its two JDBC connections, every minute of the
day. Those are not activity: each stack whose connector reads the cluster registers how many it holds
under one SSM path, and their sum is subtracted. Anything above it, a psql session, an application,
a migration, is activity. CommitThroughput is not used: nothing documents that it leaves out Aurora's
own sessions, and the connectors' own reads would have to be told apart from the applications'.

Fail-safe: whatever cannot be read (the cluster, the registered connections, a metric series that is
incomplete or does not cover the whole window) keeps the cluster running.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

PERIOD_SECONDS = 300  # RDS publishes every minute; the maximum of each 5-minute period is enough
# The newest periods may not be aggregated yet when the function runs (RDS metrics arrive about a
# minute late): that many may be missing at the end of the window without voiding the evidence.
LATE_POINTS_TOLERATED = 2
MAX_CONNECTIONS_PER_STACK = 1000  # a registered count above this is a mistake, not a connector


class SignalUnavailable(Exception):
    """The activity signal could not be read or trusted: the cluster keeps running."""


@dataclass(frozen=True)
class Decision:
    stop: bool
    reason: str


def requested_action(event: Mapping[str, Any]) -> str:
    """`check` for the hourly schedule (or an explicit `{"action": "check"}`), `start` for a developer's
    `{"action": "start"}`, `none` for anything else."""
    action = event.get("action")
    if action in ("start", "check"):
        return str(action)
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return "check"
    return "none"


def ignored_connections(parameters: Iterable[Mapping[str, Any]]) -> int:
    """The connections the stacks' CDC connectors hold on the cluster: the sum of the registered counts
    (GetParametersByPath's `Parameters`, one per stack). A value that is not a count voids the signal."""
    total = 0
    for parameter in parameters:
        value = str(parameter.get("Value", "")).strip()
        if not value.isdigit() or int(value) > MAX_CONNECTIONS_PER_STACK:
            raise SignalUnavailable(f"{parameter.get('Name')}: {value!r} is not a connection count")
        total += int(value)
    return total


def has_readers(cluster: Mapping[str, Any]) -> bool:
    return any(not member.get("IsClusterWriter") for member in cluster.get("DBClusterMembers") or [])


def metric_query(cluster_id: str, now: datetime, hours: int, readers: bool) -> dict[str, Any]:
    """GetMetricData arguments: the writer's (and the readers') highest connection count per 5 minutes
    over the last `hours`."""

    def connections(query_id: str, role: str) -> dict[str, Any]:
        dimensions = [{"Name": "DBClusterIdentifier", "Value": cluster_id}, {"Name": "Role", "Value": role}]
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": "AWS/RDS", "MetricName": "DatabaseConnections", "Dimensions": dimensions},
                "Period": PERIOD_SECONDS,
                "Stat": "Maximum",
            },
            "ReturnData": True,
        }

    queries = [connections("writer", "WRITER")] + ([connections("readers", "READER")] if readers else [])
    return {
        "MetricDataQueries": queries,
        "StartTime": now - timedelta(hours=hours),
        "EndTime": now,
        "ScanBy": "TimestampAscending",
    }


def _series(results: Sequence[Mapping[str, Any]], query_id: str, start: datetime, hours: int) -> list[float]:
    """One query's values, only if the series is complete and covers the whole window."""
    found = [r for r in results if r.get("Id") == query_id]
    if not found:
        raise SignalUnavailable(f"no {query_id} series in the response")
    series = found[0]
    if series.get("StatusCode") != "Complete":
        raise SignalUnavailable(f"{query_id} series is {series.get('StatusCode')}: {series.get('Messages')}")
    timestamps: list[datetime] = list(series.get("Timestamps") or [])
    values = [float(v) for v in series.get("Values") or []]
    expected = hours * 3600 // PERIOD_SECONDS
    if len(timestamps) != len(values):
        raise SignalUnavailable(f"{query_id} series has {len(timestamps)} timestamps for {len(values)} values")
    if len(values) < expected - LATE_POINTS_TOLERATED or min(timestamps) > start + timedelta(seconds=PERIOD_SECONDS):
        # Stopped, starting or not yet created for part of the window: not enough evidence of idleness.
        first = min(timestamps).isoformat() if timestamps else "none"
        raise SignalUnavailable(
            f"{query_id}: {len(values)} of {expected} 5-minute points since {start.isoformat()} (first {first})"
        )
    return values


def decide(
    cluster: Mapping[str, Any],
    metrics: Mapping[str, Any],
    ignored: int,
    now: datetime,
    hours: int,
) -> Decision:
    """Stop only an `available` cluster whose writer never had more connections than the connectors'
    own (`ignored`) and whose readers had none, in every 5-minute period of the last `hours`.
    `cluster`: one DescribeDBClusters entry; `metrics`: the GetMetricData response for `metric_query`."""
    status = cluster.get("Status")
    if status != "available":
        return Decision(False, f"cluster is {status}: nothing to stop")
    start = now - timedelta(hours=hours)
    results = metrics.get("MetricDataResults") or []
    try:
        writer = _series(results, "writer", start, hours)
        readers = _series(results, "readers", start, hours) if has_readers(cluster) else []
    except SignalUnavailable as unreadable:
        return Decision(False, f"activity signal unavailable, kept running: {unreadable}")
    if max(writer) > ignored:
        return Decision(False, f"active: up to {max(writer):g} connections on the writer, connectors hold {ignored}")
    if readers and max(readers) > 0:
        return Decision(False, f"active: up to {max(readers):g} connections on the readers")
    return Decision(True, f"idle for {hours} h: at most {max(writer):g} connections, all the connectors' ({ignored})")


def _parameters(ssm: Any, path: str) -> list[Mapping[str, Any]]:
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True)
    return [parameter for page in pages for parameter in page.get("Parameters", [])]


def _clients() -> tuple[Any, Any, Any]:
    import boto3  # the Lambda runtime's; not a dependency of the program

    return boto3.client("rds"), boto3.client("cloudwatch"), boto3.client("ssm")


def _log(result: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps(result))
    return result


def start(rds: Any, cluster_id: str) -> dict[str, Any]:
    """The start path: a stopped cluster is started; any other state is reported as it is."""
    status = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]["Status"]
    if status != "stopped":
        return _log({"action": "none", "cluster": cluster_id, "reason": f"cluster is {status}"})
    rds.start_db_cluster(DBClusterIdentifier=cluster_id)
    return _log({"action": "start", "cluster": cluster_id, "reason": "started on request"})


def main(
    event: Mapping[str, Any],
    context: object,
    clients: tuple[Any, Any, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Lambda entry point (CLUSTER_ID, INACTIVITY_HOURS, CONNECTIONS_PATH in the environment)."""
    cluster_id = os.environ["CLUSTER_ID"]
    hours = int(os.environ["INACTIVITY_HOURS"])
    action = requested_action(event)
    if action == "none":
        return _log({"action": "none", "cluster": cluster_id, "reason": "not a schedule or a start request"})
    rds, cloudwatch, ssm = clients or _clients()
    if action == "start":
        return start(rds, cluster_id)
    now = now or datetime.now(UTC)
    try:
        cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
        ignored = ignored_connections(_parameters(ssm, os.environ["CONNECTIONS_PATH"]))
        metrics = cloudwatch.get_metric_data(**metric_query(cluster_id, now, hours, has_readers(cluster)))
    except Exception as error:  # fail-safe: an unreadable signal never stops the cluster
        return _log({"action": "keep", "cluster": cluster_id, "reason": f"signal unavailable: {error}"})
    decision = decide(cluster, metrics, ignored, now, hours)
    if not decision.stop:
        return _log({"action": "keep", "cluster": cluster_id, "reason": decision.reason})
    try:
        rds.stop_db_cluster(DBClusterIdentifier=cluster_id)
    except Exception as error:  # e.g. InvalidDBClusterStateFault: another stack's function got there first
        return _log({"action": "keep", "cluster": cluster_id, "reason": f"stop refused: {error}"})
    return _log({"action": "stop", "cluster": cluster_id, "reason": decision.reason})
