"""`cdcctl routes diff`: a real routes change against a committed base in a temporary git repository.

The expected gains and losses are computed here from the committed sample with plain Python, from the
rules as written; the command gets them from real Flink."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from cdcctl.commands.sql import stack_statements
from cdcctl.route_diff import route_changes
from cdcctl.stack_config import stack_settings
from core.naming import SAMPLE_RECORDS_FILE, statement_kind
from flink_sql.routes import load_routes
from tests.helpers import REPO, copy_project, edit_routes, edit_stack, the_one_error_line

REGION_STACKS = ("dev", "prod-east", "prod-west")
ROUTES = "flink_sql/routes.yaml"
SAMPLE = [json.loads(line) for line in (REPO / SAMPLE_RECORDS_FILE).read_text(encoding="utf-8").splitlines()]
LARGE_PAYMENTS = {
    "id": "large-payments",
    "outputTopic": "filtered-large-payments",
    "consumer": "risk-consumer",
    "operations": ["create", "update"],
    "conditions": [
        {"field": "event_type", "operator": "in", "values": ["LoanPaymentSubmitted", "LoanPaymentFailed"]},
        {
            "field": "event_data.eventBody.entities[0].updatedAttributes.payment.amount",
            "operator": "greaterThanOrEqual",
            "value": 1000,
        },
    ],
}


def git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(project), *args],
        check=True,
        capture_output=True,
    )


def committed(project: Path) -> Path:
    """The project's copy (program, stacks, shipped routes and sample) committed as the base revision."""
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    return project


def the_change(routes: list[dict[str, Any]]) -> None:
    """Loans also on update, cars switched off, a new large-payments route, a reworded description."""
    by_id = {r["id"]: r for r in routes}
    by_id["loan-created"]["operations"] = ["create", "snapshot", "update"]
    by_id["car-created"]["enabled"] = False
    by_id["loan-payment-submitted"]["description"] = "Payments as submitted by the borrower"
    routes.append(LARGE_PAYMENTS)


def statement_names(project: Path) -> dict[str, str]:
    """What `cdcctl sql` (the region layer's own function) declares for the project's routes now."""
    with contextlib.chdir(project):
        return {
            stack: next(s.name for s in stack_statements(stack_settings(stack)) if statement_kind(s.name) == "routes")
            for stack in REGION_STACKS
        }


RISK_READER = "arn:aws:iam::111122223333:role/risk-consumer-app"


@pytest.fixture(scope="module")
def diffed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = committed(copy_project(tmp_path_factory.mktemp("routes-diff")))
    before = statement_names(project)
    edit_routes(project, the_change)
    for region_stack in ("prod-east", "prod-west"):  # protected: the new consumer's key readers come with it
        edit_stack(project, region_stack, {"credentials.consumers.risk-consumer.readers": [RISK_READER]})
    after = statement_names(project)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(project), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["routes", "diff", "--base", "HEAD", "--json"])
    assert code == 0, err.getvalue()
    return {"report": json.loads(out.getvalue()), "stderr": err.getvalue(), "before": before, "after": after}


def ops_of(record: dict[str, Any]) -> str:
    return str(record["__op"])


def payment_amount(record: dict[str, Any]) -> Any:
    entity = json.loads(record["event_data"])["eventBody"]["entities"][0]
    return entity.get("updatedAttributes", {}).get("payment", {}).get("amount")


def ids(records: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(r["id"] for r in records))


