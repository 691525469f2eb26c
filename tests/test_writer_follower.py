"""The NLB writer follower's decisions on event payloads shaped as AWS documents them, and its handler
against a recording ELBv2 client (the real Lambda code path, AWS stood in by a fake)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import load_function

handler = load_function("writer_follower")
CLUSTER = "cdc-prod-east-events"
ARN = f"arn:aws:rds:us-east-1:111122223333:cluster:{CLUSTER}"


def rds_cluster_event(
    event_id: str, message: str, categories: list[str], cluster: str = CLUSTER, source_identifier: str | None = None
) -> dict[str, Any]:
    """EventBridge "RDS DB Cluster Event" (AWS docs: Amazon RDS events in EventBridge, example event)."""
    return {
        "version": "0",
        "id": "844e2571-85d4-695f-b930-0153b71dcb42",
        "detail-type": "RDS DB Cluster Event",
        "source": "aws.rds",
        "account": "111122223333",
        "time": "2026-11-24T07:10:12Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:rds:us-east-1:111122223333:cluster:{cluster}"],
        "detail": {
            "EventCategories": categories,
            "SourceType": "CLUSTER",
            "SourceArn": f"arn:aws:rds:us-east-1:111122223333:cluster:{cluster}",
            "Date": "2026-11-24T07:10:12.123Z",
            "Message": message,
            "SourceIdentifier": cluster if source_identifier is None else source_identifier,
            "EventID": event_id,
        },
    }


SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "111122223333",
    "time": "2026-11-24T07:15:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:111122223333:rule/cdc-writer-follower-every-5-min"],
    "detail": {},
}


def target(ip: str, state: str = "healthy") -> dict[str, Any]:
    """One TargetHealthDescriptions entry of ELBv2 DescribeTargetHealth."""
    return {
        "Target": {"Id": ip, "Port": 5432, "AvailabilityZone": "us-east-1a"},
        "HealthCheckPort": "5432",
        "TargetHealth": {"State": state},
    }


@pytest.mark.parametrize(
    "event_id, message",
    [
        ("RDS-EVENT-0071", "A failover for the DB cluster has finished."),
        ("RDS-EVENT-0072", "A failover for the DB cluster has started within the same Availability Zone."),
    ],
)
def test_a_finished_failover_of_the_cluster_re_points_the_target(event_id: str, message: str) -> None:
    act, why = handler.should_reconcile(rds_cluster_event(event_id, message, ["failover"]), ARN)
    assert act and event_id in why


def test_other_clusters_and_other_events_are_ignored() -> None:
    other = rds_cluster_event("RDS-EVENT-0071", "Completed failover", ["failover"], cluster="another-cluster")
    assert handler.should_reconcile(other, ARN)[0] is False
    backup = rds_cluster_event("RDS-EVENT-0075", "Finished DB cluster snapshot", ["backup"])
    assert handler.should_reconcile(backup, ARN)[0] is False
    assert handler.should_reconcile({"source": "aws.ec2", "detail": {}}, ARN)[0] is False


@pytest.mark.parametrize("identifier", [CLUSTER, f"rds:{CLUSTER}", "something-else"])
def test_the_cluster_is_matched_on_its_arn_whatever_source_identifier_says(identifier: str) -> None:
    """AWS shows `detail.SourceIdentifier` as `rds:<cluster>` in its samples and bare in a captured event."""
    event = rds_cluster_event("RDS-EVENT-0071", "Completed failover", ["failover"], source_identifier=identifier)
    assert handler.should_reconcile(event, ARN)[0]
    only_source_arn = {**event, "resources": []}
    assert handler.should_reconcile(only_source_arn, ARN)[0]


def test_the_schedule_and_the_deployment_always_reconcile() -> None:
    assert handler.should_reconcile(SCHEDULED, ARN)[0]
    assert handler.should_reconcile({"source": "cdc-platform.deploy"}, ARN)[0]


def test_after_a_failover_the_new_writer_replaces_the_old_one() -> None:
    change = handler.reconcile("10.10.2.17", [target("10.10.1.23", "unhealthy")])
    assert change == handler.Change(register=("10.10.2.17",), deregister=("10.10.1.23",))


def test_a_target_already_on_the_writer_is_left_alone() -> None:
    assert handler.reconcile("10.10.2.17", [target("10.10.2.17")]) == handler.Change((), ())


def test_a_draining_old_target_is_not_deregistered_again() -> None:
    change = handler.reconcile("10.10.2.17", [target("10.10.1.23", "draining"), target("10.10.2.17", "initial")])
    assert change == handler.Change((), ())


def test_an_empty_group_after_the_first_deploy_gets_the_writer() -> None:
    assert handler.reconcile("10.10.1.23", []) == handler.Change(("10.10.1.23",), ())


class RecordingElbv2:
    """Registered targets start `initial` and pass the health check after `healthy_after` more describes."""

    def __init__(self, targets: list[dict[str, Any]], healthy_after: int = 1) -> None:
        self.targets = targets
        self.healthy_after = healthy_after
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_target_health(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe", kwargs))
        if any(t["TargetHealth"]["State"] == "initial" for t in self.targets):
            self.healthy_after -= 1
            if self.healthy_after < 0:
                self.targets = [target(t["Target"]["Id"]) for t in self.targets]
        return {"TargetHealthDescriptions": self.targets}

    def register_targets(self, **kwargs: Any) -> None:
        self.calls.append(("register", kwargs))
        self.targets = [*self.targets, *(target(t["Id"], "initial") for t in kwargs["Targets"])]

    def deregister_targets(self, **kwargs: Any) -> None:
        self.calls.append(("deregister", kwargs))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> str:
    group = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/cdc-writer/0123456789abcdef"
    monkeypatch.setenv("CLUSTER_ARN", ARN)
    monkeypatch.setenv("TARGET_GROUP_ARN", group)
    monkeypatch.setenv("WRITER_ENDPOINT", f"{CLUSTER}.cluster-abc.us-east-1.rds.amazonaws.com")
    monkeypatch.setenv("PORT", "5432")
    return group


def test_the_handler_moves_the_target_after_a_failover(environment: str) -> None:
    elbv2 = RecordingElbv2([target("10.10.1.23", "unhealthy")])
    event = rds_cluster_event("RDS-EVENT-0071", "Completed failover to DB instance: x-2", ["failover"])
    result = handler.main(event, None, resolve=lambda host: "10.10.2.17", elbv2=elbv2)
    assert result["changed"] and result["writer"] == "10.10.2.17"
    assert elbv2.calls[1:] == [  # on an event, no health wait
        ("register", {"TargetGroupArn": environment, "Targets": [{"Id": "10.10.2.17", "Port": 5432}]}),
        ("deregister", {"TargetGroupArn": environment, "Targets": [{"Id": "10.10.1.23", "Port": 5432}]}),
    ]


def test_an_unresolvable_writer_keeps_the_current_target(environment: str) -> None:
    def fail(host: str) -> str:
        raise OSError("Name or service not known")

    elbv2 = RecordingElbv2([target("10.10.1.23")])
    result = handler.main(SCHEDULED, None, resolve=fail, elbv2=elbv2)
    assert result["changed"] is False and "unresolved" in result["reason"]
    assert elbv2.calls == []


def test_an_ignored_event_touches_nothing(environment: str) -> None:
    elbv2 = RecordingElbv2([])
    backup = rds_cluster_event("RDS-EVENT-0075", "Finished DB cluster snapshot", ["backup"])
    assert handler.main(backup, None, resolve=lambda host: "10.0.0.1", elbv2=elbv2)["changed"] is False
    assert elbv2.calls == []


def test_the_real_resolver_is_the_default() -> None:
    assert handler.main.__defaults__[0] is handler.socket.gethostbyname
    assert Path(handler.__file__).name == "handler.py"


class AccessDenied(Exception):
    """botocore's ClientError shape: `response["Error"]["Code"]`."""

    def __init__(self) -> None:
        super().__init__("AccessDenied")
        self.response = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform RegisterTargets"}}


