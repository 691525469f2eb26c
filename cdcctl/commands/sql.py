"""`cdcctl sql --stack NAME`: the Flink statements the stack would deploy, in order, under their names.

Built from the stack's settings and routes with the same function the region layer declares the
statement with (flink_sql.statement), not from a full offline plan: thousands of routes print in
seconds. A region stack's environment name comes from its global stack's file."""

from __future__ import annotations

import argparse

from cdcctl.stack_config import stack_settings
from core.config_node import ConfigError
from flink_sql.routes import load_routes
from flink_sql.statement import StatementSpec, routing_statement
from infra.settings import NAMESPACE, GlobalStackSettings, RegionStackSettings, Settings


def run(args: argparse.Namespace) -> int:
    statements = stack_statements(stack_settings(args.stack))
    for spec in statements:
        print(f"-- statement: {spec.name}{'  (stopped)' if spec.stopped else ''}")
        for key, value in sorted(spec.properties.items()):
            print(f"-- {key} = {value}")
        print(f"{spec.sql};\n")
    print(
        f"-- {len(statements)} statement(s). Tables are not created by statements: Flink infers them from "
        "the topics and value schemas the stack declares (cdcctl plan)."
    )
    return 0


def stack_statements(settings: Settings) -> list[StatementSpec]:
    """What a first deployment of the stack declares (a later one may also keep a stopped predecessor)."""
    if isinstance(settings, GlobalStackSettings):
        return []
    from stacks import check_routes_fit_settings

    environment = _environment_name(settings)
    routes = load_routes(settings.routes_file)
    check_routes_fit_settings(settings, routes)  # what the plan refuses, sql refuses too
    region = settings.region
    return [
        routing_statement(
            settings.stack,
            environment,
            region.region,
            routes,
            region.raw_topic,
            region.cdc.value_format,
            private_endpoint=region.private_link is not None,
            key_generation=region.flink_key_generation,
        )
    ]


def _environment_name(settings: Settings) -> str:
    if not isinstance(settings, RegionStackSettings):
        return settings.glob.environment.name
    global_stack = settings.global_stack.rsplit("/", 1)[-1]
    global_settings = stack_settings(global_stack)
    if isinstance(global_settings, GlobalStackSettings):
        return global_settings.glob.environment.name
    raise ConfigError(settings.file, f"{NAMESPACE}:globalStack", f"{global_stack!r} is not a global stack")