def topic(report: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [t for t in report["samples"]["topics"] if t["topic"] == name]
    return found


@pytest.mark.engine
def test_routes_added_removed_and_changed_are_listed_by_id(diffed: dict[str, Any]) -> None:
    changes = {c["id"]: c for c in diffed["report"]["routes"]}
    assert set(changes) == {"loan-created", "car-created", "loan-payment-submitted", "large-payments"}
    assert changes["loan-created"]["fields"] == {
        "operations": {"before": ["create", "snapshot"], "after": ["create", "snapshot", "update"]}
    }
    assert changes["car-created"]["fields"] == {"enabled": {"before": True, "after": False}}
    assert list(changes["loan-payment-submitted"]["fields"]) == ["description"]
    assert changes["large-payments"]["change"] == "added"
    assert changes["large-payments"]["route"]["conditions"] == LARGE_PAYMENTS["conditions"]


@pytest.mark.engine
def test_each_region_stack_replaces_its_statement_on_the_carry_over_path(diffed: dict[str, Any]) -> None:
    statements = {s["stack"]: s for s in diffed["report"]["statements"]}
    assert set(statements) == set(REGION_STACKS)  # the global stack `prod` runs no statement
    for stack, s in statements.items():
        # The names are the region layer's own (what `cdcctl sql` prints before and after the edit).
        assert (s["before"], s["after"]) == (diffed["before"][stack], diffed["after"][stack])
        assert s["replaced"] and s["before"] != s["after"]
        assert s["carryOverFrom"] == s["before"]  # the successor's sql.tables.initial-offset-from
        assert s["keptStopped"] == [s["before"]]


@pytest.mark.engine
def test_a_new_route_gains_exactly_the_sample_records_its_rule_selects(diffed: dict[str, Any]) -> None:
    expected = [
        r
        for r in SAMPLE
        if ops_of(r) in ("c", "u")
        and r["event_type"] in ("LoanPaymentSubmitted", "LoanPaymentFailed")
        and isinstance(payment_amount(r), (int, float))
        and payment_amount(r) >= 1000
    ]
    impact = topic(diffed["report"], "filtered-large-payments")
    assert expected and (impact["before"], impact["after"]) == (None, len(expected))
    assert (impact["gained"], impact["lost"]) == (len(expected), 0)
    assert impact["gainedIds"] == ids(expected)[:3]


@pytest.mark.engine
def test_a_widened_route_gains_the_updates_and_loses_nothing(diffed: dict[str, Any]) -> None:
    loans = [r for r in SAMPLE if r["event_type"] == "LoanCreated"]
    updates = [r for r in loans if ops_of(r) == "u"]
    impact = topic(diffed["report"], "filtered-loan-created-events")
    assert impact["before"] == sum(ops_of(r) in ("c", "r") for r in loans)
    assert impact["after"] == impact["before"] + len(updates)
    assert (impact["gained"], impact["lost"], impact["lostIds"]) == (len(updates), 0, [])
    assert impact["gainedIds"] == ids(updates)[:3]


@pytest.mark.engine
def test_a_disabled_route_loses_everything_it_routed(diffed: dict[str, Any]) -> None:
    cars = [r for r in SAMPLE if r["event_type"] == "CarCreated" and ops_of(r) in ("c", "r")]
    impact = topic(diffed["report"], "filtered-car-created-events")
    assert (impact["before"], impact["after"], impact["gained"], impact["lost"]) == (len(cars), None, 0, len(cars))
    assert impact["lostIds"] == ids(cars)[:3]


@pytest.mark.engine
def test_untouched_topics_neither_gain_nor_lose(diffed: dict[str, Any]) -> None:
    for name in ("filtered-loan-payment-submitted-events", "filtered-service-events"):
        impact = topic(diffed["report"], name)
        assert impact["before"] == impact["after"] > 0
        assert (impact["gained"], impact["lost"]) == (0, 0)


@pytest.mark.engine
def test_progress_goes_to_stderr_phase_by_phase_and_stdout_is_the_report(diffed: dict[str, Any]) -> None:
    lines = diffed["stderr"].splitlines()
    assert all(line.startswith("[") and " s] routes diff: " in line for line in lines), lines
    phases = [line.split(" s] routes diff: ", 1)[1] for line in lines]
    engine_run = [
        "starting the Flink engine",
        "engine up; routing on Flink",
        "reading the routed topics back",
        "writing",
    ]
    assert [p.split(" /")[0] for p in phases] == [
        "starting the local Kafka broker",
        "base routes (HEAD) on the sample records",
        *engine_run,
        "working tree's routes on the sample records",
        *engine_run,
        "done",
    ]


@pytest.fixture
def project(project: Path) -> Path:
    return committed(project)


def test_a_change_that_routes_nothing_differently_starts_no_engine(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def reword(routes: list[dict[str, Any]]) -> None:
        routes[0]["description"] = "reworded"
        routes[1]["consumer"] = "payments-consumer"

    edit_routes(project, reword)
    for region_stack in ("prod-east", "prod-west"):  # the renamed consumer's key delivery moves with it
        edit_stack(
            project,
            region_stack,
            {
                "credentials.consumers.loan-payment-consumer": None,
                "credentials.consumers.payments-consumer.readers": ["arn:aws:iam::111122223333:role/payments-app"],
            },
        )
    assert main(["routes", "diff", "--base", "HEAD"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # nothing long ran: no progress
    assert "~ changed  loan-created" in out and 'description: "Loans created' in out
    assert "Flink not started" in out
    # The SQL is unchanged, so are the statements: a consumer is a grant, not part of the statement.
    assert out.count("unchanged, keeps running") == len(REGION_STACKS)


def test_the_working_tree_equal_to_the_base_reports_no_change(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routes", "diff", "--base", "HEAD", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["routes"] == [] and report["samples"]["rehearsed"] is False
    assert all(not s["replaced"] for s in report["statements"])


def test_an_unknown_revision_exits_2_naming_it(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "diff", "--base", "no-such-branch"]) == 2
    assert the_one_error_line(capsys).startswith("error: no-such-branch: --base: names no commit")


def test_a_missing_sample_file_exits_2_naming_it(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "diff", "--base", "HEAD", "--samples", "nope.jsonl"]) == 2
    assert the_one_error_line(capsys) == "error: nope.jsonl: --samples: cannot read: No such file or directory"


def test_an_option_like_revision_never_reaches_git(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "diff", "--base=--output=/tmp/x"]) == 2
    assert the_one_error_line(capsys).startswith("error: --output=/tmp/x: --base: is not a git revision")


def test_a_routes_file_the_base_lacks_exits_2_naming_revision_and_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "flink_sql/new-routes.yaml").write_text((project / ROUTES).read_text())
    assert main(["routes", "diff", "--base", "HEAD", "--routes", "flink_sql/new-routes.yaml"]) == 2
    line = the_one_error_line(capsys)
    assert line == "error: HEAD:flink_sql/new-routes.yaml: --base: no such file at revision HEAD"


def test_a_broken_base_file_is_named_with_its_revision(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / ROUTES).write_text("routes:\n  - id: Bad Id\n    outputTopic: t\n")
    git(project, "commit", "-q", "-am", "broken")
    (project / ROUTES).write_text((REPO / ROUTES).read_text())
    assert main(["routes", "diff", "--base", "HEAD"]) == 2
    assert the_one_error_line(capsys).startswith("error: HEAD:flink_sql/routes.yaml: routes[0].id: ")


def test_outside_a_git_repository_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.chdir(copy_project(tmp_path))  # not the `project` fixture: that one is a repository here
    assert main(["routes", "diff", "--base", "HEAD", "--samples", str(REPO / SAMPLE_RECORDS_FILE)]) == 2
    assert the_one_error_line(capsys).startswith("error: HEAD: --base: names no commit of a git repository")


def test_route_changes_tell_routing_changes_from_renames_of_prose() -> None:
    shipped = load_routes(REPO / ROUTES)
    assert route_changes(shipped, shipped) == []
    assert all(c.affects_routing for c in route_changes(shipped, shipped[1:]))  # removed
    assert all(c.affects_routing for c in route_changes(shipped[1:], shipped))  # added


def test_the_sample_covers_every_event_type_the_routes_and_seeds_name() -> None:
    routes = yaml.safe_load((REPO / ROUTES).read_text())["routes"]
    named = {c["value"] for r in routes for c in r.get("conditions", []) if "value" in c}
    seeds = {"LoanCreated", "LoanPaymentSubmitted", "CarCreated", "CarServiceDone"}
    in_sample = {r["event_type"] for r in SAMPLE} | {r["event_name"] for r in SAMPLE}
    assert named | seeds <= in_sample
    assert {ops_of(r) for r in SAMPLE} == {"c", "u", "d", "r"}
    assert any(r["__deleted"] == "true" for r in SAMPLE) and any(r["saved_date"] is None for r in SAMPLE)
