"""The routing statement as deployed: its name, SQL and properties, and how a changed statement is
replaced. Pure Python: the region layer declares it, `cdcctl sql` prints it without a plan."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core import naming
from flink_sql.compiler import compile_routes, identifier, insert_statement, registry_options, string_literal
from flink_sql.routes import Route

if TYPE_CHECKING:  # types only: the settings model sits below flink_sql and imports no Pulumi
    from settings.model import RegionSettings

CARRY_OVER = "sql.tables.initial-offset-from"
# The topics a deployed statement set routes to, read back from its SQL (the compiler writes each INSERT
# so; topic names hold no backtick).
_ROUTED_TOPIC = re.compile(r"INSERT INTO `([^`]+)`")


@dataclass(frozen=True)
class History:
    """What a generation needs to backfill routes added to it: the stack (statement names), the raw table
    and the enabled routes with `backfill: true`."""

    stack: str
    raw_topic: str
    routes: tuple[Route, ...]


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
    history: History | None = None  # this deployment's statement set only (a predecessor needs none)
    # The raw table's settings statement this generation starts after (this deployment's only).
    table_settings: StatementSpec | None = None

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


def added_routes(previous: Mapping[str, Any] | None, current: StatementSpec) -> tuple[Route, ...]:
    """The routes to backfill: on a new generation (not a first deployment, not the same statement), each
    backfilled route whose topic the predecessor's SQL does not route to. The predecessor's SQL is what
    was deployed, so this holds for exports of any earlier version of the program."""
    if not previous or previous["name"] == current.name or current.history is None:
        return ()
    routed = set(_ROUTED_TOPIC.findall(previous["sql"]))
    return tuple(r for r in current.history.routes if r.output_topic not in routed)


def backfill_name(successor: StatementSpec, route: Route) -> str:
    """A backfill's statement name: known before the predecessor stops (its bound is not), hashing the
    successor's name (itself a hash of the statement set with this route's INSERT) and the route."""
    assert successor.history is not None
    return naming.statement_name(successor.history.stack, successor.name, route.id, kind="backfill")


def bound_millis(stopped_at: str) -> str:
    """A backfill's bound: the stopped predecessor's `latest_offsets_timestamp` (RFC 3339 UTC, provider
    resource_flink_statement.go setFlinkStatementAttributes) in epoch milliseconds."""
    moment = datetime.fromisoformat(stopped_at.replace("Z", "+00:00")) if stopped_at else datetime.min
    if moment.year < 2000:  # the provider formats an absent status timestamp as Go's zero time, year 1
        raise ValueError(f"the stopped statement reports no offsets timestamp ({stopped_at!r}): no backfill bound")
    return str(round(moment.timestamp() * 1000))


def history_options(bound: str) -> dict[str, str]:
    """The raw table's dynamic options for a backfill: from the earliest retained record, bounded at
    `bound` (epoch ms). Confluent documents `scan.bounded.mode` latest-offset | timestamp | unbounded
    (create-table); `specific-offsets` is not documented as a bounded mode there, so the bound is the
    timestamp (README "Adding a route": the window it may duplicate)."""
    return {
        "scan.startup.mode": "earliest-offset",
        "scan.bounded.mode": "timestamp",
        "scan.bounded.timestamp-millis": bound,
    }


def backfill_statement(successor: StatementSpec, route: Route) -> StatementSpec:
    """A bounded statement routing the raw topic's history into an added route's topic; it completes. Its
    SQL waits for the bound (backfill_sql). Same catalog, database and deployer key as the successor, no
    carry-over (a table with explicit options ignores it anyway: carry-over-offsets)."""
    properties = {k: v for k, v in successor.properties.items() if k != CARRY_OVER}
    return StatementSpec(backfill_name(successor, route), "", properties, successor.key_generation)


def backfill_sql(successor: StatementSpec, route: Route, bound: str) -> str:
    """The route's INSERT reading the raw table from its earliest record up to `bound` (bound_millis)."""
    assert successor.history is not None
    return insert_statement(route, successor.history.raw_topic, history_options(bound))


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
    settings = raw_table_settings(stack, raw_topic, properties, key_generation)
    identity = (
        sql,
        json.dumps(properties, sort_keys=True),
        "endpoint=private" if private_endpoint else "endpoint=public",
        f"deployer-key={key_generation}",
        # A running statement keeps the table options it started with (CC documents it for table options
        # such as late-handling.mode): a changed setting starts a generation that reads with it.
        settings.sql,
    )
    history = History(stack, raw_topic, tuple(r for r in routes if r.enabled and r.backfill))
    return StatementSpec(
        naming.statement_name(stack, *identity),
        sql,
        properties,
        key_generation,
        history=history,
        table_settings=settings,
    )


def raw_table_settings(stack: str, raw_topic: str, properties: Mapping[str, str], key_generation: int) -> StatementSpec:
    """The ALTER TABLE that sets the raw table's error handling: a record the source cannot deserialize goes
    to the dead-letter table instead of failing the statement (CC flink/how-to-guides/configure-dlq: table
    level only, source deserialization errors only; the default `fail` stops every route). It completes;
    its name hashes its SQL, properties and deployer key like the routing statement's."""
    options = {"error-handling.mode": "log", "error-handling.log.target": naming.dead_letter_topic(raw_topic)}
    pairs = ", ".join(f"{string_literal(k)} = {string_literal(v)}" for k, v in options.items())
    sql = f"ALTER TABLE {identifier(raw_topic)} SET ({pairs})"
    identity = (sql, json.dumps(dict(properties), sort_keys=True), f"deployer-key={key_generation}")
    return StatementSpec(naming.statement_name(stack, *identity, kind="table"), sql, dict(properties), key_generation)


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
