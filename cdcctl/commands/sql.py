"""`cdcctl sql --stack NAME`: the Flink statements the stack would deploy, in order, under their names.

Built from the stack's settings and routes with the same function the region layer declares the
statement with (flink_sql.statement), not from a full offline plan: thousands of routes print in
seconds. A region stack's environment name comes from its global stack's file."""

from __future__ import annotations

import argparse

from cdcctl.stack_config import environment_name, stack_settings
from flink_sql.routes import load_routes
from flink_sql.statement import StatementSpec, backfill_sql, backfill_statement, region_statement
from settings.model import GlobalStackSettings, Settings
from stacks.routes_fit import check_routes_fit_settings


def run(args: argparse.Namespace) -> int:
    statements = stack_statements(stack_settings(args.stack))
    for spec in statements:
        print(f"-- statement: {spec.name}{'  (stopped)' if spec.stopped else ''}")
        for key, value in sorted(spec.properties.items()):
            print(f"-- {key} = {value}")
        print(f"{spec.sql};\n")
        for route in spec.history.routes if spec.history else ():
            print(f"-- when route {route.id} is added to a deployed statement set (backfill: true), its history:")
            print(f"-- statement: {backfill_statement(spec, route).name}")
            sql = backfill_sql(spec, route, "<stopped predecessor's latest_offsets_timestamp, epoch ms>")
            print("\n".join(f"--   {line}" for line in sql.splitlines()) + "\n")
    print(
        f"-- {len(statements)} statement(s). Tables are not created by statements: Flink infers them from "
        "the topics and key and value schemas the stack declares (cdcctl plan)."
    )
    return 0


def stack_statements(settings: Settings) -> list[StatementSpec]:
    """What a first deployment of the stack declares, in the order it runs (a later one may also keep a
    stopped predecessor, and backfill added routes)."""
    if isinstance(settings, GlobalStackSettings):
        return []
    environment = environment_name(settings)
    routes = load_routes(settings.routes_file)
    check_routes_fit_settings(settings, routes)  # what the plan refuses, sql refuses too
    statement = region_statement(settings.stack, environment, settings.region, routes)
    # The raw table's settings run (and complete) before the statement set starts.
    return [*([statement.table_settings] if statement.table_settings else []), statement]
