"""A route added to a deployed statement set gets its history: a bounded backfill statement, declared with
the successor and bounded where the predecessor stopped, removed by the next `up` (consecutive offline
plans through `cdcctl plan --outputs / --write-outputs`)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from cdcctl.plan import Plan, plan
from flink_sql.statement import bound_millis
from tests.helpers import edit_routes, of_type

NEW_ROUTE: dict[str, Any] = {
    "id": "big-loans",
    "outputTopic": "filtered-big-loans",
    "conditions": [{"field": "event_data.amount", "operator": "greaterThan", "value": 1000000}],
}


def outputs_of_plan(project: Path, name: str, *arguments: str) -> Path:
    """Plan dev as `cdcctl plan` does, recording its exports for the next plan."""
    written = project / name
    assert main(["plan", "--stack", "dev", "--write-outputs", str(written), *arguments]) == 0
    return written


def statements_after(project: Path, previous: Path) -> dict[str, Any]:
    recorded = json.loads(previous.read_text())
    return {r.inputs["statementName"]: r for r in of_type(plan("dev", project, previous=recorded), "FlinkStatement")}


@pytest.mark.plans
def test_an_added_route_is_backfilled_up_to_where_the_predecessor_stopped(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = outputs_of_plan(project, "first.json")
    predecessor = json.loads(first.read_text())["routingStatement"]["name"]
    edit_routes(project, lambda routes: routes.append(NEW_ROUTE))
    declared = statements_after(project, first)
    stopped = declared.pop(predecessor)
    (backfill,) = (s for name, s in declared.items() if "-backfill-" in name)
    (successor,) = (s for name, s in declared.items() if "-routes-" in name)
    sql = backfill.inputs["statement"]
    # Only the added route, into its topic, from the raw table's earliest record...
    assert sql.startswith("INSERT INTO `filtered-big-loans`") and sql.count("INSERT INTO") == 1
    assert "'scan.startup.mode' = 'earliest-offset'" in sql
    # ...up to the moment the provider reports for the stopped predecessor's offsets.
    stopped_at = datetime.fromisoformat(stopped.outputs["latestOffsetsTimestamp"].replace("Z", "+00:00"))
    assert f"'scan.bounded.timestamp-millis' = '{int(stopped_at.timestamp()) * 1000}'" in sql
    assert "'scan.bounded.mode' = 'timestamp'" in sql
    assert stopped.urn in backfill.dependencies
    assert backfill.inputs["stopped"] is False
    assert "sql.tables.initial-offset-from" not in backfill.inputs["properties"]
    assert successor.inputs["properties"]["sql.tables.initial-offset-from"] == predecessor
    assert backfill.inputs["properties"]["sql.current-catalog"] == successor.inputs["properties"]["sql.current-catalog"]
    name = backfill.inputs["statementName"]
    assert len(name) <= 72 and name.startswith("dev-backfill-")
    capsys.readouterr()


@pytest.mark.plans
def test_a_prod_backfill_is_not_protected_so_the_next_up_can_delete_it(plans: dict[str, Plan], project: Path) -> None:
    edit_routes(project, lambda routes: routes.append(NEW_ROUTE))
    second = plan("prod-east", project, previous=plans["prod-east"].raw_outputs)
    (backfill,) = [s for s in of_type(second, "FlinkStatement") if "-backfill-" in s.inputs["statementName"]]
    (running,) = [s for s in of_type(second, "FlinkStatement") if not s.inputs["stopped"] and "-routes-" in s.name]
    assert running.protect and not backfill.protect


@pytest.mark.plans
def test_the_next_up_removes_the_backfill_and_the_predecessor(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = outputs_of_plan(project, "first.json")
    edit_routes(project, lambda routes: routes.append(NEW_ROUTE))
    second = outputs_of_plan(project, "second.json", "--outputs", str(first))
    declared = statements_after(project, second)
    # Left: the raw table's settings (tests/test_bad_records.py) and the running generation.
    assert sorted(name.split("-")[1] for name in declared) == ["routes", "table"]
    assert all(s.inputs["stopped"] is False for s in declared.values())
    capsys.readouterr()


@pytest.mark.plans
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda routes: routes.append({**NEW_ROUTE, "backfill": False}), id="backfill-false"),
        pytest.param(lambda routes: routes[0].update(operations=["create", "update"]), id="changed-route"),
    ],
)
def test_no_backfill_without_an_added_backfilled_topic(
    project: Path, capsys: pytest.CaptureFixture[str], change: Any
) -> None:
    first = outputs_of_plan(project, "first.json")
    edit_routes(project, change)
    names = set(statements_after(project, first))
    assert not any("-backfill-" in name for name in names)
    capsys.readouterr()


def test_a_missing_offsets_timestamp_is_no_bound() -> None:
    """The provider formats an absent status timestamp as Go's zero time: a backfill bounded there would
    route nothing and say nothing."""
    for absent in ("0001-01-01T00:00:00Z", ""):
        with pytest.raises(ValueError, match="no offsets timestamp"):
            bound_millis(absent)
    assert bound_millis("2026-12-01T00:00:00Z") == "1796083200000"
