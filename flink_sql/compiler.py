"""Routes -> Flink SQL. Every identifier is backquoted and every literal escaped here; no user value
reaches SQL any other way. Pure Python: the program and the rehearsal engine import the same code.

Output per region: the raw source table, one sink table per enabled route (both derived from the raw
record), and ONE `EXECUTE STATEMENT SET` holding every enabled route's INSERT, so the raw topic is
read by one job. Every INSERT writes the raw record's key too, so a routed record keeps its raw
record's key and all changes of one row land on one partition, in order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.raw_record import JSON_COLUMN, KEY_COLUMNS, KEY_PROPERTIES, RAW_COLUMNS, VALUE_PROPERTIES, Column
from flink_sql.routes import Condition, Route, Scalar

# WITH options of the tables on Confluent Cloud: the CDC value format decides the registry format.
REGISTRY_FORMATS = {"JSON_SR": "json-registry", "AVRO": "avro-registry", "PROTOBUF": "proto-registry"}
_COMPARISONS = {
    "equals": "=",
    "notEquals": "<>",
    "greaterThan": ">",
    "lessThan": "<",
    "greaterThanOrEqual": ">=",
    "lessThanOrEqual": "<=",
}

# How Confluent infers a table from a topic's key and value subjects (CC flink/reference/statements/
# create-table, "Inferred tables"): a key field contained in the value by name AND type including
# nullability is one column; otherwise it is its own column named with the prefix `key_`
# ('key.fields-prefix'). Either way the table is DISTRIBUTED BY HASH of the key columns, which sets
# the Kafka message key of every row written (same page, "DISTRIBUTED BY").
KEY_PREFIX = "key_"


def key_column_name(column: Column) -> str:
    """The routed tables' column for one key field, by that rule applied to the registered schemas:
    the key's `id` is NOT NULL and the value's nullable (core/raw_record.py), so it is `key_id`."""
    contained = KEY_PROPERTIES[column.name] == VALUE_PROPERTIES.get(column.name)
    return column.name if contained else KEY_PREFIX + column.name


def identifier(name: str) -> str:
    """A backquoted Flink identifier (a backquote inside is doubled)."""
    return "`" + name.replace("`", "``") + "`"


def string_literal(value: str) -> str:
    """A Flink string literal: quotes doubled; backslash is not an escape in Flink SQL."""
    return "'" + value.replace("'", "''") + "'"


def number_literal(value: int | float) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return str(value) if isinstance(value, int) else repr(float(value))


def literal(value: Scalar) -> str:
    return string_literal(value) if isinstance(value, str) else number_literal(value)


@dataclass(frozen=True)
class CompiledRoutes:
    """The SQL of one region: tables (DDL) and the single statement set."""

    source_ddl: str
    sink_ddl: tuple[str, ...]
    statement_set: str
    inserts: tuple[str, ...]  # the statement set's INSERTs, each on its own (benchmarks, debugging)


def compile_routes(
    routes: Sequence[Route],
    raw_topic: str,
    source_options: Mapping[str, str],
    sink_options: Mapping[str, str] | None = None,
    sink_options_for: Mapping[str, Mapping[str, str]] | None = None,
) -> CompiledRoutes:
    """Compile the enabled routes. Options fill the tables' WITH clauses: the deployed registry ones,
    or local filesystem ones for a rehearsal (`sink_options_for` gives per-topic options)."""
    enabled = [r for r in routes if r.enabled]
    inserts = tuple(insert_statement(route, raw_topic) for route in enabled)
    return CompiledRoutes(
        source_ddl=table_ddl(raw_topic, source_options),
        sink_ddl=tuple(
            table_ddl(r.output_topic, (sink_options_for or {}).get(r.output_topic, sink_options or {}), keyed=True)
            for r in enabled
        ),
        statement_set=statement_set(inserts),
        inserts=inserts,
    )


def registry_options(value_format: str) -> dict[str, str]:
    """WITH options of the deployed tables for the stack's CDC value format."""
    return {"value.format": REGISTRY_FORMATS[value_format]}


