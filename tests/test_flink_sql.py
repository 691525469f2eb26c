"""Every statement the compiler can emit plans on real Apache Flink (EXPLAIN in one warm JVM)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.raw_record import RAW_COLUMNS
from flink_sql.compiler import CompiledRoutes, compile_routes
from flink_sql.routes import OPERATIONS, load_routes, parse_routes
from rehearsal.errors import EngineError
from rehearsal.routing import FlinkPlanner, flink_planner, local_table_options
from tests.helpers import REPO

pytestmark = pytest.mark.engine

# The non-push-down source that stands in for Kafka, and sinks that discard: planning only.
KAFKA_LIKE = {"connector": "datagen", "number-of-rows": "10"}
DISCARD = {"connector": "blackhole"}


@pytest.fixture(scope="module")
def planner() -> Iterator[FlinkPlanner]:
    with flink_planner() as p:
        yield p


def explain(planner: FlinkPlanner, compiled: CompiledRoutes) -> str:
    return planner.explain([compiled.source_ddl, *compiled.sink_ddl], compiled.statement_set)


def optimized(plan: str) -> str:
    return plan.split("== Optimized Execution Plan ==")[-1]


@pytest.mark.parametrize("routes_file", ["flink_sql/routes.yaml", "tests/data/rehearsal-routes.yaml"])
def test_statement_set_plans_as_one_job_reading_the_raw_topic_once(planner: FlinkPlanner, routes_file: str) -> None:
    routes = load_routes(REPO / routes_file)
    compiled = compile_routes(routes, "raw-business-events", KAFKA_LIKE, DISCARD)
    plan = optimized(explain(planner, compiled))
    enabled = [r for r in routes if r.enabled]
    assert plan.count("TableSourceScan(") == 1
    assert plan.count("Reused(reference_id=") == len(enabled)
    assert plan.count("Sink(table=") == len(enabled)


def test_planner_rejects_invalid_sql(planner: FlinkPlanner) -> None:
    """The check can fail: a statement referring to a missing column does not plan."""
    compiled = compile_routes(load_routes(REPO / "flink_sql/routes.yaml"), "raw", KAFKA_LIKE, DISCARD)
    with pytest.raises(EngineError, match=r"(?i)column|field"):
        planner.explain([compiled.source_ddl, *compiled.sink_ddl], compiled.statement_set.replace("`__op`", "`op`", 1))


# --- random valid route files, hostile literals included ---------------------------------------
HOSTILE_TEXT = st.text(
    alphabet=st.sampled_from(list("'`\"\\\n\t ;-\u2013☃ü🙂") + list(string.ascii_letters + string.digits)), max_size=12
)
NUMBERS = st.one_of(st.integers(-(10**12), 10**12), st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
JSON_PATHS = st.lists(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}(\[[0-9]\])?", fullmatch=True), min_size=1, max_size=4
).map(lambda parts: "event_data." + ".".join(parts))
STRING_COLUMNS = [c.name for c in RAW_COLUMNS if not c.numeric]


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "number", "json-string", "json-number", "null", "regex"]))
    field = draw(st.sampled_from(STRING_COLUMNS)) if kind in ("string", "null", "regex") else "__ts_ms"
    if kind.startswith("json"):
        field = draw(JSON_PATHS)
    if kind == "null":
        return {"field": field, "operator": draw(st.sampled_from(["isNull", "isNotNull"]))}
    if kind == "regex":
        return {"field": field, "operator": "matches", "value": re.escape(draw(HOSTILE_TEXT)) or "x"}
    values = HOSTILE_TEXT if kind in ("string", "json-string") else NUMBERS
    operators = ["equals", "notEquals", "in", "notIn"]
    if values is NUMBERS:
        operators += ["greaterThan", "lessThan", "greaterThanOrEqual", "lessThanOrEqual", "between"]
    operator = draw(st.sampled_from(operators))
    if operator in ("in", "notIn"):
        return {"field": field, "operator": operator, "values": draw(st.lists(values, min_size=1, max_size=4))}
    if operator == "between":
        return {"field": field, "operator": operator, "values": sorted(draw(st.lists(NUMBERS, min_size=2, max_size=2)))}
    return {"field": field, "operator": operator, "value": draw(values)}


@st.composite
def route_files(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    return {
        "routes": [
            {
                "id": f"route-{i}",
                "outputTopic": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True)) + f"-{i}",
                "operations": draw(st.lists(st.sampled_from(list(OPERATIONS)), min_size=1, max_size=4, unique=True)),
                "match": draw(st.sampled_from(["all", "any"])),
                "conditions": draw(st.lists(conditions(), max_size=4)),
            }
            for i in range(count)
        ]
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=route_files())
def test_any_valid_route_file_plans_on_flink(planner: FlinkPlanner, document: dict[str, Any]) -> None:
    routes = parse_routes(document, "generated.yaml")
    compiled = compile_routes(routes, "raw-business-events", KAFKA_LIKE, DISCARD)
    plan = optimized(explain(planner, compiled))
    assert plan.count("Sink(table=") == len(routes)


def test_local_rehearsal_tables_plan_too(planner: FlinkPlanner, tmp_path: Any) -> None:
    routes = load_routes(REPO / "tests/data/rehearsal-routes.yaml")
    compiled = compile_routes(
        routes, "raw-business-events", local_table_options(tmp_path), local_table_options(tmp_path)
    )
    assert "Sink(table=" in explain(planner, compiled)
