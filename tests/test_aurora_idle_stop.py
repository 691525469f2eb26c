"""Aurora idle stop (dev, pr-N): the function's decisions on AWS responses shaped as AWS documents them
(tests/data/aurora_idle_stop, each file naming its source), the handler against recording fakes of the
RDS, CloudWatch and SSM clients (the real Lambda code path, AWS stood in), the settings that enable it,
and what the stacks register for it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cdcctl.plan import Plan, plan
from core.config_node import ConfigError
from settings.model import IdleStopSettings
from settings.parse import parse_settings
from tests.helpers import REPO, load_function, of_type, one

DATA = REPO / "tests/data/aurora_idle_stop"
CLUSTER = "cdc-dev-events"
NOW = datetime(2026, 11, 24, 7, 0, 12, tzinfo=UTC)  # when the fixtures' GetMetricData was asked
HOURS = 3


handler = load_function("aurora_idle_stop")


def _datetimes(value: Any) -> Any:
    """boto3 parses timestamp members into timezone-aware datetimes; the fixtures hold ISO strings."""
    if isinstance(value, dict):
        return {k: _datetimes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_datetimes(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def fixture(name: str) -> dict[str, Any]:
    document = json.loads((DATA / name).read_text())
    assert document.pop("_source").count("https://docs.aws.amazon.com/") >= 1  # every shape names its source
    return dict(_datetimes(document))


def cluster(status: str = "available", readers: int = 0) -> dict[str, Any]:
    entry = fixture("describe-db-clusters.json")["DBClusters"][0]
    entry["Status"] = status
    for n in range(readers):
        entry["DBClusterMembers"].append(
            {
                "DBInstanceIdentifier": f"cdc-dev-events-r{n + 1}",
                "IsClusterWriter": False,
                "DBClusterParameterGroupStatus": "in-sync",
                "PromotionTier": 1,
            }
        )
    return dict(entry)


def metrics(
    writer: list[float] | None = None, readers: list[float] | None = None, status: str = "Complete"
) -> dict[str, Any]:
    """The fixture's response with the writer's values replaced (same timestamps), and optionally a
    readers series on the same timestamps."""
    response = fixture("get-metric-data-idle.json")
    series = response["MetricDataResults"][0]
    if writer is not None:
        series["Values"] = writer
        series["Timestamps"] = series["Timestamps"][: len(writer)]
    series["StatusCode"] = status
    if readers is not None:
        response["MetricDataResults"].append(
            {**copy.deepcopy(series), "Id": "readers", "Values": readers, "StatusCode": "Complete"}
        )
    return response


def registered(*counts: str) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = fixture("get-parameters-by-path.json")["Parameters"]
    template = parameters[0]
    return [
        {**template, "Name": f"{template['Name'].rsplit('/', 1)[0]}/stack-{n}", "Value": c}
        for n, c in enumerate(counts)
    ]


IDLE = [3.0] * 35  # the fixture: 3 connections, the dev connector's, in every period since 04:00


# --- the decision ---------------------------------------------------------------------------------------


def test_a_cluster_with_only_its_connector_attached_for_the_whole_window_is_stopped() -> None:
    decision = handler.decide(cluster(), metrics(), ignored=3, now=NOW, hours=HOURS)
    assert decision.stop, decision.reason
    assert "idle for 3 h" in decision.reason


def test_one_extra_connection_in_one_period_is_activity() -> None:
    values = [*IDLE]
    values[20] = 4.0  # a psql session around 05:40
    decision = handler.decide(cluster(), metrics(values), ignored=3, now=NOW, hours=HOURS)
    assert not decision.stop
    assert "up to 4 connections on the writer, connectors hold 3" in decision.reason


def test_connectors_of_other_stacks_on_the_shared_cluster_are_not_activity() -> None:
    # dev and pr-42 both stream from cdc-dev-events: 6 connections, both registered.
    ignored = handler.ignored_connections(fixture("get-parameters-by-path.json")["Parameters"])
    assert ignored == 6
    assert handler.decide(cluster(), metrics([6.0] * 35), ignored=ignored, now=NOW, hours=HOURS).stop
    # With only dev's registered, pr-42's connector counts as activity: kept running (the safe side).
    assert not handler.decide(cluster(), metrics([6.0] * 35), ignored=3, now=NOW, hours=HOURS).stop


def test_a_connector_that_dropped_its_connections_does_not_make_the_cluster_look_busy() -> None:
    assert handler.decide(cluster(), metrics([0.0] * 35), ignored=3, now=NOW, hours=HOURS).stop


@pytest.mark.parametrize("status", ["stopped", "stopping", "starting", "backing-up", "modifying", "maintenance"])
def test_only_an_available_cluster_is_stopped(status: str) -> None:
    decision = handler.decide(cluster(status), metrics(), ignored=3, now=NOW, hours=HOURS)
    assert not decision.stop
    assert decision.reason == f"cluster is {status}: nothing to stop"


@pytest.mark.parametrize("status", ["PartialData", "InternalError", "Forbidden"])
def test_an_incomplete_metric_series_keeps_the_cluster_running(status: str) -> None:
    decision = handler.decide(cluster(), metrics(status=status), ignored=3, now=NOW, hours=HOURS)
    assert not decision.stop
    assert decision.reason.startswith("activity signal unavailable, kept running")


def test_a_cluster_started_less_than_the_window_ago_keeps_running() -> None:
    # Started at 05:02 after a stop: no points before 05:05 (the metric exists only while it runs).
    response = metrics()
    series = response["MetricDataResults"][0]
    series["Timestamps"], series["Values"] = series["Timestamps"][13:], series["Values"][13:]
    decision = handler.decide(cluster(), response, ignored=3, now=NOW, hours=HOURS)
    assert not decision.stop
    assert "22 of 36 5-minute points" in decision.reason


def test_periods_not_yet_aggregated_at_the_end_are_tolerated_but_no_more() -> None:
    assert handler.decide(cluster(), metrics(IDLE[:34]), ignored=3, now=NOW, hours=HOURS).stop  # 2 late
    assert not handler.decide(cluster(), metrics(IDLE[:33]), ignored=3, now=NOW, hours=HOURS).stop  # 3 missing


def test_a_gap_inside_the_window_voids_the_evidence() -> None:
    response = metrics()
    series = response["MetricDataResults"][0]
    del series["Timestamps"][10:14], series["Values"][10:14]  # 20 minutes without data (stopped, restarted)
    assert not handler.decide(cluster(), response, ignored=3, now=NOW, hours=HOURS).stop


def test_no_writer_series_in_the_response_keeps_the_cluster_running() -> None:
    response = metrics()
    response["MetricDataResults"] = []
    assert not handler.decide(cluster(), response, ignored=3, now=NOW, hours=HOURS).stop


def test_readers_must_be_idle_too_and_their_series_readable() -> None:
    assert handler.decide(cluster(readers=1), metrics(readers=[0.0] * 35), ignored=3, now=NOW, hours=HOURS).stop
    busy = [0.0] * 35
    busy[-1] = 1.0  # a report query on the reader
    decision = handler.decide(cluster(readers=1), metrics(readers=busy), ignored=3, now=NOW, hours=HOURS)
    assert not decision.stop and "on the readers" in decision.reason
    assert not handler.decide(cluster(readers=1), metrics(), ignored=3, now=NOW, hours=HOURS).stop  # no series


@pytest.mark.parametrize("value", ["three", "-1", "", "3.5", "100000"])
def test_a_registration_that_is_not_a_connection_count_voids_the_signal(value: str) -> None:
    with pytest.raises(handler.SignalUnavailable, match="is not a connection count"):
        handler.ignored_connections(registered("3", value))


def test_the_metric_query_asks_the_documented_metric_per_role_and_5_minutes() -> None:
    query = handler.metric_query(CLUSTER, NOW, HOURS, readers=True)
    assert query["StartTime"] == NOW - timedelta(hours=3) and query["EndTime"] == NOW
    writer, readers = query["MetricDataQueries"]
    assert writer["MetricStat"] == {
        "Metric": {
            "Namespace": "AWS/RDS",
            "MetricName": "DatabaseConnections",
            "Dimensions": [{"Name": "DBClusterIdentifier", "Value": CLUSTER}, {"Name": "Role", "Value": "WRITER"}],
        },
        "Period": 300,
        "Stat": "Maximum",
    }
    assert readers["Id"] == "readers" and readers["MetricStat"]["Metric"]["Dimensions"][1]["Value"] == "READER"
    assert [q["Id"] for q in handler.metric_query(CLUSTER, NOW, HOURS, readers=False)["MetricDataQueries"]] == [
        "writer"
    ]


def test_events_the_function_acts_on() -> None:
    assert handler.requested_action(fixture("scheduled-event.json")) == "check"
    assert handler.requested_action({"action": "start"}) == "start"
    assert handler.requested_action({"action": "check"}) == "check"
    assert handler.requested_action({"action": "stop"}) == "none"  # stopping is the function's decision only
    assert handler.requested_action({"source": "aws.rds", "detail-type": "RDS DB Cluster Event"}) == "none"


# --- the handler, AWS stood in by recording fakes -------------------------------------------------------


class Paginator:
    def __init__(self, pages: list[dict[str, Any]], calls: list[tuple[str, dict[str, Any]]]) -> None:
        self.pages, self.calls = pages, calls

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append(("get_parameters_by_path", kwargs))
        return self.pages


class Fake:
    """Answers the calls the handler makes with the given responses (an Exception is raised instead)."""

    def __init__(self, **responses: Any) -> None:
        self.responses = responses
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get_paginator(self, name: str) -> Paginator:
        assert name == "get_parameters_by_path"
        return Paginator(self.responses[name], self.calls)

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            answer = self.responses.get(name, {})
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def aws(status: str = "available", writer: list[float] | None = None, **overrides: Any) -> tuple[Fake, Fake, Fake]:
    rds = Fake(describe_db_clusters={"DBClusters": [cluster(status)]}, **overrides.pop("rds", {}))
    cloudwatch = Fake(get_metric_data=overrides.pop("metric_data", metrics(writer)))
    parameters = fixture("get-parameters-by-path.json")
    # Two pages, as the paginator returns them: dev's registration, then pr-42's.
    pages = overrides.pop(
        "pages", [{"Parameters": parameters["Parameters"][:1]}, {"Parameters": parameters["Parameters"][1:]}]
    )
    return rds, cloudwatch, Fake(get_parameters_by_path=pages)


@pytest.fixture(autouse=True)
def _function_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the stack sets on the function (asserted on the plan below)."""
    monkeypatch.setenv("CLUSTER_ID", CLUSTER)
    monkeypatch.setenv("INACTIVITY_HOURS", "3")
    monkeypatch.setenv("CONNECTIONS_PATH", f"/cdc-platform/aurora-idle-stop/{CLUSTER}")