def table_ddl(name: str, options: Mapping[str, str], keyed: bool = False) -> str:
    """A table of raw records; `keyed`: a routed table as Confluent infers it, its NOT NULL key
    columns first (the rehearsal's stand-in; the deployed tables are inferred, see KEY_PREFIX)."""
    key = [f"  {identifier(key_column_name(c))} {c.flink_type} NOT NULL" for c in KEY_COLUMNS] if keyed else []
    columns = ",\n".join(key + [f"  {identifier(c.name)} {c.flink_type}" for c in RAW_COLUMNS])
    with_clause = ",\n".join(f"  {string_literal(k)} = {string_literal(v)}" for k, v in options.items())
    return f"CREATE TABLE {identifier(name)} (\n{columns}\n) WITH (\n{with_clause}\n)"


def statement_set(inserts: Sequence[str]) -> str:
    body = "".join(f"  {insert};\n" for insert in inserts)
    return f"EXECUTE STATEMENT SET\nBEGIN\n{body}END"


def insert_statement(route: Route, raw_topic: str, source_hints: Mapping[str, str] | None = None) -> str:
    """INSERT with explicit columns on both sides: the raw record's key fields into the routed key
    columns, then the raw columns unchanged. `source_hints`: dynamic options of the raw table for this
    INSERT alone (`/*+ OPTIONS(...) */`, e.g. a backfill's bounded scan)."""
    keys = [key_column_name(c) for c in KEY_COLUMNS]
    targets = ", ".join(identifier(name) for name in (*keys, *(c.name for c in RAW_COLUMNS)))
    selected = ", ".join(
        [
            *(f"{identifier(c.name)} AS {identifier(k)}" for c, k in zip(KEY_COLUMNS, keys, strict=True)),
            *(identifier(c.name) for c in RAW_COLUMNS),
        ]
    )
    return (
        f"INSERT INTO {identifier(route.output_topic)} ({targets})\n"
        f"  SELECT {selected}\n  FROM {identifier(raw_topic)}{_hints(source_hints)}\n  WHERE {where_clause(route)}"
    )


def _hints(options: Mapping[str, str] | None) -> str:
    if not options:
        return ""
    pairs = ", ".join(f"{string_literal(k)} = {string_literal(v)}" for k, v in options.items())
    return f" /*+ OPTIONS({pairs}) */"


def where_clause(route: Route) -> str:
    operations = f"{identifier('__op')} IN ({', '.join(string_literal(op) for op in route.operations)})"
    if not route.conditions:
        return operations
    joiner = " AND " if route.match == "all" else " OR "
    return f"{operations} AND ({joiner.join(condition_sql(c) for c in route.conditions)})"


def condition_sql(condition: Condition) -> str:
    """SQL semantics: a missing/NULL field makes every test but isNull false (NULL in WHERE)."""
    op, values = condition.operator, condition.values
    numeric = any(not isinstance(v, str) for v in values)
    field = field_sql(condition, numeric)
    if op == "isNull":
        return f"{field} IS NULL"
    if op == "isNotNull":
        return f"{field} IS NOT NULL"
    if op in _COMPARISONS:
        return f"{field} {_COMPARISONS[op]} {literal(values[0])}"
    if op in ("in", "notIn"):
        negation = "NOT " if op == "notIn" else ""
        return f"{field} {negation}IN ({', '.join(literal(v) for v in values)})"
    if op == "between":
        return f"{field} BETWEEN {literal(values[0])} AND {literal(values[1])}"
    if op == "matches":
        return f"REGEXP({field}, {literal(values[0])})"
    raise ValueError(f"unknown operator {op}")


def field_sql(condition: Condition, numeric: bool) -> str:
    """A raw column, or JSON_VALUE of a path in event_data; numeric tests cast the JSON text to DOUBLE.

    TRY_CAST(JSON_VALUE(..) AS DOUBLE), not `RETURNING DOUBLE`: the latter threw ClassCastException on
    integer JSON numbers (REFERENCE.md); TRY_CAST also turns non-numeric text into NULL (= no match).
    """
    path = condition.json_path
    if path is None:
        return identifier(condition.field)
    value = f"JSON_VALUE({identifier(JSON_COLUMN)}, {string_literal(path)})"
    return f"TRY_CAST({value} AS DOUBLE)" if numeric else value
