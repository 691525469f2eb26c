"""The raw CDC record: the one definition the connector, Flink DDL, schemas and rehearsal derive from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of the raw record as Flink and JSON Schema see it."""

    name: str
    flink_type: str  # Flink SQL type
    json_type: str  # JSON Schema type
    numeric: bool = False
    primary_key: bool = False  # a field of the record's Kafka key (Debezium: one per primary-key column)


# Flat business_events columns, then the metadata ExtractNewRecordState adds (add.fields=op,table,ts_ms
# and delete.handling.mode=rewrite for __deleted).
RAW_COLUMNS: tuple[Column, ...] = (
    Column("id", "STRING", "string", primary_key=True),
    Column("event_name", "STRING", "string"),
    Column("event_type", "STRING", "string"),
    Column("created_date", "STRING", "string"),
    Column("saved_date", "STRING", "string"),
    Column("event_data", "STRING", "string"),
    Column("__op", "STRING", "string"),
    Column("__table", "STRING", "string"),
    Column("__ts_ms", "BIGINT", "integer", numeric=True),
    Column("__deleted", "STRING", "string"),
)
RAW_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in RAW_COLUMNS)
COLUMNS_BY_NAME: dict[str, Column] = {c.name: c for c in RAW_COLUMNS}
# The raw topic's key: the connector keys each record by the row's primary key (Debezium PostgreSQL
# docs, "change event keys"), and routing keeps that key on every routed topic.
KEY_COLUMNS: tuple[Column, ...] = tuple(c for c in RAW_COLUMNS if c.primary_key)

# How the source table must type each flat column for Debezium to send what the raw record declares
# (timestamptz -> ISO-8601 string, json/jsonb -> JSON text; a timestamp WITHOUT time zone would arrive
# as epoch microseconds, a number: a retyped column).
SOURCE_COLUMN_TYPES: dict[str, tuple[str, ...]] = {
    "id": ("character varying", "text"),
    "event_name": ("character varying", "text"),
    "event_type": ("character varying", "text"),
    "created_date": ("timestamp with time zone",),
    "saved_date": ("timestamp with time zone",),
    "event_data": ("jsonb", "json"),
}

# The JSON column whose nested paths routes may test with `event_data.<path>`.
JSON_COLUMN = "event_data"
RAW_TOPIC = "raw-business-events"
SOURCE_TABLE = "business_events"


def json_property(column: Column, nullable: bool) -> dict[str, object]:
    """A column as a JSON Schema property. Confluent's Flink reads `oneOf(null, T)` as a nullable T and
    a plain T as NOT NULL (CC flink/reference/serialization, "JSON Schema": nullable types are
    expressed as oneOf(NullSchema, T))."""
    plain: dict[str, object] = {"type": column.json_type}
    return {"oneOf": [{"type": "null"}, plain]} if nullable else plain


# The routed topics' value fields: every column, nullable. Their key fields: the primary-key columns,
# NOT NULL, as the connector's key converter writes a primary key (a non-optional Connect field).
VALUE_PROPERTIES: dict[str, dict[str, object]] = {c.name: json_property(c, nullable=True) for c in RAW_COLUMNS}
KEY_PROPERTIES: dict[str, dict[str, object]] = {c.name: json_property(c, nullable=False) for c in KEY_COLUMNS}


def value_json_schema(title: str) -> dict[str, object]:
    """JSON Schema of a topic holding raw records (registered for every routed topic's value), so
    Flink infers exactly the raw columns for the tables it writes."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": title,
        "type": "object",
        "properties": VALUE_PROPERTIES,
        "additionalProperties": False,
    }


def key_json_schema() -> dict[str, object]:
    """JSON Schema of the raw topic's key, registered for every routed topic's key: the same key on
    every topic, so a consumer can follow one row across them."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"{SOURCE_TABLE}.Key",
        "type": "object",
        "properties": KEY_PROPERTIES,
        "required": list(KEY_PROPERTIES),
        "additionalProperties": False,
    }


OPERATION_CODES = ("c", "u", "d", "r")


def record_problems(record: object) -> list[str]:
    """Why a record is not a raw CDC record (empty if it is): a missing column, a missing or unknown
    `__op`, or a wrongly typed column must fail loudly, never route silently. Columns beyond the raw
    ones are not a problem: production's statements read the columns they were created with and
    ignore the rest (see added_columns)."""
    if not isinstance(record, dict):
        return ["is not a JSON object"]
    problems = []
    missing = [name for name in RAW_COLUMN_NAMES if name not in record]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if "__op" in record and record["__op"] not in OPERATION_CODES:
        problems.append(f"__op is {record['__op']!r}, not one of {', '.join(OPERATION_CODES)}")
    for column in RAW_COLUMNS:
        value = record.get(column.name)
        expected = int if column.numeric else str
        if value is None and column.primary_key and column.name in record:
            problems.append(f"{column.name} is the primary key (the record's Kafka key): it cannot be null")
        elif value is not None and (isinstance(value, bool) or not isinstance(value, expected)):
            nullable = "" if column.primary_key else " or null"
            problems.append(f"{column.name} must be {column.json_type}{nullable}, got {value!r}")
    return problems


def added_columns(record: dict[str, object]) -> list[str]:
    """Columns a record carries beyond the raw ones (a column added to the table)."""
    return sorted(set(record) - set(RAW_COLUMN_NAMES))


def table_drift(columns: dict[str, str], table: str = SOURCE_TABLE) -> tuple[list[str], list[str]]:
    """(problems, added) of the source table's columns (name -> PostgreSQL data type) against what
    the raw record needs: a removed or retyped flat column breaks every route, the routed schemas and
    the raw subject's BACKWARD_TRANSITIVE compatibility; an added one is ignored by routing."""
    problems = []
    for name, allowed in SOURCE_COLUMN_TYPES.items():
        if name not in columns:
            problems.append(
                f"{table}.{name} was removed or renamed: every route, the routed topics' schemas and the raw "
                "subject depend on it (restore it, or change core/raw_record.py, the routes and schemas together)"
            )
        elif columns[name] not in allowed:
            problems.append(
                f"{table}.{name} is {columns[name]}, not {' or '.join(allowed)}: Debezium would send it as a "
                "different JSON type, which the raw subject refuses and Flink's raw table cannot read"
            )
    return problems, sorted(set(columns) - set(SOURCE_COLUMN_TYPES))