def called(fake: Fake, name: str) -> list[dict[str, Any]]:
    return [kwargs for call, kwargs in fake.calls if call == name]


def test_the_hourly_check_stops_an_idle_cluster_once() -> None:
    rds, cloudwatch, ssm = aws(writer=[6.0] * 35)  # dev's and pr-42's connectors
    result = handler.main(fixture("scheduled-event.json"), None, clients=(rds, cloudwatch, ssm), now=NOW)
    assert result["action"] == "stop", result
    assert called(rds, "stop_db_cluster") == [{"DBClusterIdentifier": CLUSTER}]
    assert called(ssm, "get_parameters_by_path") == [
        {"Path": f"/cdc-platform/aurora-idle-stop/{CLUSTER}", "Recursive": True}
    ]
    (query,) = called(cloudwatch, "get_metric_data")
    assert query == handler.metric_query(CLUSTER, NOW, 3, readers=False)


def test_the_hourly_check_keeps_a_busy_cluster_and_says_why() -> None:
    values = [6.0] * 35
    values[-1] = 8.0
    rds, cloudwatch, ssm = aws(writer=values)
    result = handler.main(fixture("scheduled-event.json"), None, clients=(rds, cloudwatch, ssm), now=NOW)
    assert result == {
        "action": "keep",
        "cluster": CLUSTER,
        "reason": "active: up to 8 connections on the writer, connectors hold 6",
    }
    assert called(rds, "stop_db_cluster") == []


