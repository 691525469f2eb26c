"""The routing statement as deployed: its name, SQL and properties, and how a changed statement is
replaced. Pure Python: the region layer declares it, `cdcctl sql` prints it without a plan."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import naming
from flink_sql.compiler import compile_routes, registry_options
from flink_sql.routes import Route

if TYPE_CHECKING:  # types only: the settings model sits below flink_sql and imports no Pulumi
    from settings.model import RegionSettings

CARRY_OVER = "sql.tables.initial-offset-from"


@dataclass(frozen=True)
class StatementSpec:
    """One generation of the routing statement as declared to Confluent. `key_generation` names the
    deployer's Flink API key it is submitted, stopped and deleted with (see RoutingStatement);
    `rest_endpoint` the endpoint a predecessor was submitted to (None: this deployment's endpoint)."""

    name: str
    sql: str
    properties: dict[str, str]
    key_generation: int = 1
    stopped: bool = False
    rest_endpoint: str | None = None

    def export(self) -> dict[str, Any]:
        return {"name": self.name, "sql": self.sql, "properties": self.properties, "keyGeneration": self.key_generation}

    @classmethod
    def from_export(cls, exported: Mapping[str, Any], stopped: bool = False) -> StatementSpec:
        """The statement a previous deployment exported, with the key and endpoint it was submitted
        with (a `rest_endpoint` change would force its replacement; older exports lack both)."""
        return cls(
            exported["name"],
            exported["sql"],
            dict(exported["properties"]),
            int(exported.get("keyGeneration", 1)),
            stopped,
            exported.get("restEndpoint"),
        )


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
        return [StatementSpec(current.name, current.sql, {**current.properties, **carried}, current.key_generation)]
    stopped = StatementSpec.from_export(previous, stopped=True)
    successor = StatementSpec(
        current.name, current.sql, {**current.properties, CARRY_OVER: previous["name"]}, current.key_generation
    )
    return [stopped, successor]


def routing_statement(
    stack: str,
    environment_name: str,
    region: str,
    routes: tuple[Route, ...],
    raw_topic: str,
    value_format: str,
    private_endpoint: bool,
    key_generation: int,
) -> StatementSpec:
    """The region's one statement set, resolving tables in the environment (catalog) and the region's
    cluster (database), both by display name.

    Its name hashes every input Confluent will not change on a running statement, so changing any of
    them declares a new statement that carries the old one's offsets over instead of a delete and a
    re-create (which would re-read the raw topic from the default offset: duplicates downstream).
    Provider rules (terraform-provider-confluent resource_flink_statement.go, REFERENCE.md "Flink"):
    `statement`, `rest_endpoint`, `organization`, `environment` force replacement; a changed
    `properties` plans as an update and then fails at apply (PR #1118); an update may change only
    `stopped` (alone), `properties_sensitive`, and `principal`/`compute_pool` on resume; credentials
    are accepted in place only since PR #1174 (2026-08), which the pinned pulumi-confluentcloud 2.87
    may predate. Hence: SQL, properties, the endpoint (public or the network's private one) and the
    deployer key generation are all in the name. The environment and region are in the properties.
    """
    sql = compile_routes(routes, raw_topic, registry_options(value_format)).statement_set
    properties = {
        "sql.current-catalog": environment_name,
        "sql.current-database": naming.display_name(environment_name, region),
    }
    identity = (
        sql,
        json.dumps(properties, sort_keys=True),
        "endpoint=private" if private_endpoint else "endpoint=public",
        f"deployer-key={key_generation}",
    )
    return StatementSpec(naming.statement_name(stack, *identity), sql, properties, key_generation)


def region_statement(
    stack: str, environment_name: str, region: RegionSettings, routes: tuple[Route, ...]
) -> StatementSpec:
    """The statement a region's settings deploy: the one call the region layer, `cdcctl sql` and
    `cdcctl routes diff` share (a PRIVATELINK network means the private Flink endpoint)."""
    return routing_statement(
        stack,
        environment_name,
        region.region,
        routes,
        region.raw_topic,
        region.cdc.value_format,
        private_endpoint=region.private_link is not None,
        key_generation=region.flink_key_generation,
    )
