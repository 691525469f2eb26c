"""`cdcctl sql` prints, without a plan, exactly the statements the offline plan declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdcctl.__main__ import main
from cdcctl.commands.sql import stack_statements
from cdcctl.plan import Plan
from cdcctl.stack_config import stack_settings
from flink_sql.routes import load_routes
from tests.helpers import REPO, STACKS, edit_routes, of_type


@pytest.mark.parametrize("stack", STACKS)
def test_sql_statements_are_the_plans_flink_statements(plans: dict[str, Plan], stack: str) -> None:
    printed = [(s.name, s.sql, s.properties) for s in stack_statements(stack_settings(stack))]
    planned = [
        (r.inputs["statementName"], r.inputs["statement"], r.inputs["properties"])
        for r in of_type(plans[stack], "FlinkStatement")
    ]
    assert sorted(printed) == sorted(planned)
    assert (stack == "prod") == (printed == [])
    if printed:  # the raw table's error handling is set before the statement set runs
        assert printed[0][1].startswith("ALTER TABLE `raw-business-events` SET ('error-handling.mode' = 'log'")


def test_prod_east_prints_keyed_inserts(capsys: pytest.CaptureFixture[str]) -> None:
    """Every INSERT writes the raw record's `id` into the routed table's key column `key_id`."""
    assert main(["sql", "--stack", "prod-east"]) == 0
    printed = capsys.readouterr().out
    routed = [r.output_topic for r in load_routes(REPO / "flink_sql/routes.yaml") if r.enabled]
    assert routed
    for topic in routed:
        assert f"INSERT INTO `{topic}` (`key_id`, `id`, `event_name`, " in printed
    assert printed.count("\n  SELECT `id` AS `key_id`, `id`, `event_name`, ") == len(routed)


def test_sql_shows_each_routes_backfill_and_omits_it_where_backfill_is_false(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_routes(project, lambda routes: routes[0].update(backfill=False))
    assert main(["sql", "--stack", "dev"]) == 0
    printed = capsys.readouterr().out
    enabled = [r for r in load_routes(project / "flink_sql/routes.yaml") if r.enabled]
    for route in enabled:
        shown = f"-- when route {route.id} is added to a deployed statement set (backfill: true)" in printed
        assert shown == route.backfill, route.id
    assert printed.count("'scan.bounded.mode' = 'timestamp'") == len(enabled) - 1