@pytest.mark.parametrize("failing", ["rds", "cloudwatch", "ssm"])
def test_any_unreadable_signal_keeps_the_cluster_running(failing: str) -> None:
    denied = RuntimeError("An error occurred (AccessDenied) when calling the operation: not authorized")
    rds, cloudwatch, ssm = aws()
    {"rds": rds, "cloudwatch": cloudwatch, "ssm": ssm}[failing].responses = {
        "describe_db_clusters": denied,
        "get_metric_data": denied,
        "get_parameters_by_path": [{"Parameters": [{"Name": "/x/dev", "Value": "lots"}]}],
    }
    result = handler.main({"action": "check"}, None, clients=(rds, cloudwatch, ssm), now=NOW)
    assert result["action"] == "keep" and result["reason"].startswith("signal unavailable")
    assert called(rds, "stop_db_cluster") == []


def test_a_stop_refused_by_rds_is_reported_not_raised() -> None:
    # Another stack's function on the same cluster stopped it a moment before.
    refused = RuntimeError("An error occurred (InvalidDBClusterStateFault) when calling the StopDBCluster operation")
    rds, cloudwatch, ssm = aws(writer=[6.0] * 35, rds={"stop_db_cluster": refused})
    result = handler.main(fixture("scheduled-event.json"), None, clients=(rds, cloudwatch, ssm), now=NOW)
    assert result["action"] == "keep" and "InvalidDBClusterStateFault" in result["reason"]


