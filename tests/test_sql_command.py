"""`cdcctl sql` prints, without a plan, exactly the statements the offline plan declares."""

from __future__ import annotations

import pytest

from cdcctl.commands.sql import stack_statements
from cdcctl.plan import Plan
from cdcctl.stack_config import stack_settings
from tests.helpers import STACKS, of_type


@pytest.mark.parametrize("stack", STACKS)
def test_sql_statements_are_the_plans_flink_statements(plans: dict[str, Plan], stack: str) -> None:
    printed = [(s.name, s.sql, s.properties) for s in stack_statements(stack_settings(stack))]
    planned = [
        (r.inputs["statementName"], r.inputs["statement"], r.inputs["properties"])
        for r in of_type(plans[stack], "FlinkStatement")
    ]
    assert printed == planned
    assert (stack == "prod") == (printed == [])
