"""The routing statement as deployed: its name, SQL and properties, and how a changed statement is
replaced. Pure Python: the region layer declares it, `cdcctl sql` prints it without a plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core import naming
from flink_sql.compiler import compile_routes, registry_options
from flink_sql.routes import Route

CARRY_OVER = "sql.tables.initial-offset-from"


@dataclass(frozen=True)
class StatementSpec:
    """One generation of the routing statement as declared to Confluent."""

    name: str
    sql: str
    properties: dict[str, str]
    stopped: bool = False

    def export(self) -> dict[str, Any]:
        return {"name": self.name, "sql": self.sql, "properties": self.properties}


def statement_generations(previous: Mapping[str, Any] | None, current: StatementSpec) -> list[StatementSpec]:
    """The statements to declare, given what the last deployment exported.

    Unchanged SQL keeps the running statement exactly as deployed. Changed SQL declares the new
    statement reading from the old one's offsets and the old one STOPPED (not deleted: the new one
    stays pending until it is stopped); anything older is dropped, so Pulumi deletes it. Statements
    hold stateless routes, which is what carry-over supports.
    """
    if not previous:
        return [current]
    if previous["name"] == current.name:
        carried = {k: v for k, v in previous["properties"].items() if k == CARRY_OVER}
        return [StatementSpec(current.name, current.sql, {**current.properties, **carried})]
    stopped = StatementSpec(previous["name"], previous["sql"], dict(previous["properties"]), stopped=True)
    successor = StatementSpec(current.name, current.sql, {**current.properties, CARRY_OVER: previous["name"]})
    return [stopped, successor]


def routing_statement(
    stack: str, environment_name: str, region: str, routes: tuple[Route, ...], raw_topic: str, value_format: str
) -> StatementSpec:
    """The region's one statement set, named after its SQL, resolving tables in the environment
    (catalog) and the region's cluster (database), both by display name."""
    sql = compile_routes(routes, raw_topic, registry_options(value_format)).statement_set
    properties = {
        "sql.current-catalog": environment_name,
        "sql.current-database": naming.display_name(environment_name, region),
    }
    return StatementSpec(naming.statement_name(stack, sql), sql, properties)