def test_the_start_path_starts_a_stopped_cluster_and_leaves_others_alone() -> None:
    rds, cloudwatch, ssm = aws("stopped")
    assert handler.main({"action": "start"}, None, clients=(rds, cloudwatch, ssm))["action"] == "start"
    assert called(rds, "start_db_cluster") == [{"DBClusterIdentifier": CLUSTER}]
    assert cloudwatch.calls == [] and ssm.calls == []
    rds, cloudwatch, ssm = aws("available")
    assert handler.main({"action": "start"}, None, clients=(rds, cloudwatch, ssm)) == {
        "action": "none",
        "cluster": CLUSTER,
        "reason": "cluster is available",
    }
    assert called(rds, "start_db_cluster") == []


def test_an_unknown_event_touches_nothing() -> None:
    rds, cloudwatch, ssm = aws()
    assert handler.main({"source": "aws.rds"}, None, clients=(rds, cloudwatch, ssm))["action"] == "none"
    assert rds.calls == cloudwatch.calls == ssm.calls == []


# --- settings -------------------------------------------------------------------------------------------


def dev_config(**idle_stop: Any) -> dict[str, str]:
    config = {
        "cdc-platform:layer": "all-in-one",
        "cdc-platform:region": "us-east-1",
        "cdc-platform:kafka": json.dumps({"type": "STANDARD"}),
        "cdc-platform:aurora": json.dumps({"clusterIdentifier": CLUSTER, "idleStop": idle_stop}),
    }
    return config


def idle_stop_of(config: dict[str, str], stack: str = "dev") -> IdleStopSettings | None:
    settings = parse_settings(config, stack)
    aurora = settings.region.aurora  # type: ignore[union-attr]
    assert aurora is not None
    return aurora.idle_stop


