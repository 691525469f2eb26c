"""Keeps the CDC egress NLB's one IP target on the Aurora cluster's current WRITER.

The managed connector reaches the private Aurora cluster through an egress PrivateLink endpoint, an
endpoint service and an internal NLB whose target group holds IP targets. Confluent calls a static IP
target test-only: the writer's IP changes on every failover. RDS Proxy cannot carry logical
replication. So this function re-points the target: on an RDS failover event of the cluster
(EventBridge), on a schedule (the safety net for events missed or not emitted), and once at deploy.

The writer's IP is what the cluster (writer) endpoint resolves to: RDS publishes it in public DNS as the
writer instance's private address, so the function needs no VPC. The decision is pure
(`reconcile`, `should_reconcile`); `main` only wires AWS in. boto3 comes with the Lambda runtime.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# RDS-EVENT-0071, "A failover for the DB cluster has finished." (AWS docs: Amazon RDS event categories
# and event messages for Aurora, DB cluster events). Any other event of the "failover" category also
# re-checks: reconciling is idempotent, and the 5-minute schedule covers a check made too early.
FAILOVER_DONE = "RDS-EVENT-0071"
# The function's timeout (infra/database_egress.py sets it from here): every wait of a run fits in it,
# with MARGIN_S left to report.
TIMEOUT_S = 60
MARGIN_S = 5.0
# A new function's role may not be usable for some seconds (IAM propagation): the run at deploy retries
# (2 + 4 + 6 = 12 s at most).
DEPLOY_ATTEMPTS = 4
DEPLOY_BACKOFF_S = 2.0
# At deploy the run then waits for the NLB's TCP health check to pass on the writer (the target group
# checks every 10 s, healthy after 2: infra/database_egress.py), so the connector never starts on a target
# the NLB does not forward to (no route, or the Aurora security group not admitting the NLB).
HEALTH_POLL_S = 5.0


@dataclass(frozen=True)
class Change:
    register: tuple[str, ...]
    deregister: tuple[str, ...]


def should_reconcile(event: Mapping[str, Any], cluster_arn: str) -> tuple[bool, str]:
    """Whether this invocation re-points the target, and why (for the log). An RDS event is the cluster's
    when its ARN is in `resources` or is `detail.SourceArn` (EventBridge's RDS event sample); never by
    `detail.SourceIdentifier`, documented both as `rds:<cluster>` and as the bare name."""
    if event.get("source") == "aws.rds":
        detail = event.get("detail") or {}
        if cluster_arn not in (event.get("resources") or []) and detail.get("SourceArn") != cluster_arn:
            return False, f"event for {detail.get('SourceArn')!r}, not {cluster_arn!r}"
        if "failover" in (detail.get("EventCategories") or []) or detail.get("EventID") == FAILOVER_DONE:
            return True, f"{detail.get('EventID')}: {detail.get('Message', '')}".strip()
        return False, f"{detail.get('EventID')} is not a failover"
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return True, "scheduled check"
    if event.get("source") == "cdc-platform.deploy":
        return True, "deployment"
    return False, f"unknown event source {event.get('source')!r}"


def reconcile(writer_ip: str, targets: list[Mapping[str, Any]]) -> Change:
    """The target group must hold exactly the writer's IP (`targets`: DescribeTargetHealth's
    TargetHealthDescriptions). A target already draining is left alone."""
    registered = {t["Target"]["Id"] for t in targets if t.get("TargetHealth", {}).get("State") != "draining"}
    return Change(
        register=() if writer_ip in registered else (writer_ip,),
        deregister=tuple(sorted(registered - {writer_ip})),
    )


class Budget:
    """The seconds a run may still wait: the Lambda context's remaining time (the full TIMEOUT_S without
    one) less MARGIN_S, spent by every sleep."""

    def __init__(self, context: object, sleep: Callable[[float], None]) -> None:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        self.left = (remaining() / 1000 if callable(remaining) else TIMEOUT_S) - MARGIN_S
        self._sleep = sleep

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds` if they fit; False (and no sleep) when they do not."""
        if seconds > self.left:
            return False
        self.left -= seconds
        self._sleep(seconds)
        return True


def main(
    event: Mapping[str, Any],
    context: object,
    resolve: Callable[[str], str] = socket.gethostbyname,
    elbv2: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Lambda entry point (TARGET_GROUP_ARN, WRITER_ENDPOINT, CLUSTER_ARN, PORT in the environment).
    At deploy a failure raises, so `pulumi up` fails before the connector starts on an empty or unhealthy
    target group; on events and the schedule an unresolvable writer keeps the current target (fail safe)."""
    act, why = should_reconcile(event, os.environ["CLUSTER_ARN"])
    if not act:
        print(f"ignored: {why}")
        return {"changed": False, "reason": why}
    deploying = event.get("source") == "cdc-platform.deploy"
    if elbv2 is None:
        import boto3  # type: ignore[import-not-found]  # the Lambda runtime's; not a dependency of the program

        elbv2 = boto3.client("elbv2")
    group, port = os.environ["TARGET_GROUP_ARN"], int(os.environ.get("PORT", "5432"))
    try:
        writer_ip = resolve(os.environ["WRITER_ENDPOINT"])
    except OSError as error:
        if deploying:
            raise RuntimeError(f"cannot resolve the writer endpoint {os.environ['WRITER_ENDPOINT']}: {error}") from None
        # Fail safe: keep the current target (a wrong target is worse than a stale one); retry next run.
        print(f"kept targets: cannot resolve the writer endpoint ({error})")
        return {"changed": False, "reason": f"unresolved writer endpoint: {error}"}
    budget = Budget(context, sleep)
    attempts = DEPLOY_ATTEMPTS if deploying else 1
    for attempt in range(1, attempts + 1):
        try:
            change = _apply(elbv2, group, port, writer_ip)
            break
        except Exception as error:
            if (
                attempt == attempts
                or _error_code(error) != "AccessDenied"
                or not budget.wait(DEPLOY_BACKOFF_S * attempt)
            ):
                raise
            print(f"access denied (attempt {attempt}: the role may still be propagating); retried")
    print(f"{why}: writer {writer_ip}; registered {list(change.register)}, deregistered {list(change.deregister)}")
    if deploying:
        _wait_until_healthy(elbv2, group, writer_ip, budget)
    return {"changed": bool(change.register or change.deregister), "writer": writer_ip, "reason": why}


def _wait_until_healthy(elbv2: Any, group: str, writer_ip: str, budget: Budget) -> None:
    """At deploy: the writer's target passes the NLB's health check within the budget, or the run fails."""
    while True:
        health = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        states = {t["Target"]["Id"]: t.get("TargetHealth", {}).get("State") for t in health}
        if states.get(writer_ip) == "healthy":
            return
        if not budget.wait(HEALTH_POLL_S):
            raise RuntimeError(
                f"the writer's target {writer_ip} is {states.get(writer_ip) or 'not registered'}, not healthy, "
                f"within the function's {TIMEOUT_S} s: does the Aurora security group admit the NLB's on 5432?"
            )


def _apply(elbv2: Any, group: str, port: int, writer_ip: str) -> Change:
    health = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    change = reconcile(writer_ip, health)
    if change.register:
        elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": ip, "Port": port} for ip in change.register])
    if change.deregister:
        elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": ip, "Port": port} for ip in change.deregister])
    return change


def _error_code(error: Exception) -> str:
    """botocore's ClientError code (error.response["Error"]["Code"]), without importing botocore."""
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