class DeniedAtFirst(RecordingElbv2):
    def __init__(self, denials: int) -> None:
        super().__init__([])
        self.denials = denials

    def describe_target_health(self, **kwargs: Any) -> dict[str, Any]:
        if self.denials:
            self.denials -= 1
            raise AccessDenied()
        return super().describe_target_health(**kwargs)


DEPLOY = {"source": "cdc-platform.deploy"}


class LambdaContext:
    """The Lambda context's clock: remaining time shrinks by every sleep."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.waits: list[float] = []

    def get_remaining_time_in_millis(self) -> int:
        return int(self.left * 1000)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.left -= seconds


def test_at_deploy_a_role_still_propagating_is_waited_for(environment: str) -> None:
    context = LambdaContext(handler.TIMEOUT_S)
    elbv2 = DeniedAtFirst(denials=2)
    result = handler.main(DEPLOY, context, resolve=lambda host: "10.10.1.23", elbv2=elbv2, sleep=context.sleep)
    assert result["changed"] and context.waits[:2] == [handler.DEPLOY_BACKOFF_S, 2 * handler.DEPLOY_BACKOFF_S]


def test_at_deploy_the_run_ends_once_the_writer_passes_the_health_check(environment: str) -> None:
    context = LambdaContext(handler.TIMEOUT_S)
    elbv2 = RecordingElbv2([], healthy_after=3)
    handler.main(DEPLOY, context, resolve=lambda host: "10.10.1.23", elbv2=elbv2, sleep=context.sleep)
    assert context.waits == [handler.HEALTH_POLL_S] * 3
    assert elbv2.targets == [target("10.10.1.23")]


def test_at_deploy_every_wait_fits_the_function_timeout(environment: str) -> None:
    """Lasting denial, then a writer that never turns healthy: both fail the run inside the timeout."""
    context = LambdaContext(handler.TIMEOUT_S)
    with pytest.raises(AccessDenied):
        handler.main(DEPLOY, context, resolve=lambda host: "10.10.1.23", elbv2=DeniedAtFirst(99), sleep=context.sleep)
    assert sum(context.waits) <= handler.TIMEOUT_S - handler.MARGIN_S
    context = LambdaContext(handler.TIMEOUT_S)
    never = RecordingElbv2([], healthy_after=10**6)
    with pytest.raises(RuntimeError, match="does the Aurora security group admit the NLB"):
        handler.main(DEPLOY, context, resolve=lambda host: "10.10.1.23", elbv2=never, sleep=context.sleep)
    assert handler.TIMEOUT_S - 2 * handler.MARGIN_S < sum(context.waits) <= handler.TIMEOUT_S - handler.MARGIN_S


def test_at_deploy_lasting_denial_and_an_unresolvable_writer_fail_the_run(environment: str) -> None:
    with pytest.raises(AccessDenied):
        handler.main(DEPLOY, None, resolve=lambda host: "10.10.1.23", elbv2=DeniedAtFirst(99), sleep=lambda s: None)
    assert handler.DEPLOY_BACKOFF_S * sum(range(1, handler.DEPLOY_ATTEMPTS)) <= handler.TIMEOUT_S - handler.MARGIN_S

    def fail(host: str) -> str:
        raise OSError("Name or service not known")

    with pytest.raises(RuntimeError, match="cannot resolve the writer endpoint"):
        handler.main(DEPLOY, None, resolve=fail, elbv2=RecordingElbv2([]))


def test_on_the_schedule_a_denial_is_not_retried(environment: str) -> None:
    with pytest.raises(AccessDenied):
        handler.main(SCHEDULED, None, resolve=lambda host: "10.10.1.23", elbv2=DeniedAtFirst(1), sleep=lambda s: 1 / 0)
