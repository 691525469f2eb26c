"""What a new user meets, tried as one would: a condition path no record contains is warned about
(route, condition, path, and the path the records do have), a diff against a base equal to the working
tree says so and suggests one, a new consumer's principal, keys and bindings are listed per stack, and
offline consumer endpoints say they are made up."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from cdcctl.commands import rehearse as rehearse_command
from cdcctl.commands import routes_diff as routes_diff_command
from cdcctl.plan import plan
from flink_sql.routes import load_routes, parse_routes
from rehearsal.routing import absent_path_warnings, read_records
from tests.helpers import (
    REPO,
    bindings_of,
    deployed_loan_consumer_outputs,
    edit_routes,
    edit_stack,
    of_type,
    principal_ids,
)
from tests.test_routes_diff import RISK_READER, committed

SAMPLES = REPO / "flink_sql/samples/raw-records.jsonl"
FULL_PATH = "event_data.eventBody.entities[0].updatedAttributes.loan.loanAmount"


def big_loans(field: str) -> dict[str, Any]:
    return {
        "id": "big-loans",
        "outputTopic": "filtered-big-loans",
        "conditions": [
            {"field": "event_type", "operator": "equals", "value": "LoanCreated"},
            {"field": field, "operator": "greaterThan", "value": 40000},
        ],
    }


def test_the_shipped_routes_only_name_paths_the_samples_contain() -> None:
    routes = load_routes(REPO / "flink_sql/routes.yaml")
    assert absent_path_warnings("flink_sql/routes.yaml", routes, read_records(SAMPLES)) == []


def test_a_shortened_path_is_named_with_route_condition_and_the_full_path() -> None:
    shortened = big_loans("event_data.loanAmount") | {"id": "b", "outputTopic": "t-b"}
    routes = parse_routes({"routes": [big_loans(FULL_PATH), shortened]}, "r")
    (warning,) = absent_path_warnings("r.yaml", routes, read_records(SAMPLES))
    assert warning.startswith("warning: r.yaml: routes[1].conditions[1].field: route b: event_data.loanAmount is in")
    assert warning.endswith(f"; the records have {FULL_PATH}")


def test_a_disabled_route_and_raw_columns_are_not_warned_about() -> None:
    disabled = big_loans("event_data.nowhere") | {"enabled": False}
    column = {"id": "c", "outputTopic": "t-c", "conditions": [{"field": "saved_date", "operator": "isNull"}]}
    routes = parse_routes({"routes": [disabled, column]}, "r")
    assert absent_path_warnings("r.yaml", routes, read_records(SAMPLES)) == []


def test_rehearse_warns_on_stderr_before_routing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = tmp_path / "routes.yaml"
    routes.write_text(json.dumps({"routes": [big_loans("event_data.loanAmount")]}))
    monkeypatch.setattr(rehearse_command, "rehearse", lambda *args: {"filtered-big-loans": 0})  # no Flink
    monkeypatch.setattr(rehearse_command, "rehearsal_kafka", lambda *args: contextlib.nullcontext())  # no broker
    args = ["rehearse", "--routes", str(routes), "--records", str(SAMPLES), "--out", str(tmp_path / "out")]
    assert main(args) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [line for line in warnings if "routes[0].conditions[1].field: route big-loans" in line]
    assert len(warnings) == 1


def test_routes_diff_warns_about_the_working_trees_routes(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    committed(project)
    edit_routes(project, lambda routes: routes.append(big_loans("event_data.loanAmount")))
    monkeypatch.setattr(routes_diff_command, "rehearse_both", lambda *args: [])  # no Flink
    assert main(["routes", "diff", "--base", "HEAD"]) == 0
    (warning,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert "routes[4].conditions[1].field: route big-loans: event_data.loanAmount" in warning


def test_a_diff_with_nothing_changed_says_so_and_suggests_a_base(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committed(project)
    assert main(["routes", "diff", "--base", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "nothing changed: the routes equal HEAD's" in out
    assert "--base origin/main" in out and "--base HEAD~1" in out


@pytest.mark.plans
def test_offline_consumer_endpoints_are_marked_as_mock_and_deployed_ones_are_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["consumer", "loan-consumer", "--stack", "prod-east"]) == 0
    mock = [line for line in capsys.readouterr().out.splitlines() if line.startswith("# MOCK ENDPOINTS: ")]
    assert len(mock) == 1 and ".aws.confluent.cloud:9092 and https://" in mock[0]
    outputs = deployed_loan_consumer_outputs(tmp_path, group_prefix="x-")
    assert main(["consumer", "loan-consumer", "--stack", "prod-east", "--outputs", str(outputs)]) == 0
    assert "MOCK" not in capsys.readouterr().out
    assert main(["consumer", "loan-consumer", "--stack", "prod-east", "--outputs", str(outputs), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mockEndpoints"] is False


@pytest.mark.plans
def test_a_new_consumer_lists_per_stack_what_the_plans_then_register(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    committed(project)
    risk = {"id": "risk", "outputTopic": "filtered-risk", "consumer": "risk-consumer", "operations": ["create"]}
    edit_routes(project, lambda routes: routes.append(risk))
    for region_stack in ("prod-east", "prod-west"):  # protected: who reads its keys is named with it
        edit_stack(project, region_stack, {"credentials.consumers.risk-consumer.readers": [RISK_READER]})
    monkeypatch.setattr(routes_diff_command, "rehearse_both", lambda *args: [])  # no Flink
    assert main(["routes", "diff", "--base", "HEAD", "--json"]) == 0
    added = {a["stack"]: a for a in json.loads(capsys.readouterr().out)["newConsumers"]}
    assert set(added) == {"dev", "prod", "prod-east", "prod-west"}
    assert [s for s, a in added.items() if a["serviceAccount"]] == ["dev", "prod"]
    prod = plan("prod", project)
    assert "risk-consumer" in principal_ids(prod)
    east = plan("prod-east", project)
    principal = principal_ids(prod)["risk-consumer"]
    held = {(role, crn.rsplit("/", 1)[-1]) for role, crn in bindings_of(east, principal)}
    assert held == {(b["role"], b["resource"]) for b in added["prod-east"]["bindings"]}
    keys = [k for k in of_type(east, "ApiKey") if k.inputs["owner"]["id"] == principal.removeprefix("User:")]
    assert len(keys) == len(added["prod-east"]["apiKeys"]) == 2