def refusal(config: dict[str, str], stack: str = "dev") -> str:
    with pytest.raises(ConfigError) as error:
        parse_settings(config, stack)
    return str(error.value)


def test_idle_stop_defaults_to_three_hours_and_the_connectors_three_connections() -> None:
    # The connector's own connections default to what its settings hold (3, 4 with the heartbeat).
    assert idle_stop_of(dev_config()) == IdleStopSettings(inactivity_hours=3, connector_connections=None)
    assert idle_stop_of(dev_config(inactivityHours=8, connectorConnections=4)) == IdleStopSettings(8, 4)
    assert idle_stop_of(dev_config(enabled=False)) is None


def test_a_protected_stack_refuses_idle_stop() -> None:
    config = {**dev_config(), "cdc-platform:protect": "true"}
    assert refusal(config, "prod-east") == (
        "Pulumi.prod-east.yaml: cdc-platform:aurora.idleStop: is refused in a protected stack: "
        "stopping the database would stop production CDC"
    )
    # Switched off explicitly, a protected stack accepts the key.
    assert idle_stop_of({**dev_config(enabled=False), "cdc-platform:protect": "true"}, "prod-east") is None


@pytest.mark.parametrize(
    ("idle_stop", "message"),
    [
        ({"inactivityHours": 0}, "cdc-platform:aurora.idleStop.inactivityHours: must be >= 1, got 0"),
        (
            {"inactivityHours": 169},
            "cdc-platform:aurora.idleStop.inactivityHours: must be <= 168 hours (a week), got 169",
        ),
        ({"inactivityHours": "3h"}, "cdc-platform:aurora.idleStop.inactivityHours: must be an integer, not a string"),
        ({"connectorConnections": -1}, "cdc-platform:aurora.idleStop.connectorConnections: must be >= 0, got -1"),
        ({"inactivityHour": 3}, "cdc-platform:aurora.idleStop"),
    ],
)
def test_bad_idle_stop_settings_name_the_key(idle_stop: dict[str, Any], message: str) -> None:
    assert message in refusal(dev_config(**idle_stop))


# --- what the stacks register ---------------------------------------------------------------------------


def idle_stop_resources(p: Plan) -> dict[str, Any]:
    return {r.type.rsplit(":", 1)[-1]: r for r in p.resources if "aurora-idle-stop" in r.name}


def test_dev_runs_the_function_hourly_with_its_settings(plans: dict[str, Plan]) -> None:
    p = plans["dev"]
    function = one(p, "Function", lambda r: "idle-stop" in r.name)
    assert function.inputs["environment"]["variables"] == {
        "CLUSTER_ID": CLUSTER,
        "INACTIVITY_HOURS": "3",
        "CONNECTIONS_PATH": f"/cdc-platform/aurora-idle-stop/{CLUSTER}",
    }
    assert function.inputs["handler"] == "handler.main" and function.inputs["runtime"].startswith("python3")
    # The archive holds the repo's handler, by a path relative to the project (where Pulumi runs).
    (path,) = [a["path"] for a in function.inputs["code"]["assets"].values()]
    assert (REPO / path).resolve() == (REPO / "functions/aurora_idle_stop/handler.py").resolve()
    assert one(p, "EventRule", lambda r: "idle-stop" in r.name).inputs["scheduleExpression"] == "rate(1 hour)"
    assert one(p, "Permission", lambda r: "idle-stop" in r.name).inputs["principal"] == "events.amazonaws.com"
    registration = one(p, "Parameter", lambda r: "idle-stop" in r.name)
    assert registration.inputs["name"] == f"/cdc-platform/aurora-idle-stop/{CLUSTER}/dev"
    assert registration.inputs["insecureValue"] == "4"  # dev's connector beats: its heartbeat has a connection
    assert one(p, "LogGroup", lambda r: "idle-stop" in r.name).inputs["retentionInDays"] == 14
    assert p.outputs["auroraIdleStopFunction"]


