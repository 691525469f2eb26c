"""Safe replacement of the routing statement, shown on consecutive program runs (mock runtime).

Each run's `previous` is the exports of the run before, as Pulumi would read them back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cdcctl.mocks import LOOKUPS
from cdcctl.plan import Plan, PlannedResource, plan
from tests.helpers import edit_routes, edit_stack, of_type, one

CARRY_OVER = "sql.tables.initial-offset-from"
NEW_ROUTE = {
    "id": "big-loans",
    "outputTopic": "filtered-big-loans",
    "conditions": [{"field": "event_data.amount", "operator": "greaterThan", "value": 1000000}],
}


pytestmark = pytest.mark.plans


def add_route(project: Path, route: dict[str, object]) -> None:
    edit_routes(project, lambda routes: routes.append(route))


def statements(p: Plan) -> dict[str, PlannedResource]:
    """The routing statement's generations (an added route's backfill apart: tests/test_backfill.py, and
    the raw table's settings: tests/test_bad_records.py)."""
    return {r.inputs["statementName"]: r for r in of_type(p, "FlinkStatement") if "-routes-" in r.name}


def backfills(p: Plan) -> list[PlannedResource]:
    return [r for r in of_type(p, "FlinkStatement") if "-backfill-" in r.name]


@pytest.mark.parametrize("stack", ["prod-east", "dev"])
def test_first_deployment_declares_one_running_statement_set(plans: dict[str, Plan], stack: str) -> None:
    (statement,) = statements(plans[stack]).values()
    assert statement.inputs["stopped"] is False
    assert CARRY_OVER not in statement.inputs["properties"]
    assert statement.inputs["statement"].startswith("EXECUTE STATEMENT SET")
    # A same-named statement cannot exist twice: a replacement Confluent forces deletes first.
    assert statement.delete_before_replace


def test_unchanged_routes_redeclare_the_same_statement(project: Path, plans: dict[str, Plan]) -> None:
    first = plans["prod-east"]
    second = plan("prod-east", project, previous=first.raw_outputs)
    assert [r.as_json() for r in of_type(second, "FlinkStatement")] == [
        r.as_json() for r in of_type(first, "FlinkStatement")
    ]


def test_changed_routes_start_a_successor_from_the_stopped_predecessor(project: Path, plans: dict[str, Plan]) -> None:
    first = plans["prod-east"]
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
    (backfill,) = backfills(second)  # the added route's history
    assert backfill.inputs["statement"].startswith("INSERT INTO `filtered-big-loans`")


def test_older_generations_are_removed_and_the_running_one_keeps_its_inputs(
    project: Path, plans: dict[str, Plan]
) -> None:
    first = plans["prod-east"]
    add_route(project, NEW_ROUTE)
    second = plan("prod-east", project, previous=first.raw_outputs)
    third = plan("prod-east", project, previous=second.raw_outputs)
    (running,) = statements(third).values()
    successor = statements(second)[running.inputs["statementName"]]
    assert running.as_json() == successor.as_json()

    add_route(project, {**NEW_ROUTE, "id": "huge-loans", "outputTopic": "filtered-huge-loans"})
    fourth = plan("prod-east", project, previous=third.raw_outputs)
    names = set(statements(fourth))
    assert running.inputs["statementName"] in names and len(names) == 2
    assert not names & set(statements(first))  # the first generation is gone


def test_statement_names_are_valid_and_carry_a_hash_of_their_sql(project: Path, plans: dict[str, Plan]) -> None:
    first = statements(plans["prod-east"])
    add_route(project, NEW_ROUTE)
    second = statements(plan("prod-east", project))
    for name in [*first, *second]:
        assert len(name) <= 72
        assert name[0].isalnum() and name[-1].isalnum()
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert set(first) != set(second)


def assert_carried_over(first: Plan, second: Plan) -> tuple[PlannedResource, PlannedResource]:
    """The second run stops the first run's statement in place and starts a successor from it."""
    (old,) = statements(first).values()
    declared = statements(second)
    stopped = declared.pop(old.inputs["statementName"])
    (successor,) = declared.values()
    assert stopped.name == old.name and stopped.inputs["stopped"] is True
    assert {k: v for k, v in stopped.inputs.items() if k != "stopped"} == {
        k: v for k, v in old.inputs.items() if k != "stopped"
    }
    assert successor.inputs["properties"][CARRY_OVER] == old.inputs["statementName"]
    return stopped, successor


