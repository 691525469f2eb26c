"""Safe replacement of the routing statement, shown on consecutive program runs (mock runtime).

Each run's `previous` is the exports of the run before, as Pulumi would read them back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cdcctl.plan import Plan, PlannedResource, plan
from tests.helpers import copy_project, of_type

CARRY_OVER = "sql.tables.initial-offset-from"
NEW_ROUTE = {
    "id": "big-loans",
    "outputTopic": "filtered-big-loans",
    "conditions": [{"field": "event_data.amount", "operator": "greaterThan", "value": 1000000}],
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_project(tmp_path, ("prod", "prod-east", "dev"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def add_route(project: Path, route: dict[str, object]) -> None:
    path = project / "flink_sql/routes.yaml"
    document = yaml.safe_load(path.read_text())
    document["routes"].append(route)
    path.write_text(yaml.safe_dump(document))


def statements(p: Plan) -> dict[str, PlannedResource]:
    return {r.inputs["statementName"]: r for r in of_type(p, "FlinkStatement")}


@pytest.mark.parametrize("stack", ["prod-east", "dev"])
def test_first_deployment_declares_one_running_statement_set(project: Path, stack: str) -> None:
    (statement,) = statements(plan(stack, project)).values()
    assert statement.inputs["stopped"] is False
    assert CARRY_OVER not in statement.inputs["properties"]
    assert statement.inputs["statement"].startswith("EXECUTE STATEMENT SET")
    assert statement.replace_on_changes == ["properties"]


def test_unchanged_routes_redeclare_the_same_statement(project: Path) -> None:
    first = plan("prod-east", project)
    second = plan("prod-east", project, previous=first.raw_outputs)
    assert [r.as_json() for r in of_type(second, "FlinkStatement")] == [
        r.as_json() for r in of_type(first, "FlinkStatement")
    ]


def test_changed_routes_start_a_successor_from_the_stopped_predecessor(project: Path) -> None:
    first = plan("prod-east", project)
    (old,) = statements(first).values()
    add_route(project, NEW_ROUTE)
    second = plan("prod-east", project, previous=first.raw_outputs)
    declared = statements(second)
    assert len(declared) == 2
    stopped = declared.pop(old.inputs["statementName"])
    (successor,) = declared.values()
    # The predecessor is stopped in place (only `stopped` differs), not deleted.
    assert stopped.name == old.name
    assert {k: v for k, v in stopped.inputs.items() if k != "stopped"} == {
        k: v for k, v in old.inputs.items() if k != "stopped"
    }
    assert stopped.inputs["stopped"] is True
    assert successor.inputs["stopped"] is False
    assert successor.inputs["properties"][CARRY_OVER] == old.inputs["statementName"]
    assert "`filtered-big-loans`" in successor.inputs["statement"]
    assert stopped.urn in successor.dependencies
    assert second.outputs["routingStatement"]["name"] == successor.inputs["statementName"]


def test_older_generations_are_removed_and_the_running_one_keeps_its_inputs(project: Path) -> None:
    first = plan("prod-east", project)
    add_route(project, NEW_ROUTE)
    second = plan("prod-east", project, previous=first.raw_outputs)
    third = plan("prod-east", project, previous=second.raw_outputs)
    (running,) = of_type(third, "FlinkStatement")
    successor = statements(second)[running.inputs["statementName"]]
    assert running.as_json() == successor.as_json()

    add_route(project, {**NEW_ROUTE, "id": "huge-loans", "outputTopic": "filtered-huge-loans"})
    fourth = plan("prod-east", project, previous=third.raw_outputs)
    names = set(statements(fourth))
    assert running.inputs["statementName"] in names and len(names) == 2
    assert not names & set(statements(first))  # the first generation is gone


def test_statement_names_are_valid_and_carry_a_hash_of_their_sql(project: Path) -> None:
    first = statements(plan("prod-east", project))
    add_route(project, NEW_ROUTE)
    second = statements(plan("prod-east", project))
    for name in [*first, *second]:
        assert len(name) <= 72
        assert name[0].isalnum() and name[-1].isalnum()
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert set(first) != set(second)