def test_the_function_may_stop_only_its_own_cluster(plans: dict[str, Plan]) -> None:
    policy = json.loads(one(plans["dev"], "RolePolicy", lambda r: "idle-stop" in r.name).inputs["policy"])
    by_action = {
        a: s["Resource"]
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    cluster_arn = f"arn:aws:rds:us-east-1:111122223333:cluster:{CLUSTER}"
    assert by_action["rds:StopDBCluster"] == by_action["rds:StartDBCluster"] == cluster_arn
    assert by_action["cloudwatch:GetMetricData"] == "*"  # the action takes no resource scope
    assert all(
        r.startswith("arn:aws:ssm:us-east-1:111122223333:parameter/cdc-platform/aurora-idle-stop/cdc-dev-events")
        for r in by_action["ssm:GetParametersByPath"]
    )
    assert set(by_action) == {
        "rds:DescribeDBClusters",
        "rds:StopDBCluster",
        "rds:StartDBCluster",
        "cloudwatch:GetMetricData",
        "ssm:GetParametersByPath",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


@pytest.mark.parametrize("stack", ["prod", "prod-east", "prod-west"])
def test_prod_never_stops_its_database(plans: dict[str, Plan], stack: str) -> None:
    assert idle_stop_resources(plans[stack]) == {}
    assert of_type(plans[stack], "Function") == [] or all(
        "idle" not in r.name for r in of_type(plans[stack], "Function")
    )
    assert "auroraIdleStopFunction" not in plans[stack].outputs


@pytest.mark.plans
def test_a_pr_stack_copied_from_dev_registers_its_own_connector(project: Path) -> None:
    (project / "Pulumi.pr-42.yaml").write_text((project / "Pulumi.dev.yaml").read_text())
    registration = one(plan("pr-42", project), "Parameter", lambda r: "idle-stop" in r.name)
    assert registration.inputs["name"] == f"/cdc-platform/aurora-idle-stop/{CLUSTER}/pr-42"


# --- the connections a streaming connector holds, on the real engine ------------------------------------


@pytest.mark.engine
@pytest.mark.parametrize("heartbeat_ms", [60_000, 0])
def test_a_streaming_debezium_connector_holds_the_connections_idle_stop_ignores(
    tmp_path: Path, heartbeat_ms: int
) -> None:
    """Open-source Debezium (the engine `cdcctl rehearse` runs, with the stack's own connector settings),
    streaming and idle, on a real PostgreSQL: the connections DatabaseConnections would count for it,
    which `aurora.idleStop.connectorConnections` defaults to (the heartbeat's action query has its own)."""
    import dataclasses
    import time

    from cdcctl.stack_config import stack_settings
    from core.cdc_source import held_connections
    from rehearsal.cdc import _slot_active, debezium_capture, source_database
    from settings.model import region_settings

    cdc = dataclasses.replace(region_settings(stack_settings("dev", REPO)).cdc, heartbeat_interval_ms=heartbeat_ms)
    with source_database(cdc) as source:
        pg = source.pg
        properties = source.debezium_properties("raw-business-events")
        with debezium_capture(properties, tmp_path / "captured.jsonl") as capture:
            capture.wait_until(lambda: _slot_active(pg, cdc.slot_name), "streaming")
            time.sleep(3)  # settled: no snapshot or start-up connection left
            rows = pg.psql(
                "-A",
                "-t",
                "-c",
                "SELECT backend_type FROM pg_stat_activity "
                f"WHERE usename = '{cdc.user}' AND client_addr IS NOT NULL ORDER BY backend_type",
            )
    # Two JDBC connections (idle), the heartbeat's own when it beats, and the replication stream: all
    # network connections of the connector.
    clients = 3 if heartbeat_ms else 2
    assert rows.splitlines() == ["client backend"] * clients + ["walsender"]
    assert held_connections(cdc) == len(rows.splitlines()) == clients + 1