def test_changed_properties_take_the_carry_over_path_not_a_replacement(project: Path, plans: dict[str, Plan]) -> None:
    """A renamed environment changes `sql.current-catalog`: the provider would fail an update of
    `properties` (PR #1118), and a same-named replacement would re-read the raw topic."""
    first = plans["dev"]
    edit_stack(project, "dev", {"environment": {"name": "cdc-dev-renamed", "streamGovernance": "ESSENTIALS"}})
    second = plan("dev", project, previous=first.raw_outputs)
    _, successor = assert_carried_over(first, second)
    assert successor.inputs["properties"]["sql.current-catalog"] == "cdc-dev-renamed"


def test_a_new_flink_endpoint_takes_the_carry_over_path(project: Path, plans: dict[str, Plan]) -> None:
    """`rest_endpoint` forces replacement: going private declares a successor on the private endpoint."""
    first = plans["dev"]
    prod_east = yaml.safe_load((project / "Pulumi.prod-east.yaml").read_text())["config"]
    edit_stack(project, "dev", {"network": prod_east["cdc-platform:network"]})
    second = plan("dev", project, previous=first.raw_outputs)
    stopped, successor = assert_carried_over(first, second)
    assert stopped.inputs["restEndpoint"] == first_endpoint(first)
    network = one(second, "Network")
    assert successor.inputs["restEndpoint"] == "https://flink" + network.outputs["endpointSuffix"]


def first_endpoint(p: Plan) -> str:
    (statement,) = statements(p).values()
    return str(statement.inputs["restEndpoint"])


def test_prod_statements_use_the_private_flink_endpoint_and_dev_the_public_one(plans: dict[str, Plan]) -> None:
    prod_east = plans["prod-east"]
    suffix = one(prod_east, "Network").outputs["endpointSuffix"]
    assert first_endpoint(prod_east) == f"https://flink{suffix}"
    assert ".private." not in suffix and suffix.startswith(".")
    dev = plans["dev"]  # the public endpoint is the Flink region's (a lookup)
    assert first_endpoint(dev) == LOOKUPS["getFlinkRegion"]({"region": "us-east-1"})["restEndpoint"]


def deployer_keys(p: Plan) -> dict[str, PlannedResource]:
    return {r.name: r for r in of_type(p, "ApiKey") if "deployer-key" in r.name}


def test_key_rotation_submits_a_successor_with_the_new_key_and_retires_the_old_one(
    project: Path, plans: dict[str, Plan]
) -> None:
    first = plans["dev"]
    (old_key,) = deployer_keys(first).values()
    edit_stack(project, "dev", {"flink.deployerKeyGeneration": 2})
    second = plan("dev", project, previous=first.raw_outputs)
    stopped, successor = assert_carried_over(first, second)
    keys = deployer_keys(second)
    assert set(keys) == {old_key.name, old_key.name + "-g2"}
    # The predecessor is stopped with the key it was submitted with (its credentials, a secret, are
    # unchanged: see assert_carried_over); the successor is submitted with the new one.
    new_key = keys[old_key.name + "-g2"]
    assert old_key.urn in stopped.dependencies and new_key.urn not in stopped.dependencies
    assert new_key.urn in successor.dependencies and old_key.urn not in successor.dependencies
    assert new_key.inputs["owner"] == old_key.inputs["owner"]
    # The next run drops the predecessor and with it the old key.
    third = plan("dev", project, previous=second.raw_outputs)
    assert set(deployer_keys(third)) == {old_key.name + "-g2"}
    (running,) = statements(third).values()
    assert running.as_json() == successor.as_json()


def test_keying_the_routed_topics_replaces_an_unkeyed_deployment_by_carry_over(project: Path) -> None:
    """The keyed INSERTs are new SQL, hence a new statement name: the statement deployed before keys
    existed (its INSERTs named the value columns only) is stopped and the keyed one starts from its
    offsets, so no raw record is re-read or skipped."""
    keyed = plan("prod-east", project)
    exported = dict(keyed.raw_outputs["routingStatement"])
    unkeyed_sql = exported["sql"].replace("`key_id`, ", "").replace("`id` AS `key_id`, ", "")
    assert "key_id" not in unkeyed_sql and unkeyed_sql != exported["sql"]
    unkeyed = {**exported, "name": "prod-east-routes-924c18bb89", "sql": unkeyed_sql}
    declared = statements(plan("prod-east", project, previous={**keyed.raw_outputs, "routingStatement": unkeyed}))
    stopped = declared.pop("prod-east-routes-924c18bb89")
    (successor,) = declared.values()
    assert stopped.inputs["stopped"] is True and stopped.inputs["statement"] == unkeyed_sql
    assert successor.inputs["statement"] == exported["sql"] and "`id` AS `key_id`" in exported["sql"]
    assert successor.inputs["properties"][CARRY_OVER] == "prod-east-routes-924c18bb89"
    assert stopped.urn in successor.dependencies
